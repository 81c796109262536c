"""Refresh-token rotation, reuse detection, log-out and password change."""

from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import PASSWORD, SignUp

NEW_PASSWORD = "a brand new passphrase 42"


async def log_in(client: httpx.AsyncClient, user: dict[str, Any], password: str = PASSWORD) -> Any:
    response = await client.post(
        "/api/v1/auth/login", data={"username": user["email"], "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def read_me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access_token}"})


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_log_in_returns_a_short_lived_access_token_and_a_refresh_token(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    tokens = await log_in(client, user)

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert len(tokens["refresh_token"]) >= 43
    assert "." not in tokens["refresh_token"], "opaque, not a JWT"


async def test_a_refresh_token_is_exchanged_for_a_new_pair_once(
    client: httpx.AsyncClient, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    user = await sign_up()

    first = await refresh(client, user["refresh_token"])
    second = await refresh(client, first.json()["refresh_token"])

    assert first.status_code == second.status_code == 200, (first.text, second.text)
    tokens = {user["refresh_token"], first.json()["refresh_token"], second.json()["refresh_token"]}
    assert len(tokens) == 3, "every exchange hands out a new refresh token"
    assert (await read_me(client, second.json()["access_token"])).status_code == 200
    assert sentry.events == []


async def test_reusing_a_retired_refresh_token_revokes_its_family_and_is_reported_once(
    client: httpx.AsyncClient, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    other_session = await log_in(client, user)
    stolen = user["refresh_token"]
    rotated = (await refresh(client, stolen)).json()

    reused = await refresh(client, stolen)
    after_theft = await refresh(client, rotated["refresh_token"])
    reused_again = await refresh(client, stolen)

    assert_refused(reused)
    assert_refused(after_theft)
    assert_refused(reused_again)
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200
    [report] = sentry.events
    assert report["fingerprint"] == ["handled", "security", "refresh_token_reuse"]
    assert report["user"]["id"] == str(user["id"])
    assert report["exception"]["values"][-1]["mechanism"]["handled"] is True
    raw = sentry.raw().decode()
    for secret in (stolen, rotated["refresh_token"], rotated["access_token"], user["token"]):
        assert secret not in raw, "a token left the process"


async def test_an_unknown_refresh_token_is_refused_and_not_reported(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    assert_refused(await refresh(client, "not-a-refresh-token"))
    assert sentry.events == []


async def test_log_out_revokes_that_session_only(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()
    rotated = (await refresh(client, user["refresh_token"])).json()
    other_session = await log_in(client, user)

    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}
    )

    assert response.status_code == 204
    assert_refused(await refresh(client, rotated["refresh_token"]))
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_log_out_everywhere_revokes_every_session_and_access_token(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()
    other_session = await log_in(client, user)

    response = await client.post("/api/v1/auth/logout-all", headers=user["headers"])

    assert response.status_code == 204
    for session in (
        {"access_token": user["token"], "refresh_token": user["refresh_token"]},
        other_session,
    ):
        assert_refused(await refresh(client, session["refresh_token"]))
        assert_refused(await read_me(client, session["access_token"]))
    fresh = await log_in(client, user)
    assert (await read_me(client, fresh["access_token"])).status_code == 200


async def test_a_password_change_needs_the_current_password(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=user["headers"],
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The current password is incorrect"}
    assert (await read_me(client, user["token"])).status_code == 200
    assert (await refresh(client, user["refresh_token"])).status_code == 200


async def test_a_password_change_revokes_every_older_token(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    user = await sign_up()
    other_session = await log_in(client, user)
    rotated = (await refresh(client, other_session["refresh_token"])).json()
    outbox.clear()

    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user["headers"],
    )

    assert response.status_code == 200, response.text
    new_pair = response.json()
    for access_token in (user["token"], other_session["access_token"], rotated["access_token"]):
        assert_refused(await read_me(client, access_token))
    for refresh_token in (user["refresh_token"], rotated["refresh_token"]):
        assert_refused(await refresh(client, refresh_token))
    assert (await read_me(client, new_pair["access_token"])).status_code == 200
    assert (await refresh(client, new_pair["refresh_token"])).status_code == 200
    wrong = await client.post(
        "/api/v1/auth/login", data={"username": user["email"], "password": PASSWORD}
    )
    assert_refused(wrong)
    await log_in(client, user, NEW_PASSWORD)
    [notice] = outbox
    assert notice["To"] == user["email"]
    assert "password" in notice["Subject"]


async def test_the_current_user_costs_one_query(
    client: httpx.AsyncClient, sign_up: SignUp, engine: AsyncEngine
) -> None:
    """Revocation is checked on the user row the request reads anyway: no extra query."""
    user = await sign_up()
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        response = await read_me(client, user["token"])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert response.status_code == 200
    savepoints = ("SAVEPOINT", "RELEASE", "ROLLBACK TO SAVEPOINT")
    [query] = [s for s in statements if not s.upper().startswith(savepoints)]
    assert "FROM users" in query
