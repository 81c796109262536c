"""Settings, read once from the environment and `.env`, validated at start."""

import math
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal
from urllib.parse import unquote, urlsplit

from limits import parse_many
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sentry_sdk.utils import Dsn

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.security import TokenKeys
from {{ cookiecutter.package_name }}.observability import SentryOptions

{% if cookiecutter.database == "postgresql" -%}
DATABASE_NAME = "{{ cookiecutter.package_name }}"
{% endif -%}
# Keys printed in this project's files, its examples and their history: anyone can sign tokens
# with them, so they are refused in every environment.
PUBLICLY_KNOWN_SECRET_KEYS = frozenset(
    {
        "change-me",
        "previous-secret-key",
        "local-inbox-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        # Defaults of the example apps the template's lift is tried on.
        "development-only-secret-key-0123456789",
        "development-only-jwt-secret-0123456789",
        "development-only-session-secret",
    }
)
MAKE_A_KEY_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
RANDOM_KEY_NOTICE = (
    "SECRET_KEY is not set: tokens are signed with a random key of this process "
    "and stop working when it ends"
)
MIN_PRODUCTION_SECRET_BYTES = 32
# Estimated as the key's length times the Shannon entropy of its characters: a random key
# of 32 bytes, hex or URL-safe, holds far more; a short pattern repeated holds less.
MIN_PRODUCTION_SECRET_BITS = 112
# Every API route's path starts with it; the probes and the docs stay outside it.
API_PREFIX = "/api/v1"
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

Environment = Literal["development", "test", "staging", "production"]
# Where a process may sign with a random key of its own, and log what requests carry.
LOCAL_ENVIRONMENTS: frozenset[Environment] = frozenset({"development", "test"})

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
    # Auth. SECRET_KEY signs tokens; unset, a development or test process signs with a random
    # key of its own. Keys rotated out stay accepted while listed in SECRET_KEY_FALLBACKS (a
    # JSON list, newest first) and are refused once removed.
    secret_key: SecretStr | None = None
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
    # Longest a request's body may take to arrive, counted from its head; slower ones get 408.
    request_body_timeout_seconds: float = Field(default=15.0, gt=0)
    # Bytes of request bodies the process holds at once while they arrive; past it, 503.
    max_buffered_body_bytes: int = Field(default=67_108_864, gt=0)
    # A request head (request line and headers) larger than this is refused with 431, and one
    # not complete within the timeout of its first byte with 408 (`core/http_protocol.py`).
    max_request_head_bytes: int = Field(default=65_536, gt=0)
    request_head_timeout_seconds: float = Field(default=10.0, gt=0)
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
        repr=False,
    )
    # Sign-up and log-in attempts allowed, in the notation of the `limits` package.
    auth_rate_limit_per_client: str = "20/minute"
    auth_rate_limit_per_account: str = "5/minute"

{%- if cookiecutter.database == "postgresql" %}

    # Connection URLs may hold a password: `repr=False` keeps each out of the settings' repr,
    # in a log line or an error event's stack frame alike.
    database_url: str = Field(
        default=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE_NAME}", repr=False
    )
{%- else %}

    # Connection URLs may hold a password: `repr=False` keeps each out of the settings' repr,
    # in a log line or an error event's stack frame alike.
    database_url: str = Field(default="sqlite+aiosqlite:///./app.db", repr=False)
{%- endif %}
    database_echo: bool = False
    # Connections per process: kept open, and extra ones opened under load and closed after.
    database_pool_size: int = Field(default=DatabaseOptions.pool_size, gt=0)
    database_max_overflow: int = Field(default=DatabaseOptions.max_overflow, ge=0)
    # Longest wait for a connection (on SQLite, for the turn to write) before answering 503.
    database_pool_timeout_seconds: float = Field(default=DatabaseOptions.pool_timeout_seconds, gt=0)
    database_pool_pre_ping: bool = DatabaseOptions.pool_pre_ping
{%- if cookiecutter.database == "postgresql" %}
    # The server cancels a query running longer (0: never); the request answers 503.
    database_statement_timeout_seconds: float = Field(
        default=DatabaseOptions.statement_timeout_seconds, ge=0
    )
    database_connect_timeout_seconds: float = Field(
        default=DatabaseOptions.connect_timeout_seconds, gt=0
    )
{%- endif %}

    payment_provider: Literal["fake", "http"] = "fake"
    payment_api_url: str = "http://127.0.0.1:9000"
    payment_timeout_seconds: float = Field(default=5.0, gt=0)
{%- if cookiecutter.task_queue == "background" %}
    # How often this process retries orders still waiting for payment; 0 turns the retries off.
    payment_retry_interval_seconds: float = Field(default=300.0, ge=0)
{%- endif %}

