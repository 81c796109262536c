"""Spotlight without a DSN: the service's own choices on personal data and sampling still hold."""

from collections.abc import Callable
from typing import Any

from sentry_sdk.client import BaseClient
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport


class SpotlightOnlyTransport(Transport):
    """Sends nothing: without a DSN, the Spotlight sidecar is the only destination.

    The SDK flushes its batched log records and sessions only when it has a transport
    (`flush` returns early without one): the last records before a shutdown would be lost.
    """

    def capture_envelope(self, envelope: Envelope) -> None:
        pass


def keep_own_choices_without_dsn(
    client: BaseClient,
    *,
    send_personal_data: bool,
    traces_sampler: Callable[[dict[str, Any]], float],
) -> None:
    """Undo what the SDK switches on when Spotlight runs without a DSN.

    Without a DSN the SDK turns on sending personal data and samples every error, trace and
    profile, whatever it was given: health checks would be traced, and emails and client
    addresses collected. This puts the service's own choices back into the client's options,
    which the SDK reads as it builds each event. Should a later SDK stop reading them there,
    the scrubbing in `before_send` still removes personal data before anything leaves.
    """
    options = client.options
    options["send_default_pii"] = send_personal_data
    options["traces_sampler"] = traces_sampler
    options["error_sampler"] = None
    options["profiles_sampler"] = None
