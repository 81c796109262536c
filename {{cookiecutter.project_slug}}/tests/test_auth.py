import base64
import json
import re
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
from {{ cookiecutter.package_name }}.core.config.keys import PUBLICLY_KNOWN_SECRET_KEYS
from {{ cookiecutter.package_name }}.users.models import User

from .conftest import PASSWORD, SERVICE_PASSWORD_HASH, SignUp

HOUR = timedelta(hours=1)
PAST = datetime.now(UTC) - HOUR


async def test_register_creates_a_free_user_that_signs_in_once_verified(
    app: FastAPI, client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Ada@Example.com", "username": "ada", "password": PASSWORD},
    )

    assert response.status_code == 202
    assert "password" not in response.text
    credentials = {"username": "ada@example.com", "password": PASSWORD}
    unverified = await client.post("/api/v1/auth/login", data=credentials)
    assert unverified.status_code == 401
    assert unverified.json() == {"detail": "Incorrect email or password"}
    [welcome] = outbox
    assert welcome["To"] == "ada@example.com"
    assert welcome["Subject"].startswith("Welcome to")
    confirmed = await client.post(
        "/api/v1/auth/verify-email", json={"token": link_token(welcome), "password": PASSWORD}
    )
    assert confirmed.status_code == 200, confirmed.text
    login = await client.post("/api/v1/auth/login", data=credentials)
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert me["email"] == "ada@example.com"
    assert me["plan"] == "free"
    assert me["is_active"] is True
    assert me["email_verified"] is True


def link_token(message: EmailMessage, page: str = "verify-email") -> str:
    """The token of the link to `page` in an email."""
    [token] = re.findall(rf"/{page}\?token=([\w.-]+)", message.get_content())
    return str(token)


async def test_the_verification_link_works_once(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    data = {"email": "grace@example.com", "username": "grace", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=data)).status_code == 202
    token = link_token(outbox[-1])

    body = {"token": token, "password": PASSWORD}
    first = await client.post("/api/v1/auth/verify-email", json=body)
    again = await client.post("/api/v1/auth/verify-email", json=body)

    assert first.status_code == 200, first.text
    login = await client.post(
        "/api/v1/auth/login", data={"username": data["email"], "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert again.status_code == 400
    assert again.json() == {"detail": "This link is invalid, has expired or was already used"}


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda s, uid, email: "not-a-token", id="garbage"),
        pytest.param(
            lambda s, uid, email: security.create_email_verification_token(
                user_id=uid, email=email, keys=s.token_keys(), expires_in=-HOUR
            ),
            id="expired",
        ),
        pytest.param(
            lambda s, uid, email: security.create_email_verification_token(
                user_id=uid, email="other@example.com", keys=s.token_keys(), expires_in=HOUR
            ),
            id="other-address",
        ),
        pytest.param(
            lambda s, uid, email: security.create_access_token(
                subject=uid, keys=s.token_keys(), expires_in=HOUR
            ),
            id="access-token",
        ),
    ],
)
async def test_a_bad_verification_link_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, make_token: Any
) -> None:
    user = await sign_up(verified=False)

    token = make_token(settings, user["id"], user["email"])
    response = await client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD}
    )

    assert response.status_code == 400
    login = await client.post(
        "/api/v1/auth/login", data={"username": user["email"], "password": PASSWORD}
    )
    assert login.status_code == 401, "still unverified"


