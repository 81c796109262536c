"""A hung payment provider stalls no one and loses no order; the outage is one story in Sentry.

The default bake runs under uvicorn on a database of its own, with `PAYMENT_PROVIDER=http`
pointing at a provider that accepts connections and never answers. One user checks out many
times at once (some requests repeating one `Idempotency-Key`) while strangers sign up and
verified users log in and read their account. Then the provider answers again and the retries
settle the orders.
Latencies are printed, not asserted: the machine is shared.
"""

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject, own_sqlite_database
from harness.delivery import PASSWORD, service_env
from harness.error_servers import EnvelopeSink
from harness.payment_server import PaymentServer
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("production-faults"),
]

CHECKOUTS = 12
DUPLICATES = 4
OTHER_USERS = 4
READS = 10
# Far longer than the other users need even on a busy machine (hashing passwords is slow on
# purpose), so that they are done while every checkout still waits on the provider.
PAYMENT_TIMEOUT_SECONDS = 20
HANDLED_EVENTS_PER_MINUTE = 3
PAYMENT_TIMEOUT_FINGERPRINT = ["handled", "payment", "http", "timeout"]


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def time(self, request) -> httpx.Response:
        started = time.monotonic()
        response = await request
        self.seconds.append(time.monotonic() - started)
        self.statuses.append(response.status_code)
        return response

    def summary(self) -> str:
        if not self.seconds:
            return "no requests"
        ordered = sorted(self.seconds)
        p50 = statistics.median(ordered)
        return (
            f"{len(ordered)} requests, p50 {p50 * 1000:.0f} ms, worst {ordered[-1] * 1000:.0f} ms"
        )


def new_email() -> str:
    return f"u{uuid.uuid4().hex[:12]}@example.com"


async def register(client: httpx.AsyncClient, timings: Timings, email: str) -> bool:
    name = email.partition("@")[0]
    registered = await timings.time(
        client.post(
            "/api/v1/auth/register",
            json={"email": email, "username": name, "password": PASSWORD},
        )
    )
    return registered.status_code == 202


async def log_in_and_read(client: httpx.AsyncClient, timings: Timings, email: str) -> dict | None:
    """Log in and read the account; the bearer header, or None when a step failed."""
    login = await timings.time(
        client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    )
    if login.status_code != 200:
        return None
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = await timings.time(client.get("/api/v1/users/me", headers=headers))
    return headers if me.status_code == 200 else None


async def verified_accounts(
    client: httpx.AsyncClient, verify: Callable[[str], None], count: int
) -> list[str]:
    """Addresses signed up and verified with the service's own command, which is not timed."""
    emails = [new_email() for _ in range(count)]
    for email in emails:
        assert await register(client, Timings(), email), f"{email} could not sign up"
        await asyncio.to_thread(verify, email)
    return emails


async def another_user(client: httpx.AsyncClient, timings: Timings, verified_email: str) -> None:
    """A stranger signs up while an earlier, verified user logs in and reads the account."""
    await asyncio.gather(
        register(client, timings, new_email()), log_in_and_read(client, timings, verified_email)
    )


async def wait_for(condition, *, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds}s")


@dataclass
class Outcome:
    checkouts: list[httpx.Response]
    duplicates: list[httpx.Response]
    others: Timings
    others_done_while_checkouts_hung: bool


