"""Log lines that lead to their Sentry event: request id and trace id on every line."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import sentry_sdk

from .middleware import current_request_id

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


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
        return json.dumps(entry, default=str)


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
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(READABLE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if level is not None:
        root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        if uvicorn_logger.handlers:
            uvicorn_logger.handlers[:] = []
            uvicorn_logger.propagate = True
