{% if cookiecutter.task_queue == "background" -%}
import asyncio
{% endif -%}
import logging
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.security import create_access_token
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import create_celery_app
{%- endif %}
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.emails.backends import ConsoleEmailBackend
{%- else %}
from {{ cookiecutter.package_name }}.emails.backends import ConsoleEmailBackend, SmtpEmailBackend
{%- endif %}
from {{ cookiecutter.package_name }}.emails.schemas import InvitationRequest
from {{ cookiecutter.package_name }}.observability import init_sentry
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import SignUp

EMAIL = {"to": "friend@example.com", "note": "See you soon."}
{%- if cookiecutter.task_queue == "celery" %}


async def test_email_is_queued_for_the_worker(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    user = await sign_up()

    response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])

    assert response.status_code == 202
    assert response.json() == {"status": "queued"}


async def test_a_broker_that_is_down_is_a_503(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, settings: Settings
) -> None:
    user = await sign_up()
    unreachable = settings.model_copy(update={"celery_broker_url": "redis://127.0.0.1:9/0"})
    create_celery_app(unreachable).set_default()
    try:
        response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])
    finally:
        create_celery_app(settings).set_default()

    assert response.status_code == 503
    assert "queue" in response.json()["detail"]
{%- else %}


async def test_email_is_queued_and_sent_after_the_response(
    client: httpx.AsyncClient, sign_up: SignUp, caplog: pytest.LogCaptureFixture
) -> None:
    user = await sign_up()

    with caplog.at_level(logging.INFO):
        response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])

    assert response.status_code == 202
    assert response.json() == {"status": "queued"}
    assert f"Email to friend@example.com: {user['username']} invites you to" in caplog.text
    assert '"See you soon."' in caplog.text


async def test_a_failing_smtp_server_is_reported_not_raised(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    app.state.email_backend = SmtpEmailBackend(host="127.0.0.1", port=9, timeout=1.0)

    response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])

    assert response.status_code == 202
    [event] = sentry.events
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is True
    assert event["fingerprint"][:3] == ["handled", "email", "smtp"]
    assert event["user"]["id"] == str(user["id"])
    assert event["tags"]["plan"] == "free"


async def test_an_smtp_server_that_never_answers_times_out_and_is_reported(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    # Held, because a writer that is garbage collected closes its connection.
    held: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _, writer: held.append(writer), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    app.state.email_backend = SmtpEmailBackend(host="127.0.0.1", port=port, timeout=0.2)

    async with silent:
        response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])
        for writer in held:
            writer.close()

    assert response.status_code == 202
    [event] = sentry.events
    assert event["fingerprint"] == ["handled", "email", "smtp", "TimeoutError"]
{%- endif %}


