"""Sentry initialisation: call `init_sentry` before the application is imported."""

import asyncio
import importlib.util
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.atexit import AtexitIntegration
{%- if cookiecutter.task_queue == "celery" %}
from sentry_sdk.integrations.celery import CeleryIntegration
{%- endif %}
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.integrations.modules import ModulesIntegration
{%- if cookiecutter.task_queue == "celery" %}
from sentry_sdk.integrations.redis import RedisIntegration
{%- endif %}
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.integrations.threading import ThreadingIntegration
from sentry_sdk.types import Event, Hint

from .asyncio_tasks import report_task_failures
from .errors import UNHANDLED_LOGGER
from .event_cap import HandledEventCap
from .filters import is_noise
from .safeguards import (
    check_client_is_ours,
    require_supported_sdk,
    unguarded_init,
    watch_for_second_init,
)
from .scrubbing import scrub_event
from .sentry_logs import SENTRY_LOGS_LEVEL, make_before_send_log
from .spotlight import SpotlightOnlyTransport, keep_own_choices_without_dsn
{%- if cookiecutter.get("sqlalchemy", "yes") == "yes" %}
from .sql import instrument_sqlalchemy
{%- endif %}

SERVER_ERRORS = frozenset(range(500, 600))
# A known secret shorter than this would redact ordinary words that happen to contain it.
MIN_KNOWN_SECRET_LENGTH = 4


@dataclass(frozen=True)
class SentryOptions:
    """Everything the SDK needs from the application's configuration."""

    # The DSN's key only lets a client post events, but it has no business in a log line.
    dsn: str | None = field(repr=False)
    environment: str
    release: str
    traces_sample_rate: float = 0.0
    profile_session_sample_rate: float = 0.0
    send_personal_data: bool = False
    # Release health (crash-free sessions) costs a session per request.
    track_sessions: bool = False
    untraced_paths: Collection[str] = ("/health", "/health/ready")
    private_body_paths: Collection[str] = field(default_factory=tuple)
    debug: bool = False
    # Events per fingerprint per minute (event_cap.py); 0 sends every one.
    handled_events_per_minute: int = 10
    # Also send to a local Spotlight sidecar: True (its default URL) or the sidecar's URL.
    # For development: without a DSN it starts the SDK on its own.
    spotlight: bool | str = False
    # Send log records to Sentry's logs product too (costs a little per record; off by default).
    logs: bool = False
    # The values of every stack frame's local variables on error events. Off: a frame holding a
    # password, a token or a connection URL would send it, whatever the scrubber recognises.
    include_local_variables: bool = False
    # Values redacted from every event wherever they appear, whatever their shape: the service's
    # own secrets (signing keys, the passwords of its connection URLs). Shorter ones are ignored.
    known_secrets: Collection[str] = field(default=(), repr=False)


_options: SentryOptions | None = None


def sends_personal_data() -> bool:
    return _options is not None and _options.send_personal_data


