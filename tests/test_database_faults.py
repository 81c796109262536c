"""The baked service under real uvicorn meets a write burst, a database restart, overload and
spoofed forwarded headers: it answers 2xx or a 503 with Retry-After, never a 500, loses no order.

Loads are bounded in connections and seconds and go over loopback; nothing here times an answer
(`make bench-burst` measures latency).
"""

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject, command_env, make_must_succeed
from harness.own_postgres import own_postgres, required_binaries
from harness.running_service import served_by_make_run, service_process
from harness.write_burst import (
    PASSWORD,
    UNTHROTTLED,
    BurstResult,
    connection_auths,
    run_burst,
    sign_up,
    stored_order_ids,
)

pytestmark = pytest.mark.xdist_group("database-faults")

CONNECTIONS = 64
BURST_SECONDS = 2
# Signing up costs a password hash: a few users share the connections of the checkout burst.
USERS = 4
# Bounds of the restart test: how long to wait for each phase, never how fast it must be.
PHASE_TIMEOUT = 60


def assert_is_503_with_retry_after(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"detail"}


def assert_nothing_failed(result: BurstResult) -> None:
    assert result.server_errors == [], result.server_errors
    assert result.unavailable == [], result.unavailable[:3]
    assert result.failures == [], result.failures
    assert result.count(200, 299) > 0, result.summary()


@pytest.mark.option_sets("default", "postgresql")
def test_a_write_burst_fails_nothing_and_loses_no_order(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    env = {**seeded_env, **UNTHROTTLED}
    with service_process(installed_project, env) as service:
        auths = connection_auths(
            service.url,
            users=USERS,
            connections=CONNECTIONS,
            verify=lambda email: verify_address(installed_project.root, env, email),
        )
        checkouts = run_burst(
            service.url,
            "checkout",
            connections=CONNECTIONS,
            seconds=BURST_SECONDS,
            auths=auths,
        )
        signups = run_burst(service.url, "signup", connections=CONNECTIONS, seconds=BURST_SECONDS)
        service.stop()
        assert "database is locked" not in service.output()

    assert_nothing_failed(checkouts)
    assert set(checkouts.statuses) <= {201, 202}, checkouts.summary()
    assert len(checkouts.order_ids) == len(checkouts.statuses)
    missing = checkouts.order_ids - stored_order_ids(seeded_env["DATABASE_URL"])
    assert not missing, f"confirmed orders not in the database: {sorted(missing)}"
    assert_nothing_failed(signups)
    assert set(signups.statuses) <= {202}, signups.summary()


class LightLoad:
    """One client reading the user and placing an order, again and again, in a thread."""

    def __init__(self, base_url: str, auth: dict) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=PHASE_TIMEOUT)
        self.auth = auth
        self.answers: list[tuple[str, httpx.Response]] = []
        self.phase = "up"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        cart = {"items": [{"product_id": 1, "quantity": 1}], "payment_token": "tok"}
        while not self._stop.is_set():
            phase = self.phase
            me = self.client.get("/api/v1/users/me", headers=self.auth)
            self.answers.append((phase, me))
            headers = {**self.auth, "Idempotency-Key": f"restart-{uuid.uuid4()}"}
            order = self.client.post("/api/v1/checkout", json=cart, headers=headers)
            self.answers.append((phase, order))
            self._stop.wait(0.05)

    def statuses(self, phase: str) -> list[int]:
        return [answer.status_code for p, answer in self.answers if p == phase]

    def wait_for(self, phase: str, status: int, count: int) -> None:
        deadline = time.monotonic() + PHASE_TIMEOUT
        while self.statuses(phase).count(status) < count:
            assert time.monotonic() < deadline, (phase, self.statuses(phase))
            assert self._thread.is_alive(), "the load stopped"
            time.sleep(0.05)

    @contextlib.contextmanager
    def running(self) -> Iterator["LightLoad"]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(PHASE_TIMEOUT)
            self.client.close()


