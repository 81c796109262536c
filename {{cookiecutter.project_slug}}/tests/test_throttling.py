import os
import uuid

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.auth.throttling import AuthThrottle, create_storage
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


async def test_guessing_one_accounts_password_is_throttled_from_any_address(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()  # its own login is the first attempt on the account
    for _ in range(4):
        assert (await log_in(client, user["email"], "wrong password")).status_code == 401

    assert_throttled(await log_in(client, user["email"], PASSWORD))
    async with client_from(app, "198.51.100.99") as elsewhere:
        assert_throttled(await log_in(elsewhere, user["email"].upper(), PASSWORD))
    assert sentry.events == []


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
    client = f"test-{uuid.uuid4().hex}"

    await first.hit("login", client=client, account="a@example.com")
    await second.hit("login", client=client, account="b@example.com")

    with pytest.raises(TooManyRequestsError) as refused:
        await first.hit("login", client=client, account="c@example.com")
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
