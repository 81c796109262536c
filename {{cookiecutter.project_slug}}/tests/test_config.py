import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.core.config import (
    ConfigurationError,
    Settings,
    describe_validation_error,
    get_settings,
)

RELEASE = "{{ cookiecutter.project_slug }}@{{ cookiecutter.version }}"


def make_settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        make_settings(environment="production")


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        make_settings(environment="production", secret_key="too-short")


@pytest.mark.parametrize("secret", ["x" * 31, "\u00e9" * 15 + "x"])
def test_production_refuses_a_secret_one_byte_short(secret: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        make_settings(environment="production", secret_key=secret)


def test_production_accepts_a_long_secret() -> None:
    settings = make_settings(environment="production", secret_key="x" * 48)

    assert settings.is_production
    assert settings.traces_sample_rate == 0.1
    assert settings.profile_session_sample_rate == 0.1
    assert settings.logs_as_json


def test_release_names_version_and_commit() -> None:
    assert make_settings().release == RELEASE
    with_sha = make_settings(git_sha="0123456789abcdef0123")
    assert with_sha.release == f"{RELEASE}+0123456789ab"


def test_sentry_is_off_without_a_dsn() -> None:
    assert make_settings().sentry_options().dsn is None
    assert make_settings(sentry_dsn="https://key@errors.example.com/1").sentry_options().dsn


def test_invalid_configuration_is_one_readable_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_TIMEOUT_SECONDS", "-1")
    monkeypatch.setenv("EMAIL_BACKEND", "pigeon")
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError) as raised:
        get_settings()

    message = str(raised.value)
    assert message.startswith("Invalid configuration:")
    assert "PAYMENT_TIMEOUT_SECONDS" in message
    assert "EMAIL_BACKEND" in message
    assert "Traceback" not in message
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("dsn", "reason"),
    [
        ("errors.example.com/1", "Unsupported scheme"),
        ("https://errors.example.com/1", "Missing public key"),
        ("https://0123abcd@errors.example.com/", "Invalid project"),
        ("https://0123abcd@errors.example.com:99999/1", "Port out of range"),
    ],
)
def test_a_malformed_sentry_dsn_is_one_readable_message(
    monkeypatch: pytest.MonkeyPatch, dsn: str, reason: str
) -> None:
    monkeypatch.setenv("SENTRY_DSN", dsn)
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError) as raised:
        get_settings()

    get_settings.cache_clear()
    message = str(raised.value)
    assert message.startswith("Invalid configuration:\n  SENTRY_DSN: not a Sentry DSN (")
    assert reason in message
    assert "0123abcd" not in message


def test_an_empty_sentry_dsn_turns_error_tracking_off() -> None:
    assert make_settings(sentry_dsn="").sentry_options().dsn is None


def test_describe_validation_error_names_each_field() -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings(smtp_port=0)

    assert "SMTP_PORT" in describe_validation_error(raised.value)