def init_sentry(options: SentryOptions, **overrides: Any) -> bool:
    """Start the SDK; without a DSN (or Spotlight) nothing is sent and the app runs as before.

    `overrides` go straight to `sentry_sdk.init` (tests pass their own `transport`).
    """
    global _options
    require_supported_sdk()
    _options = options
    # The SDK logs a debug line for every transaction it leaves out of the sample, an info line
    # for every event a filter drops, and, with no client, one for every breadcrumb; without
    # debug its handler discards them, but only after each record was built.
    logging.getLogger("sentry_sdk.errors").setLevel(
        logging.DEBUG if options.debug else logging.WARNING
    )
    if not options.dsn and not options.spotlight and "transport" not in overrides:
        watch_for_second_init()
        return False
    if options.spotlight and not options.dsn:
        overrides.setdefault("transport", SpotlightOnlyTransport())

    def sample_trace(context: dict[str, Any]) -> float:
        if context.get("parent_sampled") is not None:
            return float(context["parent_sampled"])
        path = context.get("asgi_scope", {}).get("path")
        if path in options.untraced_paths:
            return 0.0
        return options.traces_sample_rate

    known_secrets = tuple(
        secret for secret in options.known_secrets if len(secret) >= MIN_KNOWN_SECRET_LENGTH
    )
    scrub = partial(
        scrub_event,
        private_body_paths=options.private_body_paths,
        personal_data=options.send_personal_data,
        known_secrets=known_secrets,
    )

    cap = HandledEventCap(options.handled_events_per_minute)

    def before_send(event: Event, hint: Hint) -> Event | None:
        if is_noise(event, hint) or (admitted := cap.admit(event)) is None:
            return None
        return scrub(admitted)

    def before_send_transaction(event: Event, hint: Hint) -> Event | None:
        return scrub(event)

    # Failed tasks are reported as they fail (asyncio_tasks.py); the loop's later "exception was
    # never retrieved" log line would report them a second time.
    ignore_logger("asyncio")
    ignore_logger(UNHANDLED_LOGGER)
    unguarded_init()(
        dsn=options.dsn,
        environment=options.environment,
        release=options.release,
        traces_sampler=sample_trace,
        profile_session_sample_rate=options.profile_session_sample_rate,
        profile_lifecycle="trace",
        before_send=before_send,
        before_send_transaction=before_send_transaction,
        auto_session_tracking=options.track_sessions,
        max_request_body_size="medium",
        include_local_variables=options.include_local_variables,
        debug=options.debug,
        # False rather than None: the SDK would otherwise read SENTRY_SPOTLIGHT on its own.
        spotlight=options.spotlight,
        enable_logs=options.logs,
        before_send_log=make_before_send_log(
            personal_data=options.send_personal_data, known_secrets=known_secrets
        ),
        # Only what the service uses. Left out of the SDK's defaults: argv (the server's command
        # line on every event) and stdlib (http.client spans, paid on each of the SDK's own
        # uploads as well); nothing is switched on because its package happens to be installed.
        default_integrations=False,
        integrations=[
            AtexitIntegration(),
            DedupeIntegration(),
            ExcepthookIntegration(),
            ModulesIntegration(),
            ThreadingIntegration(),
            StarletteIntegration(
                transaction_style="url", failed_request_status_codes=SERVER_ERRORS
            ),
            FastApiIntegration(transaction_style="url", failed_request_status_codes=SERVER_ERRORS),
            # With Sentry logs off no record needs to pass through that handler.
            LoggingIntegration(
                level=logging.WARNING,
                event_level=logging.ERROR,
                sentry_logs_level=SENTRY_LOGS_LEVEL if options.logs else None,
            ),
{%- if cookiecutter.task_queue == "celery" %}
            # Traces continue from the request into its tasks; beat jobs report cron check-ins.
            CeleryIntegration(propagate_traces=True, monitor_beat_tasks=True),
{%- endif %}
            *_integrations_of_installed_clients(),
        ],
        **overrides,
    )
    if options.spotlight and not options.dsn:
        keep_own_choices_without_dsn(
            sentry_sdk.get_client(),
            send_personal_data=options.send_personal_data,
            traces_sampler=sample_trace,
        )
    watch_for_second_init()
{%- if cookiecutter.get("sqlalchemy", "yes") == "yes" %}
    instrument_sqlalchemy()
{%- endif %}
    return True


def _integrations_of_installed_clients() -> list[Integration]:
    """The service's clients, as spans and breadcrumbs; each integration needs its library."""
    integrations: list[Integration] = []
    if importlib.util.find_spec("httpx"):
        integrations.append(HttpxIntegration())
{%- if cookiecutter.task_queue == "celery" %}
    if importlib.util.find_spec("redis"):
        integrations.append(RedisIntegration())
{%- endif %}
    return integrations


def enable_asyncio_tracking() -> None:
    """Capture errors of stray asyncio tasks; must run inside the event loop (the lifespan).

    Also where a second `sentry_sdk.init`, which replaced this setup, is reported.
    """
    check_client_is_ours()
    if sentry_sdk.get_client().is_active():
        report_task_failures(asyncio.get_running_loop())


def flush_sentry(timeout: float = 2.0) -> None:
    """Send what is still queued; called when the process shuts down."""
    client = sentry_sdk.get_client()
    if client.is_active():
        client.flush(timeout=timeout)
