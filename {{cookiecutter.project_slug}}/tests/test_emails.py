import logging

import httpx
import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.emails.backends import SmtpEmailBackend
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import SignUp

EMAIL = {"to": "friend@example.com", "subject": "Hello", "body": "See you soon."}


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
    [event] = [event for event in sentry.events if event.get("fingerprint")]
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is True
    assert event["fingerprint"][:3] == ["handled", "email", "smtp"]
    assert event["user"]["id"] == str(user["id"])
    assert event["tags"]["plan"] == "free"


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