@pytest.mark.option_sets("postgresql")
def test_a_database_restart_is_503s_then_2xx_without_restarting_the_service(
    installed_project: BakedProject, tools_bin: Path
) -> None:
    bin_dir = required_binaries()
    with own_postgres(bin_dir) as server:
        url = server.create_database("restart")
        env = command_env(tools_bin, DATABASE_URL=url)
        make_must_succeed(installed_project.root, "migrate", "seed", env=env)
        with service_process(installed_project, env) as service:
            pid = service.process.pid
            with httpx.Client(base_url=service.url, timeout=30) as client:
                auth = sign_up(
                    client,
                    lambda email: verify_address(installed_project.root, env, email),
                )
            with LightLoad(service.url, auth).running() as load:
                load.wait_for("up", 200, 3)
                load.phase = "stopping"
                server.stop()
                load.phase = "down"
                load.wait_for("down", 503, 4)
                load.phase = "starting"
                server.start()
                load.phase = "restarted"
                load.wait_for("restarted", 200, 3)
                load.wait_for("restarted", 201, 3)
            assert service.process.poll() is None, "the service exited"
            assert service.process.pid == pid
            service.stop()
            assert "Unhandled error" not in service.output()

    answers = [answer for _, answer in load.answers]
    statuses = [answer.status_code for answer in answers]
    assert 500 not in statuses, service.output()
    assert set(statuses) <= {200, 201, 503}, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert_is_503_with_retry_after(answer)
    # Once the server is back, every answer is a success: the pool replaced its connections.
    assert set(load.statuses("restarted")) <= {200, 201}, load.statuses("restarted")


def log_in(client: httpx.Client, forwarded_for: str) -> int:
    response = client.post(
        "/api/v1/auth/login",
        data={
            "username": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
        },
        headers={"X-Forwarded-For": forwarded_for},
    )
    assert response.status_code in (401, 429), response.text
    return response.status_code


@pytest.mark.option_sets("default")
def test_a_spoofed_forwarded_for_changes_nothing_by_default(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    env = {**seeded_env, "AUTH_RATE_LIMIT_PER_CLIENT": "5/minute"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    with (
        served_by_make_run(installed_project, env) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        statuses = [log_in(client, f"198.51.100.{number}") for number in range(60)]
    assert statuses == [401] * 5 + [429] * 55


@pytest.mark.option_sets("default")
def test_the_forwarded_for_of_a_configured_proxy_is_the_client(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    env = {
        **seeded_env,
        "AUTH_RATE_LIMIT_PER_CLIENT": "5/minute",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    with (
        served_by_make_run(installed_project, env) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        # Each proxied client has its own count: seven clients, one attempt each, all heard.
        distinct = [log_in(client, f"198.51.100.{number}") for number in range(7)]
        # One client behind the proxy still meets its limit; the next client does not.
        same = [log_in(client, "203.0.113.9") for _ in range(6)]
        other = log_in(client, "203.0.113.10")
    assert distinct == [401] * 7
    assert same == [401] * 5 + [429]
    assert other == 401


@pytest.mark.option_sets("default")
def test_overload_is_shed_with_fast_503s(installed_project: BakedProject, seeded_env: dict) -> None:
    env = {**seeded_env, **UNTHROTTLED, "MAX_CONCURRENT_REQUESTS": "4"}
    probes: list[int] = []
    with service_process(installed_project, env) as service:
        # Sign-ups hash a password: each keeps its slot long enough for the others to pile up.
        with ThreadPoolExecutor(1) as pool:
            burst = pool.submit(run_burst, service.url, "signup", connections=48, seconds=1)
            while not burst.done():
                probes.append(httpx.get(f"{service.url}/health", timeout=30).status_code)
            overload = burst.result()
        service.stop()

    assert overload.failures == [], overload.failures
    assert overload.server_errors == [], overload.server_errors
    assert set(overload.statuses) <= {202, 503}, overload.summary()
    assert overload.statuses.count(503) > 0, overload.summary()
    assert overload.statuses.count(202) > 0, overload.summary()
    for retry_after, content_type, body in overload.unavailable:
        assert int(retry_after) > 0
        assert content_type == "application/json"
        assert "overloaded" in body
    assert probes, "no probe was answered"
    assert set(probes) == {200}, "the probes are not shed"
