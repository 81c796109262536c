"""SQL breadcrumbs and spans for SQLAlchemy, with the span paid for only when it will be sent.

The SDK's own SQLAlchemy integration opens a span for every statement, also in the requests
whose transaction is left out of the sample and never sent. Here every statement leaves a
breadcrumb, which error events carry, and gets a span only inside a sampled transaction.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.consts import SPANDATA, SPANSTATUS
from sentry_sdk.tracing import Span
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext

ORIGIN = "auto.db.sqlalchemy"
# Where the open span waits, on the statement's execution context, for the statement to end.
_SPAN_ATTRIBUTE = "_sentry_sql_span"
# SPANDATA.DB_DRIVER_NAME in newer SDKs; sentry-sdk 2.40 does not have the constant.
DB_DRIVER_NAME = "db.driver.name"


def instrument_sqlalchemy() -> None:
    """Record every statement of every engine, the async ones included."""
    if not event.contains(Engine, "before_cursor_execute", _before_execute):
        # named=True: each listener takes, by name, only the arguments it uses.
        event.listen(Engine, "before_cursor_execute", _before_execute, named=True)
        event.listen(Engine, "after_cursor_execute", _after_execute, named=True)
        event.listen(Engine, "handle_error", _on_error)


def _before_execute(
    *, conn: Connection, statement: str, context: Any, executemany: bool, **_: Any
) -> None:
    sentry_sdk.add_breadcrumb(category="query", message=statement)
    parent = sentry_sdk.get_current_span()
    if context is None or parent is None or not parent.sampled:
        return
    span = parent.start_child(op="db", name=statement, origin=ORIGIN)
    url = conn.engine.url
    span.set_data(SPANDATA.DB_SYSTEM, conn.dialect.name)
    span.set_data(DB_DRIVER_NAME, conn.dialect.driver)
    if url.database:
        span.set_data(SPANDATA.DB_NAME, url.database)
    if url.host:
        span.set_data(SPANDATA.SERVER_ADDRESS, url.host)
    if url.port:
        span.set_data(SPANDATA.SERVER_PORT, url.port)
    if executemany:
        span.set_data("db.executemany", True)
    setattr(context, _SPAN_ATTRIBUTE, span)


def _after_execute(*, context: Any, **_: Any) -> None:
    _finish(context, status=SPANSTATUS.OK)


def _on_error(exception_context: ExceptionContext) -> None:
    _finish(exception_context.execution_context, status=SPANSTATUS.INTERNAL_ERROR)


def _finish(context: Any, *, status: str) -> None:
    span: Span | None = getattr(context, _SPAN_ATTRIBUTE, None)
    if span is None:
        return
    setattr(context, _SPAN_ATTRIBUTE, None)
    span.set_status(status)
    span.finish()
