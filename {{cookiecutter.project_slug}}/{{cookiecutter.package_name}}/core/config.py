"""Settings, read once from the environment and `.env`, validated at start."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Self

from limits import parse_many
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sentry_sdk.utils import Dsn

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.security import TokenKeys
from {{ cookiecutter.package_name }}.observability import SentryOptions

{% if cookiecutter.database == "postgresql" -%}
DATABASE_NAME = "{{ cookiecutter.package_name }}"
{% endif -%}
DEVELOPMENT_SECRET_KEY = "change-me"  # noqa: S105 - refused outside development and test
MIN_PRODUCTION_SECRET_BYTES = 32
# Bodies holding passwords or tokens: never attached to a Sentry event.
PRIVATE_BODY_PATHS = tuple(
    f"/api/v1/auth/{action}"
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

Environment = Literal["development", "test", "staging", "production"]

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


@dataclass(frozen=True)
class DatabaseOptions:
    """How the engine pools connections and how long it waits; see `Settings.database_options`."""

    pool_size: int = 10
    max_overflow: int = 10
    # Longest wait for a pooled connection (and on SQLite for the write lock) before a 503.
    pool_timeout_seconds: float = 10.0
    # A round trip before every checkout; without it a dead connection is found by its first
    # query, which answers 503 and makes the pool replace every connection older than it.
    pool_pre_ping: bool = False
    # PostgreSQL only: a query running longer is cancelled by the server (0: never).
    statement_timeout_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    # SQLite only: foreign keys are checked unless a migration turns them off.
    foreign_keys: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    project_name: str = "{{ cookiecutter.project_name }}"
    environment: Environment = "development"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    # Auth. SECRET_KEY signs tokens; keys rotated out stay accepted while listed here (a JSON
    # list, newest first) and are refused once removed.
    secret_key_fallbacks: list[SecretStr] = []
    token_issuer: str = "{{ cookiecutter.project_slug }}"  # noqa: S105 - a name, not a secret
    token_audience: str = "{{ cookiecutter.project_slug }}-api"  # noqa: S105 - a name
    access_token_expire_minutes: int = Field(default=15, gt=0)
    refresh_token_expire_days: int = Field(default=30, gt=0)
    email_verification_expire_hours: int = Field(default=48, gt=0)
    # The page of your frontend that posts a verification link's token to the API.
    frontend_url: str = "http://127.0.0.1:3000"
    # Invitations a user may send, in the notation of the `limits` package.
    email_rate_limit_per_user: str = "3/minute;20/day"
    # Accounts: a password-reset link's life; how long an unverified account holds its address
    # (keep it at least EMAIL_VERIFICATION_EXPIRE_HOURS) and how often expired ones are removed
    # (0: never); emails to one address, whoever asks for them, in the `limits` notation.
    password_reset_expire_minutes: int = Field(default=60, gt=0)
    unverified_account_expire_hours: int = Field(default=72, gt=0)
    unverified_account_sweep_interval_minutes: int = Field(default=60, ge=0)
    email_rate_limit_per_recipient: str = "5/hour;20/day"

    # Browser origins allowed to call the API, e.g. ["https://app.example.com"]; none by default.
    cors_allowed_origins: list[str] = []
    max_request_body_bytes: int = Field(default=1_048_576, gt=0)
    # Requests in progress per process; more are refused at once with 503 (0: no limit).
    max_concurrent_requests: int = Field(default=100, ge=0)
    # Where throttling counters live: memory:// per process, or redis://host:port/db shared.
    rate_limit_storage_url: str = Field(
{%- if cookiecutter.task_queue == "celery" %}
        # Redis is there for the worker already; shared counters hold across API processes.
        default="redis://127.0.0.1:6379/2",
{%- else %}
        default="memory://",
{%- endif %}
        pattern=r"^(memory://|rediss?://.+)$",
    )
    # Sign-up and log-in attempts allowed, in the notation of the `limits` package.
    auth_rate_limit_per_client: str = "20/minute"
    auth_rate_limit_per_account: str = "5/minute"

{%- if cookiecutter.database == "postgresql" %}

    database_url: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE_NAME}"
{%- else %}

    database_url: str = "sqlite+aiosqlite:///./app.db"
{%- endif %}
    database_echo: bool = False
    # Connections per process: kept open, and extra ones opened under load and closed after.
    database_pool_size: int = Field(default=10, gt=0)
    database_max_overflow: int = Field(default=10, ge=0)
    # Longest wait for a connection (on SQLite, for the turn to write) before answering 503.
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    database_pool_pre_ping: bool = False
{%- if cookiecutter.database == "postgresql" %}
    # The server cancels a query running longer (0: never); the request answers 503.
    database_statement_timeout_seconds: float = Field(default=15.0, ge=0)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
{%- endif %}

    payment_provider: Literal["fake", "http"] = "fake"
    payment_api_url: str = "http://127.0.0.1:9000"
    payment_timeout_seconds: float = Field(default=5.0, gt=0)
{%- if cookiecutter.task_queue == "background" %}
    # How often this process retries orders still waiting for payment; 0 turns the retries off.
    payment_retry_interval_seconds: float = Field(default=300.0, ge=0)
{%- endif %}

{%- if cookiecutter.task_queue == "celery" %}

    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    celery_result_backend: str = "redis://127.0.0.1:6379/1"
    celery_queue: str = "{{ cookiecutter.package_name }}"
    task_max_retries: int = Field(default=5, ge=0)
    payment_retry_delay_seconds: float = Field(default=30.0, ge=0)
    # Whole minutes: the shortest interval Sentry's cron monitors accept.
    payment_retry_interval_minutes: int = Field(default=5, gt=0)
{%- endif %}

    email_backend: Literal["console", "smtp"] = "console"
    email_sender: str = "no-reply@example.com"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, gt=0, lt=65536)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = None

    sentry_dsn: SecretStr | None = None
    git_sha: str | None = None
    sentry_traces_sample_rate: float | None = Field(default=None, ge=0, le=1)
    sentry_profile_session_sample_rate: float | None = Field(default=None, ge=0, le=1)
    sentry_send_personal_data: bool = False
    sentry_track_sessions: bool = False
    sentry_debug: bool = False
    # Identical handled events (same fingerprint) sent per minute; the rest are counted, not sent.
    sentry_handled_events_per_minute: int = Field(default=10, ge=0)
    # A local Spotlight sidecar (development only): true for http://localhost:8969/stream,
    # or its URL. Without a DSN, events then go to Spotlight alone.
    sentry_spotlight: bool | str = False
    # Send log records (INFO and above) to Sentry's logs product as well.
    sentry_logs: bool = False

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

    @field_validator(
        "auth_rate_limit_per_client",
        "auth_rate_limit_per_account",
        "email_rate_limit_per_user",
        "email_rate_limit_per_recipient",
    )
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        parse_many(value)
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_development(self) -> Self:
        if self.environment in ("development", "test"):
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET_KEY:
            raise ValueError(f"SECRET_KEY must be set in the {self.environment} environment")
        for name, key in (("SECRET_KEY", secret), *self._fallbacks()):
            if len(key.encode()) < MIN_PRODUCTION_SECRET_BYTES:
                raise ValueError(
                    f"{name} must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes "
                    f"in the {self.environment} environment"
                )
        return self

    def _fallbacks(self) -> list[tuple[str, str]]:
        return [
            (f"SECRET_KEY_FALLBACKS[{index}]", key.get_secret_value())
            for index, key in enumerate(self.secret_key_fallbacks)
        ]

    def token_keys(self) -> TokenKeys:
        keys = [self.secret_key.get_secret_value(), *(key for _, key in self._fallbacks())]
        return TokenKeys.create(keys, issuer=self.token_issuer, audience=self.token_audience)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def logs_as_json(self) -> bool:
        return self.log_json if self.log_json is not None else self.environment != "development"

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

    def database_options(self) -> DatabaseOptions:
        return DatabaseOptions(
            pool_size=self.database_pool_size,
            max_overflow=self.database_max_overflow,
            pool_timeout_seconds=self.database_pool_timeout_seconds,
            pool_pre_ping=self.database_pool_pre_ping,
{%- if cookiecutter.database == "postgresql" %}
            statement_timeout_seconds=self.database_statement_timeout_seconds,
            connect_timeout_seconds=self.database_connect_timeout_seconds,
{%- endif %}
        )

    def sentry_options(self) -> SentryOptions:
        return SentryOptions(
            dsn=self.sentry_dsn.get_secret_value() if self.sentry_dsn else None,
            environment=self.environment,
            release=self.release,
            traces_sample_rate=self.traces_sample_rate,
            profile_session_sample_rate=self.profile_session_sample_rate,
            send_personal_data=self.sentry_send_personal_data,
            track_sessions=self.sentry_track_sessions,
            private_body_paths=PRIVATE_BODY_PATHS,
            debug=self.sentry_debug,
            handled_events_per_minute=self.sentry_handled_events_per_minute,
            spotlight=self.sentry_spotlight,
            logs=self.sentry_logs,
        )


class ConfigurationError(SystemExit):
    """Raised at start when the environment does not describe a valid configuration."""


def describe_validation_error(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        # Our own validators' reasons, without pydantic's "Value error, " in front.
        reason = item["ctx"]["error"] if item["type"] == "value_error" else item["msg"]
        problems.append(f"  {field}: {reason}")
    return "Invalid configuration:\n" + "\n".join(problems)


@lru_cache
def get_settings() -> Settings:
    """The settings of this process; exits with a readable message when they are invalid."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
