"""Accounts people can trust: reset by link, the verified owner wins an address, no oracle,
no relay, unverified accounts expire."""

{% if cookiecutter.task_queue == "background" -%}
import asyncio
{% endif -%}
import re
{%- if cookiecutter.task_queue == "background" %}
from collections.abc import Callable
{%- endif %}
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
{%- if cookiecutter.task_queue == "celery" %}
from celery import current_app
{%- endif %}
from fastapi import {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}FastAPI
from limits.aio.storage import MemoryStorage
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.core import security
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.emails.recipients import RecipientLimit
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport
from {{ cookiecutter.package_name }}.users import repository as users_repository
from {{ cookiecutter.package_name }}.users import service as users_service
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.users.expiry import removing_expired_accounts
{%- endif %}
from {{ cookiecutter.package_name }}.users.models import User

from .conftest import PASSWORD, SignUp

NEW_PASSWORD = "a brand new passphrase 9"
ATTACKER_PASSWORD = "the attacker's own passphrase"
HOUR = timedelta(hours=1)


def reset_token(message: EmailMessage) -> str:
    [token] = re.findall(r"/reset-password\?token=([\w.-]+)", message.get_content())
    return str(token)


def verification_token(message: EmailMessage) -> str:
    [token] = re.findall(r"/verify-email\?token=([\w.-]+)", message.get_content())
    return str(token)


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


async def request_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/password-reset", json={"email": email})


async def confirm_reset(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    user = await sign_up()
    outbox.clear()

    requested = await request_reset(client, user["email"])
    [message] = outbox
    token = reset_token(message)
    confirmed = await confirm_reset(client, token)
    again = await confirm_reset(client, token, "yet another passphrase")

    assert requested.status_code == 202
    assert message["To"] == user["email"]
    assert confirmed.status_code == 200, confirmed.text
    assert again.status_code == 400
    assert again.json() == {"detail": "This link is invalid, has expired or was already used"}
    assert (await client.get("/api/v1/users/me", headers=user["headers"])).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert (await log_in(client, user["email"], PASSWORD)).status_code == 401
    assert (await log_in(client, user["email"], NEW_PASSWORD)).status_code == 200
    assert outbox[-1]["Subject"].endswith("password was changed")


def expired_reset(settings: Settings, user: dict[str, Any], hashed: str) -> str:
    return security.create_password_reset_token(
        user_id=user["id"],
        email=user["email"],
        hashed_password=hashed,
        keys=settings.token_keys(),
        expires_in=-HOUR,
    )


def verification(settings: Settings, user: dict[str, Any], hashed: str) -> str:
    return security.create_email_verification_token(
        user_id=user["id"], email=user["email"], keys=settings.token_keys(), expires_in=HOUR
    )


def access(settings: Settings, user: dict[str, Any], hashed: str) -> str:
    return security.create_access_token(
        subject=user["id"], keys=settings.token_keys(), expires_in=HOUR
    )


def other_password(settings: Settings, user: dict[str, Any], hashed: str) -> str:
    return security.create_password_reset_token(
        user_id=user["id"],
        email=user["email"],
        hashed_password=hashed + "x",
        keys=settings.token_keys(),
        expires_in=HOUR,
    )


@pytest.mark.parametrize("make_token", [expired_reset, verification, access, other_password])
async def test_a_bad_reset_link_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    sign_up: SignUp,
    settings: Settings,
    make_token: Any,
) -> None:
    user = await sign_up()
    async with app.state.sessionmaker() as session:
        stored = await users_repository.get_by_id(session, user["id"])
    assert stored is not None

    response = await confirm_reset(client, make_token(settings, user, stored.hashed_password))

    assert response.status_code == 400
    assert (await log_in(client, user["email"], PASSWORD)).status_code == 200


async def test_a_reset_token_opens_nothing_else(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    user = await sign_up()
    await request_reset(client, user["email"])
    token = reset_token(outbox[-1])

    as_bearer = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    as_verification = await client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD}
    )

    assert as_bearer.status_code == 401
    assert as_verification.status_code == 400


async def test_reset_and_resend_answer_alike_for_any_address(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage]
) -> None:
    known = await sign_up()
    unverified = await sign_up(verified=False)
    outbox.clear()

    for path in ("/api/v1/auth/password-reset", "/api/v1/auth/verify-email/resend"):
        answers = [
            await client.post(path, json={"email": email})
            for email in (known["email"], unverified["email"], "nobody@example.com")
        ]
        assert len({(a.status_code, a.text) for a in answers}) == 1, path
        assert answers[0].status_code == 202

    assert [message["To"] for message in outbox] == [
        known["email"],
        unverified["email"],
        unverified["email"],
    ]