async def hung_provider_scenario(
    base_url: str, provider: PaymentServer, verify: Callable[[str], None]
) -> Outcome:
    """Checkouts hang on the provider while other users sign up, log in and read /users/me."""
    limits = httpx.Limits(max_connections=CHECKOUTS + DUPLICATES + OTHER_USERS + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        buyer_email, *other_emails = await verified_accounts(client, verify, 1 + OTHER_USERS)
        buyer = await log_in_and_read(client, Timings(), buyer_email)
        assert buyer is not None, "the buyer could not log in"
        products = (await client.get("/api/v1/products")).json()
        cart = {
            "items": [{"product_id": products[0]["id"], "quantity": 1}],
            "payment_token": "tok_visa",
        }

        def check_out(key: str) -> asyncio.Task[httpx.Response]:
            headers = {**buyer, "Idempotency-Key": key}
            return asyncio.create_task(client.post("/api/v1/checkout", json=cart, headers=headers))

        checkouts = [check_out(f"order-{n}") for n in range(CHECKOUTS)]
        duplicates = [check_out("same-order") for _ in range(DUPLICATES)]

        async def all_waiting_on_the_provider() -> bool:
            return provider.hung_requests >= CHECKOUTS + 1

        await wait_for(all_waiting_on_the_provider, seconds=30, what="every checkout calling out")
        others = Timings()
        reads = [others.time(client.get("/api/v1/users/me", headers=buyer)) for _ in range(READS)]
        await asyncio.gather(*reads, *(another_user(client, others, e) for e in other_emails))
        done_while_hung = not any(task.done() for task in checkouts)
        return Outcome(
            checkouts=await asyncio.gather(*checkouts),
            duplicates=await asyncio.gather(*duplicates),
            others=others,
            others_done_while_checkouts_hung=done_while_hung,
        )


async def order_statuses(base_url: str, headers: dict, order_ids: list[int]) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        answers = [await client.get(f"/api/v1/orders/{i}", headers=headers) for i in order_ids]
    return [answer.json()["status"] for answer in answers]


@pytest.fixture
def own_database(installed_project: BakedProject, tools_bin: Path, tmp_path: Path) -> dict:
    """A fresh, migrated and seeded database: no other test's pending orders in it."""
    return own_sqlite_database(installed_project, tools_bin, tmp_path)


def test_a_hung_provider_stalls_no_one_and_loses_no_order(
    installed_project: BakedProject, own_database: dict
) -> None:
    with EnvelopeSink() as sink, PaymentServer() as provider:
        env = {
            **service_env(own_database, sink.dsn()),
            "PAYMENT_API_URL": provider.url,
            "PAYMENT_TIMEOUT_SECONDS": str(PAYMENT_TIMEOUT_SECONDS),
            "PAYMENT_RETRY_INTERVAL_SECONDS": "1",
            "SENTRY_HANDLED_EVENTS_PER_MINUTE": str(HANDLED_EVENTS_PER_MINUTE),
            "SENTRY_TRACES_SAMPLE_RATE": "0",
            "EMAIL_BACKEND": "console",
            "AUTH_RATE_LIMIT_PER_CLIENT": "1000/minute",
        }
        with service_process(installed_project, env) as service:
            outcome = asyncio.run(
                hung_provider_scenario(
                    service.url,
                    provider,
                    lambda email: verify_address(installed_project.root, env, email),
                )
            )
            print(f"\nother users while the provider hung: {outcome.others.summary()}")

            # Nobody else waited for the provider, and nothing failed.
            assert outcome.others.statuses, "the other users made no requests"
            assert all(200 <= s < 300 for s in outcome.others.statuses), outcome.others.statuses
            assert outcome.others_done_while_checkouts_hung
            # Every checkout is kept as a pending order of its own.
            assert [r.status_code for r in outcome.checkouts] == [202] * CHECKOUTS, [
                r.text for r in outcome.checkouts
            ]
            assert {r.json()["status"] for r in outcome.checkouts} == {"payment_pending"}
            order_ids = [r.json()["id"] for r in outcome.checkouts]
            assert len(set(order_ids)) == CHECKOUTS
            # Requests repeating one key: one order, each answer names it or says "in progress".
            named = {r.json()["id"] for r in outcome.duplicates if r.status_code in (201, 202)}
            assert len(named) == 1, [r.text for r in outcome.duplicates]
            for answer in outcome.duplicates:
                assert answer.status_code in (201, 202, 409), answer.text
                if answer.status_code == 409:
                    assert "in progress" in answer.json()["detail"]
            order_ids += named

            provider.answer()
            buyer = outcome.checkouts[0].request.headers["Authorization"]
            headers = {"Authorization": buyer}

            async def all_paid() -> bool:
                statuses = await order_statuses(service.url, headers, order_ids)
                return statuses == ["paid"] * len(order_ids)

            asyncio.run(wait_for(all_paid, seconds=90, what="the retries paying every order"))
            charged = {key: n for key, n in provider.charges.items() if n}
            assert {f"order-{i}" for i in order_ids} <= charged.keys()
            assert all(charged[f"order-{i}"] == 1 for i in order_ids), charged

            # The outage's end is on the next event, with its start.
            error = httpx.get(f"{service.url}/debug/sentry", timeout=30)
            assert error.status_code == 500
            error_id = error.json()["error_id"]
            service.stop()

        events = sink.payloads("event")
        timeouts = [e for e in events if e.get("fingerprint") == PAYMENT_TIMEOUT_FINGERPRINT]
        print(f"payment timeout events sent: {len(timeouts)} for {CHECKOUTS + 1} timeouts")
        assert 1 <= len(timeouts) <= HANDLED_EVENTS_PER_MINUTE
        unexpected = [
            e
            for e in events
            if e["event_id"] != error_id and e.get("fingerprint", [""])[0] != "handled"
        ]
        assert unexpected == [], [e["exception"]["values"][-1] for e in unexpected]
        [last] = [e for e in events if e["event_id"] == error_id]
        outage = [
            crumb["message"]
            for crumb in last["breadcrumbs"]["values"]
            if crumb.get("category") == "outage"
        ]
        assert outage[-2:] == [
            "http payment provider started failing",
            "http payment provider recovered",
        ]
