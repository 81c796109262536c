"""Slow clients are cut, not counted against everyone; readiness says when the process is full.

The default bake runs under uvicorn on loopback. A hundred sockets (as many as the concurrency
limit) each send the head of `POST /api/v1/auth/logout` with a `Content-Length` larger than the
part of the body they send, then wait. A signed-in user keeps reading its account meanwhile,
and every read must answer 200; every stalled request must end with a 408 of its own. Then
checkouts held by a hung payment provider fill a small concurrency limit: `/health/ready`
answers 503 while `/health` stays 200.

Request heads are bounded in size and time by the protocol the service is served with (`make
run`): sockets that send a head larger than the limit, or a head that never ends, are closed
by the service while a signed-in user keeps reading its account. Bodies held at once are bounded
by a budget of the process: stalled bodies past it are refused with 503 at once. Durations and
the server's resident memory are printed, not asserted.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject, own_sqlite_database
from harness.delivery import PASSWORD, service_env
from harness.payment_server import PaymentServer
from harness.running_service import Service, served_by_make_run, service_process

# Marks an address verified with the service's own command.
Verify = Callable[[str], None]

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("production-faults"),
]

STALLED = 100
BODY_TIMEOUT_SECONDS = 2
# A stalled socket is closed by the test after this long without an answer: the attack stays
# bounded even when the service never cuts it.
GIVE_UP_SECONDS = 30
DECLARED_BODY_BYTES = 1_000
SENT_PART = b'{"refresh_token": "'


def verifier(project: BakedProject, env: dict) -> Verify:
    return lambda email: verify_address(project.root, env, email)


async def sign_in(client: httpx.AsyncClient, verify: Verify) -> dict:
    """A new account, verified with the service's own command, signed in."""
    name = f"u{uuid.uuid4().hex[:12]}"
    email = f"{name}@example.com"
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "username": name, "password": PASSWORD},
    )
    assert registered.status_code == 202, registered.text
    await asyncio.to_thread(verify, email)
    login = await client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def stall(port: int) -> bytes:
    """Send a head and part of the body, then wait; whatever the service answered, if anything."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /api/v1/auth/logout HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {DECLARED_BODY_BYTES}\r\n\r\n"
    )
    try:
        writer.write(head.encode() + SENT_PART)
        await writer.drain()
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                return await reader.read()
        except TimeoutError:
            return b""
    finally:
        writer.close()


def status_and_body(answer: bytes) -> tuple[int | None, bytes]:
    if not answer.startswith(b"HTTP/1.1 "):
        return None, answer
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def slow_clients_scenario(base_url: str, port: int, verify: Verify) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        user = await sign_in(client, verify)
        started = time.monotonic()
        stalls = [asyncio.create_task(stall(port)) for _ in range(STALLED)]
        reads: list[int] = []
        probes: set[tuple[str, int]] = set()
        # The user reads its account for as long as any stalled request is open.
        while not all(task.done() for task in stalls):
            reads.append((await client.get("/api/v1/users/me", headers=user)).status_code)
            for path in ("/health", "/health/ready"):
                probes.add((path, (await client.get(path)).status_code))
            await asyncio.sleep(0.05)
        answers = [status_and_body(task.result()) for task in stalls]
        return {
            "reads": reads,
            "probes": probes,
            "answers": answers,
            "seconds": time.monotonic() - started,
        }


@pytest.fixture
def own_database(installed_project: BakedProject, tools_bin: Path, tmp_path: Path) -> dict:
    return own_sqlite_database(installed_project, tools_bin, tmp_path)


def test_slow_bodies_end_with_408_and_stall_no_one(
    installed_project: BakedProject, own_database: dict
) -> None:
    env = {
        **service_env(own_database, None),
        "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS),
        "MAX_CONCURRENT_REQUESTS": str(STALLED),
        "EMAIL_BACKEND": "console",
    }
    with service_process(installed_project, env) as service:
        port = int(service.url.rsplit(":", 1)[1])
        outcome = asyncio.run(
            slow_clients_scenario(service.url, port, verifier(installed_project, env))
        )
        after = httpx.get(f"{service.url}/health/ready", timeout=30)

    statuses = [status for status, _ in outcome["answers"]]
    print(
        f"\n{STALLED} stalled bodies over {outcome['seconds']:.1f} s: "
        f"answers {sorted(set(map(str, statuses)))}; the user's reads meanwhile: "
        f"{len(outcome['reads'])}, statuses {sorted(set(outcome['reads']))}"
    )
    assert outcome["reads"], "the user made no request while the bodies stalled"
    assert set(outcome["reads"]) == {200}, outcome["reads"]
    assert statuses == [408] * STALLED, outcome["answers"][:3]
    assert {"detail"} == json.loads(outcome["answers"][0][1]).keys()
    # Sockets waiting on their clients do not make the process look full.
    assert outcome["probes"] == {("/health", 200), ("/health/ready", 200)}
    assert after.status_code == 200


CHECKOUT_LIMIT = 2


async def saturation_scenario(base_url: str, provider: PaymentServer, verify: Verify) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        buyer = await sign_in(client, verify)
        products = (await client.get("/api/v1/products")).json()
        cart = {
            "items": [{"product_id": products[0]["id"], "quantity": 1}],
            "payment_token": "tok_visa",
        }
        before = (await client.get("/health/ready")).status_code
        checkouts = [
            asyncio.create_task(
                client.post(
                    "/api/v1/checkout",
                    json=cart,
                    headers={**buyer, "Idempotency-Key": f"order-{n}"},
                )
            )
            for n in range(CHECKOUT_LIMIT)
        ]
        for _ in range(300):
            if provider.hung_requests >= CHECKOUT_LIMIT:
                break
            await asyncio.sleep(0.1)
        assert provider.hung_requests >= CHECKOUT_LIMIT, "the checkouts never called out"
        full = await client.get("/health/ready")
        alive = (await client.get("/health")).status_code
        refused = (await client.get("/api/v1/products")).status_code
        provider.answer()
        settled = [response.status_code for response in await asyncio.gather(*checkouts)]
        after = (await client.get("/health/ready")).status_code
        return {
            "before": before,
            "full": (full.status_code, full.json()),
            "alive": alive,
            "refused": refused,
            "settled": settled,
            "after": after,
        }


def test_ready_says_when_the_process_is_saturated(
    installed_project: BakedProject, own_database: dict
) -> None:
    with PaymentServer() as provider:
        env = {
            **service_env(own_database, None),
            "MAX_CONCURRENT_REQUESTS": str(CHECKOUT_LIMIT),
            "PAYMENT_API_URL": provider.url,
            "PAYMENT_TIMEOUT_SECONDS": "60",
            "EMAIL_BACKEND": "console",
        }
        with service_process(installed_project, env) as service:
            outcome = asyncio.run(
                saturation_scenario(service.url, provider, verifier(installed_project, env))
            )

    assert outcome["before"] == 200
    assert outcome["full"] == (503, {"status": "saturated"})
    assert outcome["alive"] == 200
    assert outcome["refused"] == 503
    assert set(outcome["settled"]) <= {201, 202}, outcome["settled"]
    assert outcome["after"] == 200


HEAD_LIMIT_BYTES = 65_536
HEAD_TIMEOUT_SECONDS = 2
HUGE_HEADS = 10
HUGE_HEAD_BYTES = 2_000_000
HEAD_START = b"GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\n"


async def unfinished_head(port: int, head: bytes) -> str:
    """Send `head` without its end, then wait; how the connection ended, as the client saw it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        try:
            writer.write(head)
            await writer.drain()
        except ConnectionError:
            pass  # Closed by the service while the head was still being sent.
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                answer = await reader.read()
        except ConnectionError:
            return "reset"
        except TimeoutError:
            return "still open"
        status, _ = status_and_body(answer)
        return str(status) if status else "closed"
    finally:
        writer.close()


