"""Unverified accounts expire: removed by a sweep in the API process, at start-up and on a timer.

An address held by an account nobody verified is free again after
UNVERIFIED_ACCOUNT_EXPIRE_HOURS, so a stranger who signed up with someone else's address cannot
keep it from its owner.
"""

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.periodic import running_periodically
from {{ cookiecutter.package_name }}.users import service

logger = logging.getLogger(__name__)


def removing_expired_accounts(
    app: FastAPI, settings: Settings
) -> AbstractAsyncContextManager[None]:
    """Sweep at start-up and every UNVERIFIED_ACCOUNT_SWEEP_INTERVAL_MINUTES (0: never)."""
    max_age = timedelta(hours=settings.unverified_account_expire_hours)

    async def sweep(stopping: asyncio.Event) -> None:
        removed = await service.remove_expired_unverified(
            transactions=app.state.sessionmaker, max_age=max_age
        )
        if removed:
            logger.info("Removed %d expired unverified accounts", removed)

    return running_periodically(
        sweep,
        name="unverified-account-sweeps",
        interval_seconds=settings.unverified_account_sweep_interval_minutes * 60,
        failure_fingerprint=["unverified_accounts", "sweep_failed"],
        failure_message="Removing expired unverified accounts failed; trying again later",
    )
