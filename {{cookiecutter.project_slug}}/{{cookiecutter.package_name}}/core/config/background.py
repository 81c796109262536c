"""Background work in the API process: the payment retries' timer, and throttling counters."""

from pydantic import Field

from {{ cookiecutter.package_name }}.core.config.auth import RateLimitStorageUrl
from {{ cookiecutter.package_name }}.core.config.service import ServiceSettings


class TaskQueueSettings(ServiceSettings):
    # How often this process retries orders still waiting for payment; 0 turns the retries off.
    payment_retry_interval_seconds: float = Field(default=300.0, ge=0)
    # No Redis comes with background tasks: each process keeps its own counters.
    rate_limit_storage_url: RateLimitStorageUrl = "memory://"
