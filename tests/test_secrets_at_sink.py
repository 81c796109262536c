"""No planted secret reaches the error server, by any path the baked service reports on.

The default bake runs under uvicorn with its DSN pointing at an envelope sink. Known secret
values are planted (a password and so its Argon2 hash, a payment token, SECRET_KEY, a database
URL's password, a Redis URL's password), the service hands out its own (refresh tokens, a
verification link), and every path that sends an event is driven: an unhandled error in a
route, a handled payment provider outage, a failing background email, a database held locked
by another process, and a start that fails. The raw envelope bytes must hold none of them,
with the SDK's capture of stack-frame local variables on and off.
"""

import contextlib
import email
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from email.policy import default as default_policy

import httpx
import pytest

from harness.baking import BakedProject
from harness.error_servers import EnvelopeSink
from harness.mail_server import RefusingMailServer
from harness.processes import free_port, stop_process
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("secrets-at-sink"),
]

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
HOLD_THE_WRITE_LOCK = (
    "import sqlite3, sys, time\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


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


@contextlib.contextmanager
def database_locked_by_another_process(database_url: str) -> Iterator[None]:
    """Another process holds SQLite's write lock, as a long migration or a backup would."""
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    locker = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, path],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        yield
    finally:
        stop_process(locker)


def verification_token(mail: RefusingMailServer) -> str:
    deadline = time.monotonic() + 30
    while not mail.received():
        assert time.monotonic() < deadline, "no email reached the mail server"
        time.sleep(0.1)
    message = email.message_from_string(mail.received()[0], policy=default_policy)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"verify-email\?token=([\w.-]+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


def drive_the_service(
    client: httpx.Client, mail: RefusingMailServer, database_url: str, username: str
) -> list[str]:
    """Every reported path of a running service; returns the secrets it handed out."""
    address = f"{username}@example.com"
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": address, "username": username, "password": PASSWORD},
    )
    assert registered.status_code == 202, registered.text
    # The welcome email reaches the mail server, which then refuses it: its link still works.
    verified = client.post(
        "/api/v1/auth/verify-email",
        json={"token": verification_token(mail), "password": PASSWORD},
    )
    assert verified.status_code == 200, verified.text
    login = client.post("/api/v1/auth/login", data={"username": address, "password": PASSWORD})
    assert login.status_code == 200, login.text
    first_refresh = login.json()["refresh_token"]
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    # The provider refuses connections: the order is kept pending, a handled event is sent.
    products = client.get("/api/v1/products").json()
    cart = {
        "items": [{"product_id": products[0]["id"], "quantity": 1}],
        "payment_token": PAYMENT_TOKEN,
    }
    checkout = client.post(
        "/api/v1/checkout",
        json=cart,
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert checkout.status_code == 202, checkout.text

    # An unhandled error in a route.
    unhandled = client.get("/debug/sentry", headers=auth)
    assert unhandled.status_code == 500, unhandled.text

    # Another process holds the database: a sign-up and a log-in answer 503.
    with database_locked_by_another_process(database_url):
        other = f"other{secrets.token_hex(6)}"
        blocked = client.post(
            "/api/v1/auth/register",
            json={
                "email": f"{other}@example.com",
                "username": other,
                "password": PASSWORD,
            },
        )
        assert blocked.status_code == 503, blocked.text
        blocked_login = client.post(
            "/api/v1/auth/login", data={"username": address, "password": PASSWORD}
        )
        assert blocked_login.status_code == 503, blocked_login.text
    return [first_refresh, tokens["refresh_token"], tokens["access_token"]]


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


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_no_planted_secret_reaches_the_sink(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool
) -> None:
    username = f"planted{secrets.token_hex(6)}"
    with EnvelopeSink() as sink, RefusingMailServer() as mail:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            "EMAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
        }
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                handed_out = drive_the_service(client, mail, seeded_env["DATABASE_URL"], username)
            link_token = verification_token(mail)
            # The welcome email failed after its response; wait for its event.
            sink.wait_for(lambda s: "SMTPDataError" in exception_types(s), timeout=30)
            service.stop()

    types = exception_types(sink)
    print(f"\nexception types reported: {sorted(types)}")
    assert {"SetupCheckError", "SMTPDataError"} <= types, types
    planted = {
        "password": PASSWORD,
        "password hash": HASH_PREFIX,
        "payment token": PAYMENT_TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "verification link token": link_token,
        "first refresh token": handed_out[0],
        "second refresh token": handed_out[1],
        "access token": handed_out[2],
    }
    # Names in requests' own data (a sign-up's locals) are personal data, not secrets; with
    # local variables off they reach no event at all.
    if not local_variables:
        planted["username"] = username
    users = [event.get("user", {}) for event in sink.payloads("event")]
    named_users = [user for user in users if {"username", "email"} & user.keys()]
    found = leaked(sink.raw(), planted)
    if hash_part := HASH_SALT_AND_DIGEST.search(sink.raw()):
        found["password hash's salt and digest"] = hash_part.group()
    print(f"secrets at the sink: {sorted(found)}; users with a name: {len(named_users)}")
    assert found == {}, found
    assert named_users == [], named_users


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_a_failed_start_sends_no_database_or_redis_password(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool
) -> None:
    """Settings naming a database that cannot be reached: the start fails, and says so."""
    with EnvelopeSink() as sink:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            "DATABASE_URL": (
                f"postgresql+asyncpg://dbuser:{DATABASE_PASSWORD}@127.0.0.1:{free_port()}/app"
            ),
            "RATE_LIMIT_STORAGE_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0",
        }
        command = [
            str(installed_project.bin("uvicorn")),
            f"{installed_project.package}.main:app",
            "--port",
            str(free_port()),
        ]
        with tempfile.TemporaryFile(mode="w+") as log:
            process = subprocess.Popen(
                command, cwd=installed_project.root, env=env, stdout=log, stderr=log
            )
            try:
                process.wait(timeout=60)
            finally:
                stop_process(process)
            log.seek(0)
            output = log.read()
        assert process.returncode != 0, output
        sink.wait_for(lambda s: s.payloads("event"), timeout=15)

    planted = {
        "database password": DATABASE_PASSWORD,
        "Redis password": REDIS_PASSWORD,
        "SECRET_KEY": SECRET_KEY,
    }
    found = leaked(sink.raw(), planted)
    print(f"\nsecrets at the sink after a failed start: {sorted(found)}")
    assert found == {}, found
    assert DATABASE_PASSWORD not in output, output
    assert REDIS_PASSWORD not in output, output
