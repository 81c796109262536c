"""A burst of writes against the running service: many connections at once, for a bounded time.

Shared by the database fault tests, which check that nothing fails and nothing is lost, and by
`benchmarks/write_burst.py`, which reports how long the answers took.
"""

import asyncio
import contextlib
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness import databases

PASSWORD = "burst-passphrase-9Kd3"
# Every connection comes from 127.0.0.1: lift the per-address sign-up limit for the burst.
UNTHROTTLED = {"AUTH_RATE_LIMIT_PER_CLIENT": "1000000/minute"}
CART = {
    "items": [{"product_id": 1, "quantity": 2}],
    "discount_code": "WELCOME10",
    "payment_token": "tok_burst",
}


@dataclass
class BurstResult:
    """Every answer of a burst: its status and seconds taken, and the orders it named."""

    kind: str
    connections: int
    seconds: float
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # Transport failures (refused, reset, timed out), by exception name.
    failures: list[str] = field(default_factory=list)
    order_ids: set[int] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    # Every 503: its Retry-After header, its content type and its body.
    unavailable: list[tuple[str | None, str | None, str]] = field(default_factory=list)

    def count(self, low: int, high: int) -> int:
        return sum(low <= status <= high for status in self.statuses)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def summary(self) -> dict:
        return {
            "kind": self.kind,
            "connections": self.connections,
            "seconds": self.seconds,
            "requests": len(self.statuses),
            "per_second": len(self.statuses) / self.seconds,
            "p50_ms": self.percentile(0.50) * 1000,
            "p99_ms": self.percentile(0.99) * 1000,
            "max_ms": max(self.latencies, default=float("nan")) * 1000,
            "mean_ms": statistics.fmean(self.latencies) * 1000 if self.latencies else 0,
            "2xx": self.count(200, 299),
            "4xx": self.count(400, 499),
            "503": self.statuses.count(503),
            "5xx": self.count(500, 599),
            "transport_failures": len(self.failures),
        }


def sign_up(client: httpx.Client, verify: Callable[[str], None]) -> dict:
    """Register, verify (`verify` marks the address) and log in a new user; the bearer header."""
    name = f"burst{uuid.uuid4().hex[:10]}"
    email = f"{name}@example.com"
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": email, "username": name, "password": PASSWORD},
    )
    assert registered.status_code == 202, registered.text
    verify(email)
    login = client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def connection_auths(
    base_url: str, *, users: int, connections: int, verify: Callable[[str], None]
) -> list[dict]:
    """Sign up `users` accounts and hand them to `connections` in turn (a hash costs a sign-up)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        signed_up = [sign_up(client, verify) for _ in range(users)]
    return [signed_up[number % users] for number in range(connections)]


async def _one_connection(
    client: httpx.AsyncClient,
    kind: str,
    auth: dict,
    deadline: float,
    result: BurstResult,
) -> None:
    while time.monotonic() < deadline:
        if kind == "checkout":
            request = client.build_request(
                "POST",
                "/api/v1/checkout",
                json=CART,
                headers={**auth, "Idempotency-Key": f"burst-{uuid.uuid4()}"},
            )
        else:
            name = f"su{uuid.uuid4().hex[:12]}"
            request = client.build_request(
                "POST",
                "/api/v1/auth/register",
                json={
                    "email": f"{name}@example.com",
                    "username": name,
                    "password": PASSWORD,
                },
            )
        started = time.perf_counter()
        try:
            response = await client.send(request)
        except httpx.TransportError as error:
            result.failures.append(type(error).__name__)
            continue
        result.latencies.append(time.perf_counter() - started)
        result.statuses.append(response.status_code)
        if response.status_code == 503:
            headers = response.headers
            result.unavailable.append(
                (headers.get("Retry-After"), headers.get("content-type"), response.text)
            )
        elif response.status_code >= 500:
            result.server_errors.append(f"{response.status_code} {response.text[:200]}")
        elif kind == "checkout" and response.status_code in (200, 201, 202):
            result.order_ids.add(response.json()["id"])


# The timeout is each request's, given to the HTTP client; the burst ends after `seconds`.
async def _burst(
    base_url: str,
    kind: str,
    auths: list[dict],
    seconds: float,
    timeout: float,  # noqa: ASYNC109
) -> BurstResult:
    result = BurstResult(kind, len(auths), seconds)
    # One client (one SSL context to build) with a connection for each worker.
    limits = httpx.Limits(max_connections=len(auths), max_keepalive_connections=len(auths))
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(_one_connection(client, kind, auth, deadline, result) for auth in auths)
        )
    return result


def run_burst(
    base_url: str,
    kind: str,
    *,
    connections: int,
    seconds: float,
    auths: list[dict] | None = None,
    timeout: float = 60,
) -> BurstResult:
    """`connections` clients send `kind` ("checkout" or "signup") requests until `seconds` pass.

    Each client waits for its answer before sending the next; the last answers arrive after the
    deadline. Checkouts need one bearer header per connection in `auths`.
    """
    if kind == "checkout":
        assert auths is not None
        assert len(auths) == connections
    else:
        auths = [{}] * connections
    return asyncio.run(_burst(base_url, kind, auths, seconds, timeout))


def stored_order_ids(database_url: str) -> set[int]:
    """Ids of every order in the service's database, read without the service."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return {row[0] for row in connection.execute("SELECT id FROM orders")}
    name = database_url.rsplit("/", 1)[1]
    return {int(value) for value in databases.query(name, "SELECT id FROM orders")}