async def test_reset_and_resend_do_the_same_work_for_any_address(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a timing: the request path runs the same statements and hands on the same work for
    a verified, an unverified and an unknown address, so no answer can take longer for one."""
    known = await sign_up()
    unverified = await sign_up(verified=False)
    work: list[str] = []

    def record_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Savepoint names count up from one request to the next; the statements are the work.
        work.append(f"SQL {re.sub(r'sa_savepoint_[0-9]+', 'sa_savepoint', statement)}")
{% if cookiecutter.task_queue == "celery" %}
    def record_task(name: str, args: tuple[Any, ...] = (), **options: Any) -> None:
        work.append(f"queued {name}")

    monkeypatch.setattr(current_app, "send_task", record_task)
{%- else %}
    def record_task(
        tasks: BackgroundTasks, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        work.append(f"after the response: {func.__qualname__}")

    monkeypatch.setattr(BackgroundTasks, "add_task", record_task)
{%- endif %}
    event.listen(engine.sync_engine, "before_cursor_execute", record_statement)
    try:
        for path in ("/api/v1/auth/password-reset", "/api/v1/auth/verify-email/resend"):
            done = {}
            for email in (known["email"], unverified["email"], "nobody@example.com"):
                work.clear()
                response = await client.post(path, json={"email": email})
                assert response.status_code == 202
                done[email] = tuple(work)
            assert len(set(done.values())) == 1, (path, done)
            assert done[known["email"]], "the email is still asked for"
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record_statement)


async def test_sign_up_then_sign_in_answers_alike_for_a_free_and_a_taken_address(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    taken = await sign_up()
    answers = []
    for email, username in ((taken["email"], "stranger1"), ("free@example.com", "stranger2")):
        data = {"email": email, "username": username, "password": ATTACKER_PASSWORD}
        registered = await client.post("/api/v1/auth/register", json=data)
        login = await log_in(client, email, ATTACKER_PASSWORD)
        answers.append((registered.status_code, registered.text, login.status_code, login.text))

    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    assert answers[0][2] == 401


async def test_the_owner_takes_an_address_a_stranger_signed_up_with(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    outbox: list[EmailMessage],
    sentry: CapturingTransport,
) -> None:
    victim = "newperson@example.com"
    squat = {"email": victim, "username": "squatter", "password": ATTACKER_PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=squat)).status_code == 202
    assert (await log_in(client, victim, ATTACKER_PASSWORD)).status_code == 401
    async with app.state.sessionmaker() as session:
        squatted = await users_repository.get_by_email(session, victim)
    assert squatted is not None
    # As issued before unverified accounts stopped signing in.
    old_token = security.create_access_token(
        subject=squatted.id, keys=settings.token_keys(), expires_in=HOUR
    )
    outbox.clear()

    owner = {"email": victim, "username": "owner", "password": PASSWORD}
    signed_up = await client.post("/api/v1/auth/register", json=owner)
    [claim] = outbox
    taken = await confirm_reset(client, reset_token(claim), PASSWORD)

    assert signed_up.status_code == 202
    assert claim["To"] == victim
    assert taken.status_code == 200, taken.text
    assert (await log_in(client, victim, ATTACKER_PASSWORD)).status_code == 401
    refused = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old_token}"})
    assert refused.status_code == 401
    login = await log_in(client, victim, PASSWORD)
    assert login.status_code == 200
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["email_verified"] is True
    assert me.json()["username"] != "squatter", "nothing the stranger chose stays"
    [event] = [e for e in sentry.events if "unverified_account_claimed" in e["fingerprint"]]
    assert event["fingerprint"] == ["handled", "security", "unverified_account_claimed"]
    assert PASSWORD not in str(event)
    assert reset_token(claim) not in str(event)


async def test_the_owner_verifying_an_address_does_not_hand_a_stranger_the_account(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    victim = "prehijack@example.com"
    squat = {"email": victim, "username": "early_bird", "password": ATTACKER_PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=squat)).status_code == 202
    [welcome] = outbox
    token = verification_token(welcome)

    without_password = await client.post("/api/v1/auth/verify-email", json={"token": token})
    with_owners = await client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD}
    )

    assert without_password.status_code == 422
    assert with_owners.status_code == 400
    assert "reset" in with_owners.json()["detail"]
    assert (await log_in(client, victim, ATTACKER_PASSWORD)).status_code == 401
    assert "reset" in welcome.get_content(), "the mail tells the owner how to claim the address"
    signer = await client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": ATTACKER_PASSWORD}
    )
    assert signer.status_code == 200, "whoever signed up and reads the inbox verifies"


async def test_no_mail_to_an_unverified_address_carries_what_a_stranger_chose(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    email = "someone-else@example.com"
    username = "spam_text_here"
    data = {"email": email, "username": username, "password": ATTACKER_PASSWORD}

    await client.post("/api/v1/auth/register", json=data)
    await client.post("/api/v1/auth/register", json={**data, "username": "spam_again"})
    await client.post("/api/v1/auth/verify-email/resend", json={"email": email})
    await request_reset(client, email)

    assert len(outbox) == 4
    for message in outbox:
        text = f"{message['Subject']}\n{message.get_content()}"
        for chosen in (username, "spam_again", ATTACKER_PASSWORD):
            assert chosen not in text


@pytest.mark.parametrize(
    "username", ["www.paypa1-login.example", "paypa1-login.example", "a.b", "x://y"]
)
async def test_a_username_cannot_carry_a_domain_name(
    client: httpx.AsyncClient, outbox: list[EmailMessage], username: str
) -> None:
    data = {"email": "new@example.com", "username": username, "password": PASSWORD}

    response = await client.post("/api/v1/auth/register", json=data)

    assert response.status_code == 422
    assert outbox == []


async def test_mail_to_one_address_is_limited_whoever_asks(
    app: FastAPI,
    client: httpx.AsyncClient,
    sign_up: SignUp,
    outbox: list[EmailMessage],
    sentry: CapturingTransport,
) -> None:
    user = await sign_up()
    app.state.recipient_limit = RecipientLimit(MemoryStorage(), per_recipient="2/hour")
    outbox.clear()

    answers = [(await request_reset(client, user["email"])).status_code for _ in range(3)]

    assert answers == [202, 202, 202], "the answer tells nothing"
    assert len(outbox) == 2
    [event] = sentry.events
    assert event["fingerprint"] == ["handled", "security", "email_to_address_throttled"]


async def test_strangers_cannot_starve_the_mail_an_owner_asks_for(
    app: FastAPI,
    client: httpx.AsyncClient,
    sign_up: SignUp,
    outbox: list[EmailMessage],
) -> None:
    user = await sign_up()
    waiting = await sign_up(verified=False)
    app.state.recipient_limit = RecipientLimit(MemoryStorage(), per_recipient="2/hour")
    outbox.clear()

    for _ in range(3):
        await request_reset(client, user["email"])
        await client.post("/api/v1/auth/verify-email/resend", json={"email": waiting["email"]})
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user["headers"],
    )
    await request_reset(client, waiting["email"])

    assert changed.status_code == 200, changed.text
    to_user = [message["Subject"] for message in outbox if message["To"] == user["email"]]
    assert len(to_user) == 3, "two resets, then the notice the signed-in owner caused"
    assert "password was changed" in to_user[-1]
    to_waiting = [message for message in outbox if message["To"] == waiting["email"]]
    assert len(to_waiting) == 3, "resends have a budget of their own: the reset still goes"
    reset_token(to_waiting[-1])


@pytest.mark.parametrize(
    "password", ["\x00" * 12, "long enough\x00", "tab\there-pass", "new\nline-pass"]
)
async def test_a_new_password_cannot_hold_control_characters(
    client: httpx.AsyncClient, sign_up: SignUp, outbox: list[EmailMessage], password: str
) -> None:
    user = await sign_up()
    await request_reset(client, user["email"])

    reset = await confirm_reset(client, reset_token(outbox[-1]), password)
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": password},
        headers=user["headers"],
    )
    data = {"email": "control@example.com", "username": "control", "password": password}
    registered = await client.post("/api/v1/auth/register", json=data)

    assert (reset.status_code, changed.status_code, registered.status_code) == (422, 422, 422)


async def test_repeated_resets_for_one_address_are_throttled_and_reported(
    client: httpx.AsyncClient, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    allowed = 5  # the default AUTH_RATE_LIMIT_PER_ACCOUNT, per minute

    answers = [(await request_reset(client, user["email"])).status_code for _ in range(allowed + 1)]

    assert answers == [202] * allowed + [429]
    [event] = [e for e in sentry.events if "password_reset_throttled" in e["fingerprint"]]
    assert event["fingerprint"] == ["handled", "security", "password_reset_throttled"]
    assert "token" not in str(event.get("extra", {}))


async def expire(app: FastAPI, email: str, *, hours: int) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(User)
            .where(User.email == email)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        await session.commit()


async def remaining(app: FastAPI, *emails: str) -> set[str]:
    async with app.state.sessionmaker() as session:
        found = [await users_repository.get_by_email(session, email) for email in emails]
    return {user.email for user in found if user is not None}


async def test_unverified_accounts_expire_and_free_their_address(
    app: FastAPI, client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    old = await sign_up(verified=False)
    fresh = await sign_up(verified=False)
    verified = await sign_up()
    for email in (old["email"], verified["email"]):
        await expire(app, email, hours=settings.unverified_account_expire_hours + 1)

    removed = await users_service.remove_expired_unverified(
        transactions=app.state.sessionmaker,
        max_age=timedelta(hours=settings.unverified_account_expire_hours),
    )

    assert removed == 1
    assert await remaining(app, old["email"], fresh["email"], verified["email"]) == {
        fresh["email"],
        verified["email"],
    }
{%- if cookiecutter.task_queue == "background" %}


async def test_the_api_process_sweeps_expired_accounts_at_start(
    app: FastAPI, sign_up: SignUp, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await sign_up(verified=False)
    await expire(app, old["email"], hours=settings.unverified_account_expire_hours + 1)
    sweeping = settings.model_copy(update={"unverified_account_sweep_interval_minutes": 60})
    swept = asyncio.Event()
    sweep = users_service.remove_expired_unverified

    async def observed_sweep(**arguments: Any) -> int:
        try:
            return await sweep(**arguments)
        finally:
            swept.set()

    monkeypatch.setattr(users_service, "remove_expired_unverified", observed_sweep)

    async with removing_expired_accounts(app, sweeping):
        await asyncio.wait_for(swept.wait(), timeout=30)

    assert await remaining(app, old["email"]) == set()
{%- endif %}
