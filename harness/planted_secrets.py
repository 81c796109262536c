"""Known secret values planted in a baked service, and where to look for them afterwards.

Shared by the tests that drive the service's reporting paths at an envelope sink
(tests/test_secrets_at_sink*.py): the planted values, the environment that plants them,
and the search of raw envelope bytes and logs.
"""

import email
import re
import secrets
import time
from email.policy import default as default_policy

import httpx

from harness.error_servers import EnvelopeSink
from harness.mail_server import RefusingMailServer
from harness.processes import free_port

PASSWORD = f"planted-Pw-{secrets.token_hex(8)}"
PAYMENT_TOKEN = f"tok_planted{secrets.token_hex(8)}"
SECRET_KEY = f"planted-key-{secrets.token_urlsafe(40)}"
DATABASE_PASSWORD = f"dbpw{secrets.token_hex(10)}"
REDIS_PASSWORD = f"redispw{secrets.token_hex(10)}"
# Every Argon2 hash starts so; none may leave, whoever's password it hashes.
HASH_PREFIX = "$argon2"
# What follows the prefix and its parameters: the salt and digest, base64 without padding.
HASH_SALT_AND_DIGEST = re.compile(rb"\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{16,}")
LOCKED_DATABASE_WAIT_SECONDS = "1"


def planted_env(base_env: dict, dsn: str, *, local_variables: bool) -> dict:
    return {
        **base_env,
        "ENVIRONMENT": "staging",
        "SECRET_KEY": SECRET_KEY,
        "SENTRY_DSN": dsn,
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0",
        "SENTRY_INCLUDE_LOCAL_VARIABLES": str(local_variables).lower(),
        "PAYMENT_PROVIDER": "http",
        # Nothing listens there: the provider refuses connections.
        "PAYMENT_API_URL": f"http://127.0.0.1:{free_port()}",
        "PAYMENT_TIMEOUT_SECONDS": "5",
        "PAYMENT_RETRY_INTERVAL_SECONDS": "0",
        "DATABASE_POOL_TIMEOUT_SECONDS": LOCKED_DATABASE_WAIT_SECONDS,
        "AUTH_RATE_LIMIT_PER_CLIENT": "1000/minute",
        "AUTH_RATE_LIMIT_PER_ACCOUNT": "1000/minute",
    }


def mailed_link_token(
    mail: RefusingMailServer, page: str = "verify-email", *, index: int = 0
) -> str:
    """The token of the link to `page` in the `index`th email the mail server received."""
    deadline = time.monotonic() + 30
    while len(mail.received()) <= index:
        assert time.monotonic() < deadline, "no email reached the mail server"
        time.sleep(0.1)
    message = email.message_from_string(mail.received()[index], policy=default_policy)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(rf"{re.escape(page)}\?token=([\w.-]+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


def exception_types(sink: EnvelopeSink) -> set[str]:
    return {
        value["type"]
        for event in sink.payloads("event")
        for value in event.get("exception", {}).get("values", [])
    }


def leaked(raw: bytes, planted: dict[str, str]) -> dict[str, bytes]:
    """The planted secrets found, by name, each with what surrounds its first occurrence."""
    found = {}
    for name, secret in planted.items():
        if (at := raw.find(secret.encode())) != -1:
            found[name] = raw[max(0, at - 100) : at + len(secret) + 20]
    return found


def leaked_anywhere(raw: bytes, planted: dict[str, str]) -> dict[str, bytes]:
    """`leaked`, and any part of a password hash (its prefix, or its salt and digest)."""
    found = leaked(raw, {"password hash": HASH_PREFIX, **planted})
    if hash_part := HASH_SALT_AND_DIGEST.search(raw):
        found["password hash's salt and digest"] = hash_part.group()
    return found


def smtp_env(mail: RefusingMailServer) -> dict[str, str]:
    """Settings that send the service's email to `mail`, which refuses every message."""
    return {"EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port)}


def signed_in(client: httpx.Client, mail: RefusingMailServer, username: str) -> dict[str, str]:
    """Sign up with the planted password, verify by the mailed link, log in; return the tokens.

    The verification link's token comes back too: the service handed it out, so it is a secret
    the sink must not see either.
    """
    address = f"{username}@example.com"
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": address, "username": username, "password": PASSWORD},
    )
    assert registered.status_code == 202, registered.text
    link_token = mailed_link_token(mail)
    verified = client.post(
        "/api/v1/auth/verify-email", json={"token": link_token, "password": PASSWORD}
    )
    assert verified.status_code == 200, verified.text
    login = client.post("/api/v1/auth/login", data={"username": address, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {
        "verification link token": link_token,
        "refresh token": login.json()["refresh_token"],
        "access token": login.json()["access_token"],
    }


def assert_sign_up_and_log_in_unavailable(
    client: httpx.Client, *, new_username: str, account: str
) -> None:
    """During an outage, a sign-up as `new_username` and a log-in to `account`, an address the
    planted password opens, both answer 503: the password goes to the service either way."""
    registered = client.post(
        "/api/v1/auth/register",
        json={
            "email": f"{new_username}@example.com",
            "username": new_username,
            "password": PASSWORD,
        },
    )
    assert registered.status_code == 503, registered.text
    login = client.post("/api/v1/auth/login", data={"username": account, "password": PASSWORD})
    assert login.status_code == 503, login.text