async def test_a_new_link_is_sent_only_to_an_unverified_address_and_answers_alike(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    unverified = await sign_up(verified=False)
    verified = await sign_up()
    outbox.clear()

    answers = [
        await client.post("/api/v1/auth/verify-email/resend", json={"email": email})
        for email in (unverified["email"], verified["email"], "nobody@example.com")
    ]

    assert len({(answer.status_code, answer.text) for answer in answers}) == 1
    assert answers[0].status_code == 202
    [message] = outbox
    assert message["To"] == unverified["email"]
    confirmed = await client.post(
        "/api/v1/auth/verify-email", json={"token": link_token(message), "password": PASSWORD}
    )
    assert confirmed.status_code == 200


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


def test_the_service_hashes_passwords_with_argon2id_at_full_cost() -> None:
    """The suite hashes cheaply (conftest.py); the service it tests must not."""
    hashed = SERVICE_PASSWORD_HASH.hash(PASSWORD)

    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert security.HASH_MEMORY_BYTES == 65536 * 1024
    assert SERVICE_PASSWORD_HASH.verify(PASSWORD, hashed)


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


def forge(
    settings: Settings,
    claims: dict[str, Any],
    *,
    key: str | None = None,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
) -> str:
    """A token with every claim and header right, unless `claims`, `key` or `headers` say not."""
    keys = settings.token_keys()
    now = datetime.now(UTC)
    valid = {
        "iss": keys.issuer,
        "aud": keys.audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode(
        {name: value for name, value in {**valid, **claims}.items() if value is not None},
        key or keys.keys[keys.signing_kid],
        algorithm,
        headers={"kid": keys.signing_kid, **(headers or {})},
    )


def part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(settings: Settings, uid: str) -> str:
    """A token with `alg: none` and no signature."""
    keys = settings.token_keys()
    exp = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    header = {"alg": "none", "typ": "JWT", "kid": keys.signing_kid}
    claims = {"sub": uid, "iss": keys.issuer, "aud": keys.audience, "exp": exp, "iat": exp - 60}
    return f"{part(header)}.{part(claims)}."


def tampered(settings: Settings, uid: str) -> str:
    """A valid token of another user, its subject rewritten and its signature kept."""
    header, payload, signature = forge(settings, {"sub": "1" + uid}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join((header, part({**claims, "sub": uid}), signature))


def verification_token(settings: Settings, uid: str) -> str:
    """A genuine email-verification token, offered as an access token."""
    return security.create_email_verification_token(
        user_id=int(uid), email="x@example.com", keys=settings.token_keys(), expires_in=HOUR
    )


async def test_the_forger_makes_tokens_that_work(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    """The tests below change one thing each of a token this makes."""
    user = await sign_up()
    token = forge(settings, {"sub": str(user["id"])})

    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda s, uid: "not-a-token", id="garbage"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid}, key="another-key"), id="wrong-key"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid}) + "x", id="bad-signature"),
        pytest.param(tampered, id="tampered"),
        pytest.param(unsigned, id="alg-none"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid}, algorithm="HS512"), id="other-alg"),
        pytest.param(lambda s, uid: forge(s, {"sub": None}), id="no-subject"),
        pytest.param(lambda s, uid: forge(s, {"sub": "admin"}), id="non-numeric-subject"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid, "exp": PAST}), id="expired"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid, "aud": "other-api"}), id="wrong-aud"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid, "aud": None}), id="no-audience"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid, "iss": "someone"}), id="wrong-issuer"),
        pytest.param(lambda s, uid: forge(s, {"sub": uid, "iat": None}), id="no-issued-at"),
        pytest.param(
            lambda s, uid: forge(s, {"sub": uid}, headers={"kid": "0" * 16}), id="unknown-kid"
        ),
        pytest.param(verification_token, id="verification-link-token"),
    ],
)
async def test_bad_tokens_are_401(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, make_token: Any
) -> None:
    user = await sign_up()
    token = make_token(settings, str(user["id"]))

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


@pytest.mark.parametrize("known_key", sorted(PUBLICLY_KNOWN_SECRET_KEYS))
async def test_a_token_signed_with_a_publicly_known_key_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings, known_key: str
) -> None:
    user = await sign_up()
    keys = security.TokenKeys.create(
        [known_key], issuer=settings.token_issuer, audience=settings.token_audience
    )
    own_kid = security.create_access_token(subject=user["id"], keys=keys, expires_in=HOUR)
    service_kid = forge(settings, {"sub": str(user["id"])}, key=known_key)

    for token in (own_kid, service_kid):
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