{%- if cookiecutter.task_queue == "celery" %}

    celery_broker_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)
    celery_result_backend: str = Field(default="redis://127.0.0.1:6379/1", repr=False)
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

    @field_validator("max_buffered_body_bytes")
    @classmethod
    def _hold_at_least_one_body(cls, budget: int, info: ValidationInfo) -> int:
        largest = info.data.get("max_request_body_bytes")
        if largest is not None and budget < largest:
            raise ValueError(f"must be at least MAX_REQUEST_BODY_BYTES ({largest})")
        return budget

    @field_validator("email_backend")
    @classmethod
    def _refuse_console_email_in_production(cls, backend: str, info: ValidationInfo) -> str:
        if backend == "console" and info.data.get("environment") == "production":
            raise ValueError(
                "console writes whole emails, verification links too, to the log; "
                "use smtp in the production environment"
            )
        return backend

    @field_validator("database_echo", "sentry_debug")
    @classmethod
    def _refuse_local_switches(cls, on: bool, info: ValidationInfo) -> bool:
        """Switches that write what the service handles to its log: for a laptop only."""
        environment = info.data.get("environment", "development")
        if on and environment not in LOCAL_ENVIRONMENTS:
            raise ValueError(
                f"writes what requests carry to the log; unset it in the {environment} environment"
            )
        return on

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, key: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        environment = info.data.get("environment", "development")
        if key is None or not key.get_secret_value():
            if environment in LOCAL_ENVIRONMENTS:
                return None
            raise ValueError(
                f"must be set in the {environment} environment; make one with {MAKE_A_KEY_COMMAND}"
            )
        check_secret_key(key.get_secret_value(), environment=environment)
        return key

    @field_validator("secret_key_fallbacks")
    @classmethod
    def _check_secret_key_fallbacks(
        cls, keys: list[SecretStr], info: ValidationInfo
    ) -> list[SecretStr]:
        environment = info.data.get("environment", "development")
        current = info.data.get("secret_key")
        seen = {current.get_secret_value()} if current else set()
        for index, key in enumerate(keys):
            secret = key.get_secret_value()
            check_secret_key(secret, environment=environment, name=f"[{index}] ")
            if secret in seen:
                raise ValueError(f"[{index}] repeats SECRET_KEY or an earlier fallback")
            seen.add(secret)
        return keys

    def signing_keys(self) -> list[str]:
        """The key tokens are signed with, then the fallbacks still accepted, newest first."""
        newest = (self.secret_key or process_secret_key()).get_secret_value()
        return [newest, *(key.get_secret_value() for key in self.secret_key_fallbacks)]

    def token_keys(self) -> TokenKeys:
        return TokenKeys.create(
            self.signing_keys(), issuer=self.token_issuer, audience=self.token_audience
        )

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
            include_local_variables=self.sentry_include_local_variables,
            known_secrets=self.secret_values(),
        )

    def secret_values(self) -> tuple[str, ...]:
        """The secrets this process holds, for the error tracker to redact wherever they appear."""
        urls = [self.database_url, self.rate_limit_storage_url]
{%- if cookiecutter.task_queue == "celery" %}
        urls += [self.celery_broker_url, self.celery_result_backend]
{%- endif %}
        # As written in the URL and as the driver holds it, percent-escapes decoded.
        passwords = [
            form
            for url in urls
            for password in (urlsplit(url).password, url_password(url))
            if password
            for form in (password, unquote(password))
        ]
        secrets_held = (*self.signing_keys(), *passwords)
        return tuple(dict.fromkeys(secret for secret in secrets_held if secret))


def url_password(url: str) -> str | None:
    """The password before a URL's last `@`, its scheme missing or mistyped as it may be.

    `urlsplit` finds none in `user:password@host/db`, and such a URL stops the start with an
    error whose stack frames hold it.
    """
    userinfo, at, _ = url.rpartition("@")
    _, colon, password = userinfo.rpartition("://")[2].partition(":")
    return password if at and colon else None


@cache
def process_secret_key() -> SecretStr:
    """What a development or test process signs with when SECRET_KEY is unset; dies with it."""
    return SecretStr(secrets.token_urlsafe(48))


def check_secret_key(secret: str, *, environment: str, name: str = "") -> None:
    """Refuse a key anyone can know anywhere, and a weak one outside development and test."""
    if secret.strip() in PUBLICLY_KNOWN_SECRET_KEYS:
        raise ValueError(f"{name}is a publicly known key; make one with {MAKE_A_KEY_COMMAND}")
    if environment in LOCAL_ENVIRONMENTS:
        return
    if secret != secret.strip():
        # Likely pasted with its line break; one process may strip it and another not.
        raise ValueError(f"{name}has spaces or a line break around it")
    if len(secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
        raise ValueError(
            f"{name}must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes "
            f"in the {environment} environment"
        )
    if estimated_bits(secret) < MIN_PRODUCTION_SECRET_BITS or is_repeated(secret):
        raise ValueError(f"{name}is not random enough; make one with {MAKE_A_KEY_COMMAND}")


def estimated_bits(secret: str) -> float:
    """The key's length times the Shannon entropy of its characters, in bits."""
    counts = Counter(secret).values()
    return -sum(count * math.log2(count / len(secret)) for count in counts)


def is_repeated(secret: str) -> bool:
    """Whether the key is a shorter string repeated: its characters' mix hides that."""
    return secret in (secret + secret)[1:-1]


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
