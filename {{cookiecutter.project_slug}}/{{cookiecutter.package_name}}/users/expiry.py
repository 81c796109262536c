"""Unverified accounts expire: removed by a sweep in the API process, at start-up and on a timer.

An address held by an account nobody verified is free again after
UNVERIFIED_ACCOUNT_EXPIRE_HOURS, so a stranger who signed up with someone else's address cannot
keep it from its owner.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

import sentry_sdk
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import capture_handled
from {{ cookiecutter.package_name }}.users import service

logger = logging.getLogger(__name__)


async def _sweep_until_stopped(
    app: FastAPI, *, interval: timedelta, max_age: timedelta, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        with sentry_sdk.isolation_scope():
            try:
                removed = await service.remove_expired_unverified(
                    transactions=app.state.sessionmaker, max_age=max_age
                )
            except Exception as error:  # the next sweep may succeed
                capture_handled(
                    error,
                    fingerprint=["unverified_accounts", "sweep_failed", type(error).__name__],
                    message="Removing expired unverified accounts failed; trying again later",
                )
            else:
                if removed:
                    logger.info("Removed %d expired unverified accounts", removed)
        with suppress(TimeoutError):
            async with asyncio.timeout(interval.total_seconds()):
                await stopping.wait()


@asynccontextmanager
async def removing_expired_accounts(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Sweep at start-up and every UNVERIFIED_ACCOUNT_SWEEP_INTERVAL_MINUTES (0: never)."""
    if settings.unverified_account_sweep_interval_minutes <= 0:
        yield
        return
    stopping = asyncio.Event()
    sweeps = asyncio.create_task(
        _sweep_until_stopped(
            app,
            interval=timedelta(minutes=settings.unverified_account_sweep_interval_minutes),
            max_age=timedelta(hours=settings.unverified_account_expire_hours),
            stopping=stopping,
        ),
        name="unverified-account-sweeps",
    )
    try:
        yield
    finally:
        stopping.set()
        sweeps.cancel()
        with suppress(asyncio.CancelledError):
            await sweeps
