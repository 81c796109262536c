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
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator

import httpx
import pytest

from harness.baking import BakedProject
from harness.error_servers import EnvelopeSink
from harness.mail_server import RefusingMailServer
from harness.planted_secrets import (
    DATABASE_PASSWORD,
    PASSWORD,
    PAYMENT_TOKEN,
    REDIS_PASSWORD,
    SECRET_KEY,
    assert_sign_up_and_log_in_unavailable,
    exception_types,
    leaked,
    leaked_anywhere,
    mailed_link_token,
    planted_env,
    smtp_env,
)
from harness.processes import free_port, stop_process
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("secrets-at-sink"),
]

HOLD_THE_WRITE_LOCK = (
    "import sqlite3, sys, time\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


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
        json={"token": mailed_link_token(mail), "password": PASSWORD},
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
        assert_sign_up_and_log_in_unavailable(
            client, new_username=f"other{secrets.token_hex(6)}", account=address
        )
    return [first_refresh, tokens["refresh_token"], tokens["access_token"]]


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_no_planted_secret_reaches_the_sink(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool
) -> None:
    username = f"planted{secrets.token_hex(6)}"
    with EnvelopeSink() as sink, RefusingMailServer() as mail:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            **smtp_env(mail),
        }
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                handed_out = drive_the_service(client, mail, seeded_env["DATABASE_URL"], username)
            link_token = mailed_link_token(mail)
            # The welcome email failed after its response; wait for its event.
            sink.wait_for(lambda s: "SMTPDataError" in exception_types(s), timeout=30)
            service.stop()

    types = exception_types(sink)
    print(f"\nexception types reported: {sorted(types)}")
    assert {"SetupCheckError", "SMTPDataError"} <= types, types
    planted = {
        "password": PASSWORD,
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
    found = leaked_anywhere(sink.raw(), planted)
    print(f"secrets at the sink: {sorted(found)}; users with a name: {len(named_users)}")
    assert found == {}, found
    assert named_users == [], named_users


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
@pytest.mark.parametrize("scheme", ["postgresql+asyncpg://", ""], ids=["unreachable", "no-scheme"])
def test_a_failed_start_sends_no_database_or_redis_password(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool, scheme: str
) -> None:
    """Settings naming a database that cannot be reached, or a URL without its scheme (a
    mistake of copying): the start fails, and says so."""
    with EnvelopeSink() as sink:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            "DATABASE_URL": f"{scheme}dbuser:{DATABASE_PASSWORD}@127.0.0.1:{free_port()}/app",
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
