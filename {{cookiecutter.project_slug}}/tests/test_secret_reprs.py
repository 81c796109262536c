"""What a stack frame may carry: secrets are held in types whose repr hides them, the SDK sends
no local variables unless told to, and with them on the scrubber still redacts known secrets."""

import json

import pytest
import sentry_sdk

from {{ cookiecutter.package_name }}.checkout.payments import Charge
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import SentryOptions, init_sentry
from {{ cookiecutter.package_name }}.observability.scrubbing import scrub_event
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

DATABASE_PASSWORD = "db-pw-planted-1"
REDIS_PASSWORD = "redis-pw-planted-2"
PAYMENT_TOKEN = "tok_planted_3"
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def test_a_charge_shows_no_payment_token() -> None:
    charge = Charge(order_id=1, amount_cents=500, currency="USD", payment_token=PAYMENT_TOKEN)

    assert PAYMENT_TOKEN not in repr(charge)
    assert PAYMENT_TOKEN not in str(charge)


def test_settings_show_no_database_or_redis_password() -> None:
    settings = Settings(
        database_url=f"postgresql+asyncpg://app:{DATABASE_PASSWORD}@db.internal/app",
        rate_limit_storage_url=f"redis://:{REDIS_PASSWORD}@cache.internal:6379/2",
{%- if cookiecutter.task_queue == "celery" %}
        celery_broker_url=f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0",
        celery_result_backend=f"redis://:{REDIS_PASSWORD}@cache.internal:6379/1",
{%- endif %}
        sentry_dsn="https://public@o1.ingest.sentry.io/1",
    )

    for shown in (repr(settings), str(settings), repr(settings.sentry_options())):
        assert DATABASE_PASSWORD not in shown
        assert REDIS_PASSWORD not in shown
        assert "public@" not in shown
        assert "change-me" not in shown


def test_the_service_names_its_own_secrets_for_redaction() -> None:
    settings = Settings(
        secret_key="k" * 40,
        database_url=f"postgresql+asyncpg://app:{DATABASE_PASSWORD}@db.internal/app",
        rate_limit_storage_url="redis://:p%40ss@cache.internal:6379/2",
    )

    known = settings.sentry_options().known_secrets
    assert {"k" * 40, DATABASE_PASSWORD, "p%40ss", "p@ss"} <= set(known)


def test_a_password_in_any_connection_url_is_named_for_redaction() -> None:
    """Every setting the repr leaves out: the database's, the throttling store's, the broker's."""
    hidden = [name for name, field in Settings.model_fields.items() if not field.repr]
    settings = Settings.model_validate(
        {name: f"redis://:planted-{name}@cache.internal:6379/0" for name in hidden}
    )

    assert {"database_url", "rate_limit_storage_url"} <= set(hidden)
    assert {f"planted-{name}" for name in hidden} <= set(settings.secret_values())


def test_local_variables_are_off_by_default() -> None:
    assert Settings().sentry_options().include_local_variables is False
    assert Settings(sentry_include_local_variables=True).sentry_options().include_local_variables


def _report_an_error_holding_secrets(*, include_local_variables: bool) -> str:
    """Raise and capture an error whose frame holds secrets; the event as it would leave."""
    transport = CapturingTransport()
    options = SentryOptions(
        dsn="https://public@o1.ingest.sentry.io/1",
        environment="test",
        release="test",
        include_local_variables=include_local_variables,
        known_secrets=(DATABASE_PASSWORD,),
    )
    init_sentry(options, transport=transport)
    try:
        url = f"postgresql+asyncpg://app:{DATABASE_PASSWORD}@db.internal/app"
        parameters = ("ada@example.com", "ada", PASSWORD_HASH)
        described = f"Charge(order_id=1, payment_token='{PAYMENT_TOKEN}')"
        # As a driver holds a parsed URL: the password alone, with no shape to recognise.
        parts = ("postgresql", "app", DATABASE_PASSWORD, "db.internal")
        raise RuntimeError(
            f"could not store {len(parameters)} values at {url} ({described}, {len(parts)})"
        )
    except RuntimeError as error:
        sentry_sdk.capture_exception(error)
    [event] = transport.events
    sentry_sdk.get_client().close()
    return json.dumps(event)


def test_no_frame_sends_its_local_variables_by_default() -> None:
    event = json.loads(_report_an_error_holding_secrets(include_local_variables=False))

    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames
    assert not [frame for frame in frames if frame.get("vars")]


@pytest.mark.parametrize("include_local_variables", [False, True])
def test_known_secret_shapes_are_redacted_even_with_local_variables(
    include_local_variables: bool,
) -> None:
    sent = _report_an_error_holding_secrets(include_local_variables=include_local_variables)

    for secret in (DATABASE_PASSWORD, PAYMENT_TOKEN, "$argon2", "ada@example.com"):
        assert secret not in sent


@pytest.mark.parametrize("personal_data", [False, True])
def test_the_user_is_an_opaque_id_without_personal_data(personal_data: bool) -> None:
    user = {"id": "7", "username": "ada", "email": "ada@example.com", "ip_address": "203.0.113.7"}
    event = scrub_event({"user": dict(user)}, personal_data=personal_data)

    named = {"id": "7", "username": "ada", "email": "ada@example.com"}
    assert event["user"] == (named if personal_data else {"id": "7"})
