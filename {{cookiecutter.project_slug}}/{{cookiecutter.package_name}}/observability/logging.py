"""Log lines that lead to their Sentry event: request id and trace id on every line.

Every line is scrubbed as events are (scrubbing.py), personal data kept: the access log writes
each request's path and query string, which may hold a token a client put there.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.logging import ignore_logger

from .middleware import current_request_id
from .scrubbing import scrub, scrub_text

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)

# Loggers whose records are for the process's own output alone (sentry_logs.py drops them too).
_TERMINAL_ONLY_LOGGERS: set[str] = set()


def terminal_only_logger(name: str) -> logging.Logger:
    """A logger whose records reach the process's output, never Sentry (event, breadcrumb or log).

    For development tools whose output is meant for the developer's terminal: an email printed
    by a console backend, with the names and links it holds.
    """
    ignore_logger(name)
    _TERMINAL_ONLY_LOGGERS.add(name)
    return logging.getLogger(name)


def is_terminal_only(logger_name: str) -> bool:
    return logger_name in _TERMINAL_ONLY_LOGGERS


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `trace_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or "-"
        traceparent = sentry_sdk.get_traceparent()
        record.trace_id = traceparent.split("-")[0] if traceparent else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = self._entry(record)
        if not is_terminal_only(record.name):
            entry = scrub(entry, personal_data=True)
        return json.dumps(entry, default=str)

    def _entry(self, record: logging.LogRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return entry


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return line if is_terminal_only(record.name) else scrub_text(line, personal_data=True)


READABLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s %(trace_id)s] %(message)s"


def configure_logging(*, json_lines: bool, level: str | None = None) -> None:
    """JSON lines for machines (production), readable lines for people (development).

    Replaces the root logger's handlers with one on stdout and sets the root level only when
    `level` is given. uvicorn's loggers keep their levels; those uvicorn gave a handler now write
    through the root handler, in the same format, and one it silenced (`--no-access-log`) stays
    silent.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter(READABLE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if level is not None:
        root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        if uvicorn_logger.handlers:
            uvicorn_logger.handlers[:] = []
            uvicorn_logger.propagate = True