async def test_console_emails_reach_the_terminal_and_never_sentry(
    sentry: CapturingTransport, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as configure_logging sets it in the service
    with_logs = settings.model_copy(update={"sentry_logs": True})
    init_sentry(with_logs.sentry_options(), transport=sentry)
    message = EmailMessage()
    message["To"] = "ada@example.com"
    message["Subject"] = "Welcome"
    message.set_content("Your account adalovelace42 is ready: https://app.example/verify?t=Zm9v")

    await ConsoleEmailBackend().send(message)
    sentry_sdk.capture_message("after the email")  # with its breadcrumbs
    sentry_sdk.flush()

    assert "Your account adalovelace42 is ready: https://app.example/verify?t=Zm9v" in caplog.text
    assert sentry.events, "no event reached the transport"
    for leaked in (b"adalovelace42", b"Zm9v", b"Welcome"):
        assert leaked not in sentry.raw()


@pytest.mark.parametrize(
    "field",
    [
        {"note": "Hi\r\nBcc: everyone@example.com"},
        {"note": "Hi\x1dthere"},
        {"note": "Hi\u2028there"},
        {"note": "Cheap pills at https://example.com/buy"},
        {"note": "Cheap pills at www.example.com"},
        {"note": "x" * 301},
        {"subject": "Anything I like"},
        {"body": "Anything I like"},
    ],
)
async def test_an_invitation_carries_no_content_of_the_senders_choosing(
    client: httpx.AsyncClient, sign_up: SignUp, field: dict[str, str]
) -> None:
    user = await sign_up()
    email = {**EMAIL, **field}

    response = await client.post("/api/v1/emails/send", json=email, headers=user["headers"])

    assert response.status_code == 422


@pytest.mark.parametrize(
    "note",
    [
        "visit evil.example",
        "visit 203.0.113.7/win",
        "visit пример.рф",
        "visit xn--e1afmkfd.xn--p1ai",
        "visit paypal\u200b.com/login",
        "visit evil\u00ad.example",
        "visit evil\u2060.com",
        "visit evil\ufeff.com",
        "visit evil\u2024example",
        "visit evil\ufe52example",
        "visit evil\u00b7example",
        "visit evil\u06d4example",
        "visit bit\u2e2ely",
        "visit evil\u3002\u200bcom",
        "visit \uff45\uff56\uff49\uff4c.com",  # full-width letters
        "visit evil.c\u043em",  # a Cyrillic o
        "visit e\u0301vil.com",
        "visit evil[.]com",
        "visit evil (dot) com",
        "visit evil dot com",
        "visit evil . com",
        "https\uff1a//evil",
    ],
)
def test_a_note_cannot_carry_a_link_in_any_disguise(note: str) -> None:
    with pytest.raises(ValidationError, match="links or domain names"):
        InvitationRequest(to="friend@example.com", note=note)


@pytest.mark.parametrize(
    "note",
    [
        "See you soon.",
        "Bring 3.5 kg of cake, at 10:30. Don't be late!",
        "Café, crème brûlée — and friends (lots of them).",
        "Tschüss. Bis bald",
        "Увидимся скоро. Пока",
    ],
)
def test_an_ordinary_note_passes(note: str) -> None:
    assert InvitationRequest(to="friend@example.com", note=note).note == note


async def test_an_invitation_is_the_services_text_with_the_users_note(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage], settings: Settings
) -> None:
    user = await sign_up()
    outbox.clear()

    response = await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])

    assert response.status_code == 202
    [invitation] = outbox
    assert invitation["To"] == "friend@example.com"
    assert invitation["From"] == settings.email_sender
    assert invitation["Subject"] == f"{user['username']} invites you to {settings.project_name}"
    assert 'Their note: "See you soon."' in invitation.get_content()


async def test_a_token_issued_to_an_unverified_account_cannot_send(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, outbox: list[EmailMessage]
) -> None:
    user = await sign_up(verified=False)
    outbox.clear()
    # As issued before unverified accounts stopped signing in.
    token = create_access_token(
        subject=user["id"], keys=settings.token_keys(), expires_in=timedelta(minutes=5)
    )

    response = await client.post(
        "/api/v1/emails/send", json=EMAIL, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert outbox == []


async def test_a_verified_account_is_throttled_and_reported(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    outbox: list[EmailMessage],
    sentry: CapturingTransport,
    settings: Settings,
) -> None:
    user = await sign_up()
    outbox.clear()
    allowed = 3  # the default EMAIL_RATE_LIMIT_PER_USER, per minute
    assert settings.email_rate_limit_per_user.startswith(f"{allowed}/minute")

    responses = [
        await client.post("/api/v1/emails/send", json=EMAIL, headers=user["headers"])
        for _ in range(allowed + 1)
    ]

    assert [response.status_code for response in responses] == [202] * allowed + [429]
    assert int(responses[-1].headers["Retry-After"]) > 0
    assert len(outbox) == allowed
    [event] = sentry.events
    assert event["fingerprint"] == ["handled", "security", "email_throttled"]
    assert event["user"]["id"] == str(user["id"])
