"""Sentry: where events go, how much is traced, and what may be sent along."""

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from sentry_sdk.utils import Dsn

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.config.http import API_PREFIX
from {{ cookiecutter.package_name }}.core.config.service import (
    Environment,
    LocalOnlySwitch,
    ServiceSettings,
)

# Bodies holding passwords or tokens: never attached to a Sentry event.
PRIVATE_BODY_PATHS = tuple(
    f"{API_PREFIX}/auth/{action}"
    for action in (
        "login",
        "register",
        "refresh",
        "logout",
        "password",
        "password-reset",
        "password-reset/confirm",
        "verify-email",
        "verify-email/resend",
    )
)
# How SENTRY_SPOTLIGHT says on or off; any other value is the sidecar's URL.
SPOTLIGHT_ON = frozenset({"true", "t", "yes", "y", "on", "1"})
SPOTLIGHT_OFF = frozenset({"", "false", "f", "no", "n", "off", "0"})

# Tracing and profiling cost CPU on the request path: sample all where traffic is low.
DEFAULT_TRACES_SAMPLE_RATE: dict[Environment, float] = {
    "development": 1.0,
    "test": 0.0,
    "staging": 0.5,
    "production": 0.1,
}
# Share of processes that profile while a sampled trace runs.
DEFAULT_PROFILE_SESSION_SAMPLE_RATE: dict[Environment, float] = {
    "development": 0.0,
    "test": 0.0,
    "staging": 1.0,
    "production": 0.1,
}


class SentrySettings(ServiceSettings):
    sentry_dsn: SecretStr | None = None
    git_sha: str | None = None
    sentry_traces_sample_rate: float | None = Field(default=None, ge=0, le=1)
    sentry_profile_session_sample_rate: float | None = Field(default=None, ge=0, le=1)
    sentry_send_personal_data: bool = False
    sentry_track_sessions: bool = False
    sentry_debug: LocalOnlySwitch = False
    # Identical handled events (same fingerprint) sent per minute; the rest are counted, not sent.
    sentry_handled_events_per_minute: int = Field(default=10, ge=0)
    # A local Spotlight sidecar (development only): true for http://localhost:8969/stream,
    # or its URL. Without a DSN, events then go to Spotlight alone.
    sentry_spotlight: bool | str = False
    # Send log records (INFO and above) to Sentry's logs product as well.
    sentry_logs: bool = False
    # Send the values of stack frames' local variables with errors (they may hold secrets).
    sentry_include_local_variables: bool = False

    @field_validator("sentry_dsn")
    @classmethod
    def _parse_sentry_dsn(cls, dsn: SecretStr | None) -> SecretStr | None:
        """Read the DSN as the SDK will, so a typo stops the start instead of every event."""
        if dsn is None or not dsn.get_secret_value():
            return dsn
        try:
            Dsn(dsn.get_secret_value())
        except ValueError as error:
            # The SDK's reason names the part that is wrong, never the key.
            raise ValueError(f"not a Sentry DSN ({error})") from None
        return dsn

    @field_validator("sentry_spotlight", mode="before")
    @classmethod
    def _parse_sentry_spotlight(cls, value: object, info: ValidationInfo) -> bool | str:
        """On, off or a URL, as the SDK reads it; refused outside development."""
        if isinstance(value, bool):
            spotlight: bool | str = value
        elif not isinstance(value, str):
            raise ValueError("must be true, false or the sidecar's URL")
        elif value.strip().lower() in SPOTLIGHT_ON | SPOTLIGHT_OFF:
            spotlight = value.strip().lower() in SPOTLIGHT_ON
        elif value.startswith(("http://", "https://")):
            spotlight = value
        else:
            raise ValueError(
                "must be true, false or the sidecar's URL (http://localhost:8969/stream)"
            )
        environment = info.data.get("environment", "development")
        if spotlight and environment != "development":
            raise ValueError(
                f"Spotlight is for local development; unset it in the {environment} environment"
            )
        return spotlight

    @property
    def release(self) -> str:
        """Release name Sentry groups events by: version, plus the commit when known."""
        release = f"{{ cookiecutter.project_slug }}@{__version__}"
        return f"{release}+{self.git_sha[:12]}" if self.git_sha else release

    @property
    def traces_sample_rate(self) -> float:
        if self.sentry_traces_sample_rate is not None:
            return self.sentry_traces_sample_rate
        return DEFAULT_TRACES_SAMPLE_RATE[self.environment]

    @property
    def profile_session_sample_rate(self) -> float:
        if self.sentry_profile_session_sample_rate is not None:
            return self.sentry_profile_session_sample_rate
        return DEFAULT_PROFILE_SESSION_SAMPLE_RATE[self.environment]