async def heads_scenario(service: Service, heads: list[bytes], verify: Verify) -> dict:
    port = int(service.url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        user = await sign_in(client, verify)
        resident = {"before": service.resident_kib()}
        started = time.monotonic()
        attacks = [asyncio.create_task(unfinished_head(port, head)) for head in heads]
        reads: list[int] = []
        while not all(attack.done() for attack in attacks):
            reads.append((await client.get("/api/v1/users/me", headers=user)).status_code)
            resident["during"] = max(resident.get("during", 0), service.resident_kib())
            await asyncio.sleep(0.05)
        return {
            "endings": [attack.result() for attack in attacks],
            "reads": reads,
            "resident": resident,
            "seconds": time.monotonic() - started,
        }


def head_limited_env(own_database: dict) -> dict:
    return {
        **service_env(own_database, None),
        "MAX_REQUEST_HEAD_BYTES": str(HEAD_LIMIT_BYTES),
        "REQUEST_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT_SECONDS),
        "EMAIL_BACKEND": "console",
    }


def test_oversized_heads_are_cut_and_stall_no_one(
    installed_project: BakedProject, own_database: dict
) -> None:
    huge = HEAD_START + b"X-Big: " + b"a" * HUGE_HEAD_BYTES
    env = head_limited_env(own_database)
    with served_by_make_run(installed_project, env) as service:
        outcome = asyncio.run(
            heads_scenario(service, [huge] * HUGE_HEADS, verifier(installed_project, env))
        )

    print(
        f"\n{HUGE_HEADS} unfinished heads of {HUGE_HEAD_BYTES} bytes: ended "
        f"{sorted(set(outcome['endings']))} after {outcome['seconds']:.1f} s; resident "
        f"{outcome['resident']} KiB; the user's reads: {sorted(set(outcome['reads']))}"
    )
    # Refused with 431, or reset when the service closed on bytes it would not read.
    assert set(outcome["endings"]) <= {"431", "reset"}, outcome["endings"]
    assert outcome["reads"], outcome
    assert set(outcome["reads"]) == {200}, outcome["reads"]


def test_a_head_that_never_ends_is_closed_after_the_head_timeout(
    installed_project: BakedProject, own_database: dict
) -> None:
    # A head sent up to its last line; a connection that sends nothing at all.
    heads = [HEAD_START + b"X-Waiting: yes\r\n", b""]
    env = head_limited_env(own_database)
    with served_by_make_run(installed_project, env) as service:
        outcome = asyncio.run(heads_scenario(service, heads, verifier(installed_project, env)))

    print(
        f"\nheads that never end: {outcome['endings']} after {outcome['seconds']:.1f} s "
        f"(head timeout {HEAD_TIMEOUT_SECONDS} s); the user's reads: "
        f"{sorted(set(outcome['reads']))}"
    )
    assert outcome["endings"] == ["408", "408"], outcome["endings"]
    assert outcome["reads"], outcome
    assert set(outcome["reads"]) == {200}, outcome["reads"]


BUDGET_BODY_BYTES = 100_000
BUDGETED_BODIES = 4
BIG_BODIES = 10


async def big_body(port: int) -> tuple[int | None, bytes, float]:
    """Declare a large body and send all of it but its last byte: status, answer, seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /api/v1/auth/register HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {BUDGET_BODY_BYTES}\r\n\r\n"
    )
    started = time.monotonic()
    try:
        writer.write(head.encode() + b" " * (BUDGET_BODY_BYTES - 1))
        await writer.drain()
        async with asyncio.timeout(GIVE_UP_SECONDS):
            answer = await reader.read()
    except (ConnectionError, TimeoutError):
        answer = b""
    finally:
        writer.close()
    return status_and_body(answer)[0], answer, time.monotonic() - started


async def budget_scenario(service: Service, verify: Verify) -> dict:
    port = int(service.url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        user = await sign_in(client, verify)
        bodies = [asyncio.create_task(big_body(port)) for _ in range(BIG_BODIES)]
        reads: list[int] = []
        while not all(body.done() for body in bodies):
            reads.append((await client.get("/api/v1/users/me", headers=user)).status_code)
            await asyncio.sleep(0.05)
        return {"answers": [body.result() for body in bodies], "reads": reads}


def test_bodies_past_the_buffer_budget_are_refused_at_once(
    installed_project: BakedProject, own_database: dict
) -> None:
    env = {
        **service_env(own_database, None),
        "MAX_REQUEST_BODY_BYTES": str(BUDGET_BODY_BYTES),
        "MAX_BUFFERED_BODY_BYTES": str(BUDGETED_BODIES * BUDGET_BODY_BYTES),
        "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS),
        "EMAIL_BACKEND": "console",
    }
    with served_by_make_run(installed_project, env) as service:
        outcome = asyncio.run(budget_scenario(service, verifier(installed_project, env)))

    answers = outcome["answers"]
    print(
        f"\n{BIG_BODIES} stalled bodies of {BUDGET_BODY_BYTES} bytes, budget "
        f"{BUDGETED_BODIES}: "
        + ", ".join(f"{status} after {seconds:.1f} s" for status, _, seconds in answers)
    )
    statuses = sorted(status for status, _, _ in answers)
    # The bodies within the budget wait for their timeout; the rest are turned away at once.
    assert statuses.count(503) >= BIG_BODIES - BUDGETED_BODIES, statuses
    assert set(statuses) == {408, 503}, statuses
    refused = next(answer for status, answer, _ in answers if status == 503)
    head, _, body = refused.partition(b"\r\n\r\n")
    assert b"\r\nretry-after: 1\r\n" in head.lower(), head
    assert json.loads(body).keys() == {"detail"}
    assert outcome["reads"], outcome
    assert set(outcome["reads"]) == {200}, outcome["reads"]
