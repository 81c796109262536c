import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.config import ConfigurationError, Settings, get_settings
from {{ cookiecutter.package_name }}.core.config.keys import (
    PUBLICLY_KNOWN_SECRET_KEYS,
    RANDOM_KEY_NOTICE,
    process_secret_key,
)
from {{ cookiecutter.package_name }}.core.config.settings import describe_validation_error

RELEASE = "{{ cookiecutter.project_slug }}@{{ cookiecutter.version }}"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = ["staging", "production"]


def make_settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def deployed_settings(environment: str, **values: object) -> Settings:
    """Settings that start in `environment`, but for `values`."""
    return make_settings(
        **{
            "environment": environment,
            "secret_key": secrets.token_urlsafe(48),
            "email_backend": "smtp",
            **values,
        }
    )


def refusal(environment: str, **values: object) -> str:
    """The one line naming the setting that stops the start."""
    with pytest.raises(ValidationError) as raised:
        deployed_settings(environment, **values)
    lines = describe_validation_error(raised.value).splitlines()
    assert len(lines) == 2, lines
    return lines[1]


@pytest.mark.parametrize("environment", ["development", "test"])
def test_without_a_key_a_local_process_signs_with_a_random_key_of_its_own(
    environment: str,
) -> None:
    settings = make_settings(environment=environment)

    signing_key = settings.token_keys().keys[settings.token_keys().signing_kid]
    assert signing_key == process_secret_key().get_secret_value()
    assert len(signing_key) >= 64
    assert signing_key not in PUBLICLY_KNOWN_SECRET_KEYS
    # The same key for every Settings of the process: tokens hold while it runs.
    assert make_settings(environment=environment).token_keys() is settings.token_keys()


