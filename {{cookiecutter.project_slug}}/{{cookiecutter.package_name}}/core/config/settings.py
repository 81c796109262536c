"""The one `Settings` object, composed of every concern's settings, and how a process gets it."""

from functools import lru_cache
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from {{ cookiecutter.package_name }}.core.config.auth import AuthSettings
from {{ cookiecutter.package_name }}.core.config.{{ cookiecutter.task_queue }} import TaskQueueSettings
from {{ cookiecutter.package_name }}.core.config.database.{{ cookiecutter.database }} import DatabaseSettings
from {{ cookiecutter.package_name }}.core.config.email import EmailSettings
from {{ cookiecutter.package_name }}.core.config.http import HttpSettings
from {{ cookiecutter.package_name }}.core.config.payments import PaymentSettings
from {{ cookiecutter.package_name }}.core.config.sentry import PRIVATE_BODY_PATHS, SentrySettings
from {{ cookiecutter.package_name }}.core.config.service import HoldsPassword
from {{ cookiecutter.package_name }}.observability import SentryOptions


class Settings(
    AuthSettings,
    HttpSettings,
    DatabaseSettings,
    PaymentSettings,
    TaskQueueSettings,
    EmailSettings,
    SentrySettings,
):
    """Every setting, each read from the environment variable of its name in capitals."""

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
        urls = [
            getattr(self, name)
            for name, field in type(self).model_fields.items()
            if any(isinstance(marker, HoldsPassword) for marker in field.metadata)
        ]
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
