"""Sentry Logs: off by default; when on, records name request, trace and user, scrubbed."""

import logging
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.checkout.payments import HttpPaymentProvider
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import init_sentry
from {{ cookiecutter.package_name }}.observability.sentry_logs import make_before_send_log
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import PASSWORD, SignUp

logger = logging.getLogger("{{ cookiecutter.package_name }}.tests")
CARD_NUMBER = "4111 1111 1111 1111"


def log_records(transport: CapturingTransport) -> list[dict[str, Any]]:
    sentry_sdk.flush()
    return [record for batch in transport.items("log") for record in batch["items"]]


def attribute(record: dict[str, Any], name: str) -> Any:
    return record["attributes"][name]["value"]


def test_sentry_logs_are_off_by_default(
    sentry: CapturingTransport, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert settings.sentry_logs is False
    logger.warning("Nothing of this goes to Sentry's logs")

    assert log_records(sentry) == []


@pytest.mark.usefixtures("catalogue")
async def test_sentry_logs_carry_request_trace_and_user_and_no_secret(
    client: httpx.AsyncClient,
    sentry: CapturingTransport,
    sign_up: SignUp,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    app: FastAPI,
) -> None:
    caplog.set_level(logging.INFO)  # as configure_logging sets it in the service
    with_logs = settings.model_copy(update={"sentry_logs": True})
    init_sentry(with_logs.sentry_options(), transport=sentry)
    user = await sign_up()
    # The provider is down: the checkout logs a warning while it handles the request.
    app.state.payment_provider = HttpPaymentProvider(
        httpx.AsyncClient(), base_url="http://127.0.0.1:9", timeout=1.0
    )
    products = (await client.get("/api/v1/products")).json()
    cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}], "payment_token": "tok"}
    response = await client.post("/api/v1/checkout", json=cart, headers=user["headers"])
    with sentry_sdk.start_transaction(name="job"):
        logger.info(
            "Paying with %s, token=%s, for %s",
            CARD_NUMBER,
            user["token"],
            user["email"],
            extra={"password": PASSWORD, "order": 7},
        )
    logging.getLogger("uvicorn.access").info('127.0.0.1:5000 - "GET / HTTP/1.1" 200')

    records = log_records(sentry)
    assert records, "no log record reached Sentry"
    assert "uvicorn.access" not in {attribute(r, "logger.name") for r in records}
    in_request = [
        r
        for r in records
        if r["attributes"].get("request_id", {}).get("value") == response.headers["X-Request-ID"]
    ]
    assert in_request, "no record names the checkout's request id"
    assert all(attribute(r, "user.id") == str(user["id"]) for r in in_request)
    checkout = next(t for t in sentry.transactions if t["transaction"] == "/api/v1/checkout")
    assert {r["trace_id"] for r in in_request} == {checkout["contexts"]["trace"]["trace_id"]}

    [paying] = [r for r in records if r["body"].startswith("Paying")]
    assert paying["body"] == "Paying with [card], token=[Filtered], for [email]"
    assert attribute(paying, "password") == "[Filtered]"
    assert attribute(paying, "order") == 7
    raw = sentry.raw().decode()
    for secret in (PASSWORD, user["token"], CARD_NUMBER, user["email"]):
        assert secret not in raw, f"{secret!r} left the process"


def test_a_log_record_carries_none_of_the_services_own_secrets() -> None:
    key = "signing-key-" + "k" * 40
    before_send_log = make_before_send_log(personal_data=False, known_secrets=(key, "pa/ss"))
    log: Any = {
        "body": f"config loaded with key {key} and postgresql://app:pa/ss@db/app",
        "attributes": {"logger.name": "x", "settings": f"Settings(secret_key={key!r})"},
    }

    scrubbed = before_send_log(log, {})

    assert scrubbed is not None
    assert key not in str(scrubbed)
    assert "pa/ss" not in str(scrubbed)


def test_sentry_logs_redact_the_secrets_the_service_holds(
    sentry: CapturingTransport, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with_logs = settings.model_copy(update={"sentry_logs": True})
    init_sentry(with_logs.sentry_options(), transport=sentry)
    [signing_key, *_] = settings.secret_values()

    logger.info("Started with %s", signing_key, extra={"key": signing_key})

    [started] = [r for r in log_records(sentry) if r["body"].startswith("Started")]
    assert started["body"] == "Started with [Filtered]"
    assert attribute(started, "key") == "[Filtered]"
    assert signing_key.encode() not in sentry.raw()
