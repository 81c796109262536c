"""The Celery app: Redis (or RabbitMQ, by URL) as broker, periodic jobs for beat."""

import asyncio
from datetime import timedelta
from typing import Any

from celery import Celery, current_app
from kombu.exceptions import OperationalError

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import AppError

TASK_MODULES = [
    "{{ cookiecutter.package_name }}.auth.tasks",
    "{{ cookiecutter.package_name }}.emails.tasks",
    "{{ cookiecutter.package_name }}.checkout.tasks",
    "{{ cookiecutter.package_name }}.users.tasks",
]
# Never let a request wait long on a broker that is down.
BROKER_TIMEOUT_SECONDS = 2.0


def create_celery_app(settings: Settings) -> Celery:
    app = Celery("{{ cookiecutter.package_name }}", include=TASK_MODULES)
    app.conf.update(
        broker_url=settings.celery_broker_url,
        result_backend=settings.celery_result_backend,
        task_default_queue=settings.celery_queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=timedelta(days=1),
        # A task is acknowledged once done, so a crashed worker's task runs again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=BROKER_TIMEOUT_SECONDS,
        broker_transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
        },
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        task_annotations={"*": {"max_retries": settings.task_max_retries}},
        beat_schedule=beat_schedule(settings),
    )
    return app


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    schedule: dict[str, dict[str, object]] = {
        "retry-pending-payments": {
            "task": "{{ cookiecutter.package_name }}.checkout.retry_pending_payments",
            "schedule": timedelta(minutes=settings.payment_retry_interval_minutes),
        }
    }
    if settings.unverified_account_sweep_interval_minutes > 0:
        schedule["remove-expired-unverified-accounts"] = {
            "task": "{{ cookiecutter.package_name }}.users.remove_expired_unverified",
            "schedule": timedelta(minutes=settings.unverified_account_sweep_interval_minutes),
        }
    return schedule


def retried_on(*errors: type[Exception], backoff_max_seconds: int = 600) -> dict[str, Any]:
    """Options of a task retried when it raises one of `errors`, up to TASK_MAX_RETRIES times.

    The waits double from one second, with jitter, and stop growing at `backoff_max_seconds`.
    """
    return {
        "autoretry_for": errors,
        "retry_backoff": True,
        "retry_backoff_max": backoff_max_seconds,
    }


class QueueUnavailableError(AppError):
    status_code = 503

    def __init__(self) -> None:
        super().__init__("The task queue is unavailable; try again shortly")


async def enqueue(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Publish a task by name without blocking the event loop.

    The context is copied into the thread, so the Celery integration still finds the
    request's trace and passes it to the worker.
    """
    try:
        await asyncio.to_thread(current_app.send_task, task_name, args=args, countdown=countdown)
    except OperationalError as error:
        raise QueueUnavailableError() from error
