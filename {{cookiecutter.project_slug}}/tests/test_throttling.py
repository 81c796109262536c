import os
import uuid

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.auth.throttling import (
    SPREAD_GUESSING_REPORTED_AT,
    AuthThrottle,
    BoundedMemoryStorage,
    account_key,
    client_key,
    create_storage,
)
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import TooManyRequestsError
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import PASSWORD, SignUp


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {"detail": "Too many attempts; try again later"}
    assert 0 < int(response.headers["Retry-After"]) <= 60


async def test_wrong_passwords_from_one_address_never_lock_the_user_out(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    for _ in range(5):
        assert (await log_in(client, user["email"], "wrong password")).status_code == 401

    # The guesser is refused, whatever it sends next; the user, elsewhere, gets in.
    assert_throttled(await log_in(client, user["email"], "another guess"))
    assert_throttled(await log_in(client, user["email"], PASSWORD))
    async with client_from(app, "198.51.100.99") as elsewhere:
        assert (await log_in(elsewhere, user["email"].upper(), PASSWORD)).status_code == 200
        assert (await log_in(elsewhere, user["email"], "one typo")).status_code == 401
        assert (await log_in(elsewhere, user["email"], PASSWORD)).status_code == 200
    assert sentry.events == []


async def test_guesses_spread_over_many_clients_are_reported_once_and_lock_no_one_out(
    app: FastAPI, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    (limit,) = SPREAD_GUESSING_REPORTED_AT
    for network in range(limit.amount + 5):
        async with client_from(app, f"2001:db8:{network:x}::1") as guesser:
            assert (await log_in(guesser, user["email"], "a guess")).status_code == 401

    async with client_from(app, "198.51.100.7") as owner:
        assert (await log_in(owner, user["email"], PASSWORD)).status_code == 200
    reports = [
        event for event in sentry.events if "password_guessing_spread" in event["fingerprint"]
    ]
    assert len(reports) == 1, sentry.events
    assert user["email"] not in str(reports[0])


async def test_right_passwords_do_not_count_against_the_account(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    for _ in range(8):
        assert (await log_in(client, user["email"], PASSWORD)).status_code == 200


async def test_an_ipv6_client_counts_as_its_slash_64(app: FastAPI, sign_up: SignUp) -> None:
    user = await sign_up()
    for host in range(5):
        async with client_from(app, f"2001:db8:1:2::{host + 1:x}") as rotating:
            assert (await log_in(rotating, user["email"], "a guess")).status_code == 401

    async with client_from(app, "2001:db8:1:2:ffff::1") as same_network:
        assert_throttled(await log_in(same_network, user["email"], PASSWORD))
    async with client_from(app, "2001:db8:1:3::1") as next_network:
        assert (await log_in(next_network, user["email"], PASSWORD)).status_code == 200


async def test_an_overlong_username_is_refused_before_it_is_counted(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()
    name = "a" * 250 + "@example.com"

    for _ in range(25):
        response = await log_in(client, name, PASSWORD)
        assert response.status_code == 422, response.text
    assert (await log_in(client, user["email"], PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_client_keys_group_ipv6_by_slash_64(address: str, key: str) -> None:
    assert client_key(address) == key


def test_account_keys_have_one_length_whatever_was_sent() -> None:
    keys = {account_key(name) for name in ("a", "A ", "x" * 900_000)}

    assert {len(key) for key in keys} == {32}
    assert account_key("Ada@Example.com ") == account_key("ada@example.com")


async def test_throttle_state_in_memory_has_a_bound() -> None:
    storage = BoundedMemoryStorage(max_keys=50)
    throttle = AuthThrottle(storage, per_client="5/minute", per_account="5/minute")

    for number in range(500):
        await throttle.hit(
            "login", client_address=f"198.51.100.{number % 250}", account=f"{number}@x"
        )

    assert len(storage.events) <= 50
    # The newest are kept: a client still over its limit is refused.
    for _ in range(5):
        await throttle.hit("login", client_address="192.0.2.1", account="a@x")
    with pytest.raises(TooManyRequestsError):
        await throttle.hit("login", client_address="192.0.2.1", account="b@x")


async def test_one_address_trying_many_accounts_is_throttled(
    client: httpx.AsyncClient, app: FastAPI, sentry: CapturingTransport
) -> None:
    for number in range(20):
        response = await log_in(client, f"guess{number}@example.com", PASSWORD)
        assert response.status_code == 401

    assert_throttled(await log_in(client, "guess20@example.com", PASSWORD))
    async with client_from(app, "198.51.100.99") as elsewhere:
        assert (await log_in(elsewhere, "guess20@example.com", PASSWORD)).status_code == 401
    assert sentry.events == []


async def test_sign_ups_for_one_email_are_throttled(client: httpx.AsyncClient) -> None:
    for number in range(5):
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "target@example.com", "username": f"u{number}xx", "password": PASSWORD},
        )
        assert response.status_code == 202

    assert_throttled(
        await client.post(
            "/api/v1/auth/register",
            json={"email": "target@example.com", "username": "u5xx", "password": PASSWORD},
        )
    )


@pytest.mark.parametrize("limit", ["5", "five per minute", "5/fortnight"])
def test_a_malformed_limit_is_refused_at_start(limit: str) -> None:
    with pytest.raises(ValidationError, match="auth_rate_limit_per_client"):
        Settings(_env_file=None, auth_rate_limit_per_client=limit)


async def test_redis_shares_the_counts_between_processes() -> None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    storages = [create_storage(url), create_storage(url)]
    try:
        reachable = await storages[0].check()
    except Exception:  # whatever the failure, there is no server to test against
        reachable = False
    if not reachable:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must answer at {url} in CI")
        pytest.skip(f"Redis does not answer at {url}")
    first, second = (
        AuthThrottle(storage, per_client="2/minute", per_account="100/minute")
        for storage in storages
    )
    client_address = f"test-{uuid.uuid4().hex}"

    await first.hit("login", client_address=client_address, account="a@example.com")
    await second.hit("login", client_address=client_address, account="b@example.com")

    with pytest.raises(TooManyRequestsError) as refused:
        await first.hit("login", client_address=client_address, account="c@example.com")
    assert refused.value.headers is not None
    assert 0 < int(refused.value.headers["Retry-After"]) <= 60


async def test_guessing_refresh_tokens_is_throttled(client: httpx.AsyncClient) -> None:
    for number in range(20):
        response = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": f"guess-{number}"}
        )
        assert response.status_code == 401

    assert_throttled(await client.post("/api/v1/auth/refresh", json={"refresh_token": "guess-20"}))


async def test_guessing_the_current_password_is_throttled(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "a guess", "new_password": "whatever-new-1"},
            headers=user["headers"],
        )
        assert response.status_code == 400

    assert_throttled(
        await client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "whatever-new-1"},
            headers=user["headers"],
        )
    )
