"""Account tasks, run by the Celery worker; beat schedules the removal of expired accounts."""

import asyncio
from datetime import timedelta

from celery import shared_task

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import create_engine, create_sessionmaker
from {{ cookiecutter.package_name }}.users import service

REMOVE_EXPIRED_ACCOUNTS_TASK = "{{ cookiecutter.package_name }}.users.remove_expired_unverified"


@shared_task(name=REMOVE_EXPIRED_ACCOUNTS_TASK)
def remove_expired_unverified() -> int:
    """Delete the accounts nobody verified in time; returns how many."""
    return asyncio.run(_remove_expired_unverified())


async def _remove_expired_unverified() -> int:
    settings = get_settings()
    # An engine of the task's own: each task runs its own event loop.
    engine = create_engine(settings.database_url)
    try:
        return await service.remove_expired_unverified(
            transactions=create_sessionmaker(engine),
            max_age=timedelta(hours=settings.unverified_account_expire_hours),
        )
    finally:
        await engine.dispose()
