import base64
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import delete, update

from {{ cookiecutter.package_name }}.core import security
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.users.models import User

from .conftest import PASSWORD, SignUp


async def test_register_creates_a_free_user(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Ada@Example.com", "username": "ada", "password": PASSWORD},
    )

    assert response.status_code == 202
    assert "password" not in response.text
    login = await client.post(
        "/api/v1/auth/login", data={"username": "ada@example.com", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert me["email"] == "ada@example.com"
    assert me["plan"] == "free"
    assert me["is_active"] is True
    [welcome] = outbox
    assert welcome["To"] == "ada@example.com"
    assert welcome["Subject"].startswith("Welcome to")


@pytest.mark.parametrize("field", [{"plan": "pro"}, {"is_active": False}, {"id": 1}])
async def test_register_refuses_fields_the_server_decides(
    client: httpx.AsyncClient, field: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "eve@example.com", "username": "eve", "password": PASSWORD, **field},
    )

    assert response.status_code == 422


async def test_a_taken_email_is_answered_like_a_free_one(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    user = await sign_up()
    fresh = await client.post(
        "/api/v1/auth/register",
        json={"email": "fresh@example.com", "username": "fresh_user", "password": PASSWORD},
    )
    taken = await client.post(
        "/api/v1/auth/register",
        json={"email": user["email"], "username": "someone_else", "password": "other-pass-1"},
    )

    assert taken.status_code == fresh.status_code == 202
    assert taken.json() == fresh.json()
    assert set(taken.headers) == set(fresh.headers)
    notice = outbox[-1]
    assert notice["To"] == user["email"]
    assert notice["Subject"].startswith("Sign-up attempt at")
    still_theirs = await client.post(
        "/api/v1/auth/login", data={"username": user["email"], "password": PASSWORD}
    )
    assert still_theirs.status_code == 200


async def test_a_taken_email_costs_a_password_hash_too(
    client: httpx.AsyncClient, sign_up: SignUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering faster for taken emails would tell an attacker which emails exist."""
    user = await sign_up()
    hashed: list[str] = []
    hash_password = security.password_hash.hash

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return hash_password(password)

    monkeypatch.setattr(security.password_hash, "hash", counting_hash)

    for email, username in ((user["email"], "taken_one"), ("free@example.com", "free_one")):
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "username": username, "password": PASSWORD},
        )
        assert response.status_code == 202

    assert hashed == [PASSWORD, PASSWORD]


async def test_a_taken_username_is_409(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    user = await sign_up()

    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "username": user["username"], "password": PASSWORD},
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "This username is taken"}


async def test_login_and_read_me(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    user = await sign_up()

    response = await client.get("/api/v1/users/me", headers=user["headers"])

    assert response.status_code == 200
    assert response.json()["username"] == user["username"]


async def test_login_fails_alike_for_unknown_email_and_wrong_password(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    wrong_password = await client.post(
        "/api/v1/auth/login", data={"username": user["email"], "password": "not the password"}
    )
    unknown_email = await client.post(
        "/api/v1/auth/login", data={"username": "nobody@example.com", "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_emails_are_checked_against_a_password_hash_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering faster for unknown emails would tell an attacker which emails exist."""
    checked: list[str] = []
    verify = security.password_hash.verify

    def counting_verify(password: str, hashed: str) -> bool:
        checked.append(hashed)
        return verify(password, hashed)

    monkeypatch.setattr(security.password_hash, "verify", counting_verify)

    response = await client.post(
        "/api/v1/auth/login", data={"username": "nobody@example.com", "password": PASSWORD}
    )

    assert response.status_code == 401
    assert len(checked) == 1


def forge(claims: dict[str, Any], key: str, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    return jwt.encode({"iat": now, "exp": now + timedelta(minutes=5), **claims}, key, algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    exp = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'exp': exp, 'iat': exp, **claims})}."


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda key, uid: "not-a-token", id="garbage"),
        pytest.param(lambda key, uid: forge({"sub": uid}, "another-key"), id="wrong-key"),
        pytest.param(lambda key, uid: forge({"sub": uid}, key) + "x", id="tampered"),
        pytest.param(lambda key, uid: unsigned({"sub": uid}), id="alg-none"),
        pytest.param(lambda key, uid: forge({"sub": uid}, key, "HS512"), id="other-algorithm"),
        pytest.param(lambda key, uid: forge({}, key), id="no-subject"),
        pytest.param(lambda key, uid: forge({"sub": "admin"}, key), id="non-numeric-subject"),
        pytest.param(
            lambda key, uid: forge(
                {"sub": uid, "exp": datetime.now(UTC) - timedelta(seconds=1)}, key
            ),
            id="expired",
        ),
    ],
)
async def test_bad_tokens_are_401(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, make_token: Any
) -> None:
    user = await sign_up()
    token = make_token(settings.secret_key.get_secret_value(), str(user["id"]))

    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_token_of_a_deactivated_user_is_401(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI
) -> None:
    user = await sign_up()
    async with app.state.sessionmaker() as session:
        await session.execute(update(User).where(User.id == user["id"]).values(is_active=False))
        await session.commit()

    response = await client.get("/api/v1/users/me", headers=user["headers"])

    assert response.status_code == 401


async def test_token_of_a_deleted_user_is_401(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI
) -> None:
    user = await sign_up()
    async with app.state.sessionmaker() as session:
        await session.execute(delete(User).where(User.id == user["id"]))
        await session.commit()

    response = await client.get("/api/v1/users/me", headers=user["headers"])

    assert response.status_code == 401
