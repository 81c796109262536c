"""Jobs the API process runs while it serves: one at start-up, then one on a timer.

Runs never overlap: the next is scheduled when the last has ended. Each run has a Sentry scope
of its own, and a run that fails is one handled event; the next run tries again. On shutdown no
new run starts, and a run in progress gets `stop_grace_seconds` to end before it is cancelled.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import sentry_sdk

from {{ cookiecutter.package_name }}.observability import capture_handled

# A run is given the event that is set on shutdown, to stop between two units of its work.
PeriodicJob = Callable[[asyncio.Event], Awaitable[None]]


async def _run_until_stopped(
    job: PeriodicJob,
    *,
    interval_seconds: float,
    failure_fingerprint: list[str],
    failure_message: str,
    stopping: asyncio.Event,
) -> None:
    while not stopping.is_set():
        # A scope per run: its breadcrumbs and context stay with its own events.
        with sentry_sdk.isolation_scope():
            try:
                await job(stopping)
            except Exception as error:  # the next run may succeed
                capture_handled(
                    error,
                    fingerprint=[*failure_fingerprint, type(error).__name__],
                    message=failure_message,
                )
        with suppress(TimeoutError):
            async with asyncio.timeout(interval_seconds):
                await stopping.wait()


@asynccontextmanager
async def running_periodically(
    job: PeriodicJob,
    *,
    name: str,
    interval_seconds: float,
    failure_fingerprint: list[str],
    failure_message: str,
    stop_grace_seconds: float = 0.0,
) -> AsyncIterator[None]:
    """Run `job` at start-up and every `interval_seconds` while the context is open (0: never)."""
    if interval_seconds <= 0:
        yield
        return
    stopping = asyncio.Event()
    runs = asyncio.create_task(
        _run_until_stopped(
            job,
            interval_seconds=interval_seconds,
            failure_fingerprint=failure_fingerprint,
            failure_message=failure_message,
            stopping=stopping,
        ),
        name=name,
    )
    try:
        yield
    finally:
        stopping.set()
        if stop_grace_seconds > 0:
            await asyncio.wait({runs}, timeout=stop_grace_seconds)
        runs.cancel()
        with suppress(asyncio.CancelledError):
            await runs