@pytest.mark.parametrize("environment", DEPLOYED)
@pytest.mark.parametrize("unset", [None, ""])
def test_every_other_environment_refuses_to_start_without_a_key(
    environment: str, unset: str | None
) -> None:
    assert refusal(environment, secret_key=unset) == (
        f"  SECRET_KEY: must be set in the {environment} environment; make one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )


@pytest.mark.parametrize("known_key", sorted(PUBLICLY_KNOWN_SECRET_KEYS))
@pytest.mark.parametrize("environment", ["development", "test", *DEPLOYED])
def test_a_publicly_known_key_is_refused_in_every_environment(
    known_key: str, environment: str
) -> None:
    as_key = refusal(environment, secret_key=known_key)
    as_fallback = refusal(environment, secret_key_fallbacks=[known_key])

    assert as_key.startswith("  SECRET_KEY: is a publicly known key")
    assert as_fallback.startswith("  SECRET_KEY_FALLBACKS: [0] is a publicly known key")


def test_every_key_the_example_settings_show_is_publicly_known() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text()

    assert re.search(r"^SECRET_KEY=$", example, re.MULTILINE), "the example must carry no key"
    shown = re.findall(r"SECRET_KEY\w*=(.+)$", example, re.MULTILINE)
    keys = {key for value in shown for key in re.findall(r'"([^"]+)"', value) or [value]}
    assert keys <= PUBLICLY_KNOWN_SECRET_KEYS


async def test_development_says_once_that_its_key_is_random(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    development = settings.model_copy(update={"environment": "development", "secret_key": None})
    app: FastAPI = create_app(development)

    with caplog.at_level(logging.WARNING):
        async with app.router.lifespan_context(app):
            pass

    assert [record.getMessage() for record in caplog.records] == [RANDOM_KEY_NOTICE]


@pytest.mark.parametrize("environment", DEPLOYED)
def test_deployed_environments_refuse_a_short_key(environment: str) -> None:
    assert refusal(environment, secret_key="too-short") == (
        f"  SECRET_KEY: must be at least 32 bytes in the {environment} environment"
    )


@pytest.mark.parametrize("secret", ["x" * 31, "\u00e9" * 15 + "x"])
def test_production_refuses_a_secret_one_byte_short(secret: str) -> None:
    assert "at least 32 bytes" in refusal("production", secret_key=secret)


@pytest.mark.parametrize(
    "secret",
    [
        "x" * 48,
        "ab" * 24,
        "0123456" * 7,
        "abcdefgh" * 4,
        "abcdefgh" * 4 + "a",
        "ab" * 30 + "ba",
    ],
)
def test_production_refuses_a_long_key_of_little_entropy(secret: str) -> None:
    assert refusal("production", secret_key=secret).startswith("  SECRET_KEY: is not random enough")


@pytest.mark.parametrize(
    "make_key",
    [lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(32)],
    ids=["token_urlsafe(32)", "openssl rand -hex 32"],
)
def test_production_accepts_a_random_key_of_32_bytes(make_key: Callable[[], str]) -> None:
    for _ in range(200):
        deployed_settings("production", secret_key=make_key())


@pytest.mark.parametrize("known_key", sorted(PUBLICLY_KNOWN_SECRET_KEYS))
@pytest.mark.parametrize("around", [" ", "\n", "\t ", "\r\n"])
def test_a_publicly_known_key_is_refused_with_whitespace_around_it(
    known_key: str, around: str
) -> None:
    for padded in (known_key + around, around + known_key):
        assert refusal("development", secret_key=padded).startswith(
            "  SECRET_KEY: is a publicly known key"
        )


@pytest.mark.parametrize("environment", DEPLOYED)
def test_deployed_environments_refuse_a_key_with_whitespace_around_it(environment: str) -> None:
    key = secrets.token_urlsafe(48)

    assert refusal(environment, secret_key=key + "\n").startswith(
        "  SECRET_KEY: has spaces or a line break around it"
    )
    assert refusal(environment, secret_key_fallbacks=[" " + key]).startswith(
        "  SECRET_KEY_FALLBACKS: [0] has spaces or a line break around it"
    )


def test_production_refuses_a_key_reused_as_a_fallback() -> None:
    key, old = secrets.token_urlsafe(48), secrets.token_urlsafe(48)

    assert refusal("production", secret_key=key, secret_key_fallbacks=[old, key]) == (
        "  SECRET_KEY_FALLBACKS: [1] repeats SECRET_KEY or an earlier fallback"
    )
    assert refusal("production", secret_key=key, secret_key_fallbacks=[old, old]) == (
        "  SECRET_KEY_FALLBACKS: [1] repeats SECRET_KEY or an earlier fallback"
    )


def test_production_refuses_the_console_email_backend() -> None:
    assert refusal("production", email_backend="console").startswith(
        "  EMAIL_BACKEND: console writes whole emails"
    )


@pytest.mark.parametrize("environment", DEPLOYED)
@pytest.mark.parametrize("switch", ["database_echo", "sentry_debug"])
def test_deployed_environments_refuse_switches_that_log_what_requests_carry(
    environment: str, switch: str
) -> None:
    assert refusal(environment, **{switch: True}) == (
        f"  {switch.upper()}: writes what requests carry to the log; "
        f"unset it in the {environment} environment"
    )


def test_production_accepts_a_random_key() -> None:
    settings = deployed_settings("production")

    assert settings.is_production
    assert settings.traces_sample_rate == 0.1
    assert settings.profile_session_sample_rate == 0.1
    assert settings.logs_as_json


def test_release_names_version_and_commit() -> None:
    assert make_settings().release == RELEASE
    with_sha = make_settings(git_sha="0123456789abcdef0123")
    assert with_sha.release == f"{RELEASE}+0123456789ab"


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql+asyncpg://app:s3cr3t-pw@db:5432/app",
        # Its scheme lost in copying: the start fails, with the URL in its stack frames.
        "app:s3cr3t-pw@db:5432/app",
        "postgresq://app:s3cr3t-pw@db/app",
    ],
)
def test_the_database_password_is_a_known_secret_whatever_the_url(database_url: str) -> None:
    assert "s3cr3t-pw" in make_settings(database_url=database_url).secret_values()


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
