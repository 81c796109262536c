{% if cookiecutter.task_queue == "background" -%}
import asyncio
import logging

{% endif -%}
import httpx
import pytest
from fastapi import FastAPI

{%- if cookiecutter.task_queue == "celery" %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.task_queue import create_celery_app
{%- else %}

from {{ cookiecutter.package_name }}.emails.backends import SmtpEmailBackend
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport
{%- endif %}

from .conftest import SignUp

EMAIL = {"to": "friend@example.com", "subject": "Hello", "body": "See you soon."}
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
    assert "Email to friend@example.com: Hello" in caplog.text


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


@pytest.mark.parametrize(
    "subject",
    ["Hi\r\nBcc: everyone@example.com", "Hi\x1dBcc: x@example.com", "Hi\u2028there", "Hi\x85"],
)
async def test_header_injection_in_the_subject_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, subject: str
) -> None:
    user = await sign_up()
    email = {**EMAIL, "subject": subject}

    response = await client.post("/api/v1/emails/send", json=email, headers=user["headers"])

    assert response.status_code == 422
