"""Failures of asyncio tasks, reported with the request and user they were started for.

An exception that ends a task nobody awaits is otherwise only logged, if at all, when the task
is garbage-collected. Wrapping each task reports the failure as it happens, in the context the
task was created in: a task started by a request carries that request's user and tags.

The SDK's asyncio integration does the same and also gives every task a scope of its own and a
new name. The server starts a task per request, and the request already gets its scope from
the ASGI integration, so that work was paid twice on every request.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import sentry_sdk
from sentry_sdk.utils import event_from_exception

from .errors import remember_event_id


def report_task_failures(loop: asyncio.AbstractEventLoop) -> None:
    """Report an exception escaping any task the loop creates from now on."""
    previous = loop.get_task_factory()
    if not isinstance(previous, _ReportingTaskFactory):
        # The factory's type in typeshed differs between Python versions.
        loop.set_task_factory(_ReportingTaskFactory(previous))  # type: ignore[arg-type, unused-ignore]


class _ReportingTaskFactory:
    def __init__(self, create_task: Callable[..., asyncio.Future[Any]] | None) -> None:
        self.create_task = create_task

    def __call__(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Future[Any]:
        if self.create_task is None:
            return asyncio.Task(_reporting(coro), loop=loop, **kwargs)
        return self.create_task(loop, _reporting(coro), **kwargs)


async def _reporting(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except Exception as error:
        client = sentry_sdk.get_client()
        event, hint = event_from_exception(
            error, client_options=client.options, mechanism={"type": "asyncio", "handled": False}
        )
        remember_event_id(error, sentry_sdk.capture_event(event, hint=hint))
        raise
