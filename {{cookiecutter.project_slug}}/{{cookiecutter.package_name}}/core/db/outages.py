"""Database outages (unreachable, disconnected, timed out, locked) as a 503 with Retry-After."""

from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine import ExceptionContext

from {{ cookiecutter.package_name }}.core.errors import DatabaseUnavailableError


def connect_or_raise_unavailable(
    dialect: Dialect, record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a connection; failing to (refused, timed out, server starting) is an outage.

    Some drivers (asyncpg) raise their own errors here, which SQLAlchemy passes on unwrapped.
    """
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        raise DatabaseUnavailableError(reason="unreachable") from error


# SQLSTATEs of a database that is there but cannot serve now: query cancelled (statement
# timeout), lock timeout, too many connections, shutting down or starting up.
UNAVAILABLE_SQLSTATES = {"57014": "statement_timeout", "55P03": "lock_timeout"}
UNAVAILABLE_SQLSTATE_CLASSES = {"53": "insufficient_resources", "57": "shutting_down"}


def unavailable_reason(context: ExceptionContext) -> str | None:
    """Why the database cannot serve right now, or None when the error is the query's own."""
    error = context.original_exception
    if context.is_disconnect:
        return "disconnected"
    if context.connection is None:
        # No connection yet: refused, timed out, or the server is starting or shutting down.
        return "unreachable"
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str):
        return UNAVAILABLE_SQLSTATES.get(sqlstate) or UNAVAILABLE_SQLSTATE_CLASSES.get(sqlstate[:2])
    if "database is locked" in str(error):
        return "locked"
    return None


def raise_unavailable(context: ExceptionContext) -> None:
    """Turn an outage into a 503 with Retry-After; let every other database error through."""
    if context.is_pre_ping:
        return  # the pool handles it: it reconnects
    reason = unavailable_reason(context)
    if reason is not None:
        retry_after = 5 if reason in ("disconnected", "unreachable", "shutting_down") else 1
        raise DatabaseUnavailableError(reason=reason, retry_after_seconds=retry_after)
