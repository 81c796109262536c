"""Refused attempts worth a look (a stolen token, a spam run), reported to Sentry as handled."""

from typing import Any

from {{ cookiecutter.package_name }}.observability import capture_handled


class SecurityEventError(Exception):
    """A refused attempt; named by its kind, never carrying a token, password or message body."""


def report_security_event(kind: str, *, message: str, **fields: Any) -> None:
    """One issue per kind, whoever and however often; the user comes from the request's scope.

    Raised nowhere: an exception without a traceback carries no local variables that could
    hold the secret it is about.
    """
    capture_handled(
        SecurityEventError(kind),
        fingerprint=["security", kind],
        message=message,
        kind=kind,
        **fields,
    )
