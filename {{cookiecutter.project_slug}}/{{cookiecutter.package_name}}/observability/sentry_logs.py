"""Sentry Logs: the service's log records in Sentry's logs product, scrubbed like events."""

import logging
from collections.abc import Callable, Collection

from sentry_sdk.types import Hint, Log

from .logging import is_terminal_only
from .middleware import current_request_id, current_sentry_user
from .scrubbing import scrub, scrub_text

# Records at this level and above are sent when Sentry logs are on.
SENTRY_LOGS_LEVEL = logging.INFO
# The access log repeats every request's transaction, with the client's address.
NOISY_LOGGERS = frozenset({"uvicorn.access"})
# What the service's own log formatting leaves on a record; the log item has its own trace id.
FORMATTING_ATTRIBUTES = ("asctime", "color_message", "trace_id")

LOG_USER_ATTRIBUTES = {"id": "user.id", "username": "user.name", "email": "user.email"}

BeforeSendLog = Callable[[Log, Hint], Log | None]


def make_before_send_log(
    *, personal_data: bool, known_secrets: Collection[str] = ()
) -> BeforeSendLog:
    """A `before_send_log` that names the request and user, and scrubs body and attributes.

    `known_secrets` are redacted wherever they appear, as in events (scrubbing.py).
    """

    def before_send_log(log: Log, hint: Hint) -> Log | None:
        attributes = log["attributes"]
        logger_name = attributes.get("logger.name")
        if logger_name in NOISY_LOGGERS or (
            isinstance(logger_name, str) and is_terminal_only(logger_name)
        ):
            return None
        for name in FORMATTING_ATTRIBUTES:
            attributes.pop(name, None)
        request_id = current_request_id()
        if request_id is not None:
            attributes["request_id"] = request_id
        elif attributes.get("request_id") == "-":
            del attributes["request_id"]
        for name, value in (current_sentry_user() or {}).items():
            # The names the SDK gives them when it adds the user itself (personal data on).
            attributes.setdefault(LOG_USER_ATTRIBUTES.get(name, f"user.{name}"), value)
        log["body"] = scrub_text(
            log["body"], personal_data=personal_data, known_secrets=known_secrets
        )
        log["attributes"] = scrub(
            attributes, personal_data=personal_data, known_secrets=known_secrets
        )
        return log

    return before_send_log
