"""Signing keys rotate: the newest signs, listed older ones verify, retired ones are refused."""

import secrets
from datetime import timedelta

import httpx
import pytest
from jose import jwt
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.security import TokenKeys, create_access_token, key_id

from .conftest import SignUp

NEWEST_KEY = secrets.token_urlsafe(48)
PREVIOUS_KEY = secrets.token_urlsafe(48)


@pytest.fixture
def fallbacks() -> list[str]:
    return [PREVIOUS_KEY]


@pytest.fixture
def settings(settings: Settings, fallbacks: list[str]) -> Settings:
    return settings.model_copy(
        update={
            "secret_key": SecretStr(NEWEST_KEY),
            "secret_key_fallbacks": [SecretStr(key) for key in fallbacks],
        }
    )


def signed_with(key: str, settings: Settings, user_id: int) -> str:
    keys = TokenKeys.create([key], issuer=settings.token_issuer, audience=settings.token_audience)
    return create_access_token(subject=user_id, keys=keys, expires_in=timedelta(minutes=5))


async def read_me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


async def test_the_newest_key_signs(sign_up: SignUp) -> None:
    user = await sign_up()

    assert jwt.get_unverified_header(user["token"])["kid"] == key_id(NEWEST_KEY)


async def test_a_token_of_the_previous_key_is_accepted_during_rotation(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    user = await sign_up()

    response = await read_me(client, signed_with(PREVIOUS_KEY, settings, user["id"]))

    assert response.status_code == 200
    assert response.json()["id"] == user["id"]


@pytest.mark.parametrize("fallbacks", [[]])
async def test_a_token_of_a_retired_key_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    user = await sign_up()

    retired = await read_me(client, signed_with(PREVIOUS_KEY, settings, user["id"]))
    current = await read_me(client, signed_with(NEWEST_KEY, settings, user["id"]))

    assert retired.status_code == 401
    assert retired.headers["WWW-Authenticate"] == "Bearer"
    assert current.status_code == 200


def test_short_fallback_keys_are_refused_in_production() -> None:
    with pytest.raises(ValueError, match=r"\[0\] must be at least 32 bytes"):
        Settings(
            _env_file=None,
            environment="production",
            secret_key=NEWEST_KEY,
            secret_key_fallbacks=["short"],
            email_backend="smtp",
        )
