"""Celery on Redis: where tasks go, how they are retried, and throttling counters shared there."""

from pydantic import Field

from {{ cookiecutter.package_name }}.core.config.auth import RateLimitStorageUrl
from {{ cookiecutter.package_name }}.core.config.service import ConnectionUrl, ServiceSettings


class TaskQueueSettings(ServiceSettings):
    celery_broker_url: ConnectionUrl = "redis://127.0.0.1:6379/0"
    celery_result_backend: ConnectionUrl = "redis://127.0.0.1:6379/1"
    celery_queue: str = "{{ cookiecutter.package_name }}"
    task_max_retries: int = Field(default=5, ge=0)
    payment_retry_delay_seconds: float = Field(default=30.0, ge=0)
    # Whole minutes: the shortest interval Sentry's cron monitors accept.
    payment_retry_interval_minutes: int = Field(default=5, gt=0)
    # Redis is there for the worker already; shared counters hold across API processes.
    rate_limit_storage_url: RateLimitStorageUrl = "redis://127.0.0.1:6379/2"
