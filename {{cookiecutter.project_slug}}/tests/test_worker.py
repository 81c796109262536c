"""The Celery worker as a real process: tasks run, fail once, report check-ins and share traces."""

import asyncio
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import current_app
from celery.beat import Scheduler
from fastapi import FastAPI
from kombu.exceptions import OperationalError
from sqlalchemy import text, update

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.checkout.models import Order
from {{ cookiecutter.package_name }}.checkout.payments import HttpPaymentProvider
from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.core.task_queue import create_celery_app
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport
from {{ cookiecutter.package_name }}.users import repository as users_repository
from {{ cookiecutter.package_name }}.users.models import User

from .conftest import PASSWORD, PROJECT_ROOT, verify_email

CARD_NUMBER = "4111 1111 1111 1111"
RETRY_TASK = "{{ cookiecutter.package_name }}.checkout.retry_payment"
PERIODIC_JOB = "retry-pending-payments"


class EnvelopeSink:
    """A Sentry-protocol endpoint on loopback that keeps every envelope item it receives."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.raw = bytearray()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                sink.receive(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server.server_port}/1"

    def receive(self, body: bytes) -> None:
        self.raw += body
        lines = body.split(b"\n")[1:]
        for header, payload in zip(lines[::2], lines[1::2], strict=False):
            item_type = json.loads(header)["type"]
            self.items.append((item_type, json.loads(payload)))

    def of_type(self, item_type: str) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.items if kind == item_type]

    async def wait_for(
        self, item_type: str, match: Callable[[dict[str, Any]], bool], within: float = 30
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if found := [item for item in self.of_type(item_type) if match(item)]:
                return found
            await asyncio.sleep(0.2)
        seen = [
            (kind, item.get("transaction") or item.get("monitor_slug")) for kind, item in self.items
        ]
        raise AssertionError(f"no matching {item_type} within {within}s; received {seen}")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sink() -> Iterator[EnvelopeSink]:
    sink = EnvelopeSink()
    yield sink
    sink.server.shutdown()


@pytest.fixture(scope="module")
def worker(
    database_url: str,
    broker_url: str,
    celery_queue: str,
    sink: EnvelopeSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[subprocess.Popen[str]]:
    """`celery worker --beat` as a separate process, reporting to the envelope sink."""
    environment = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_QUEUE": celery_queue,
        "SENTRY_DSN": sink.dsn,
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "PAYMENT_PROVIDER": "fake",
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(closed_port()),
        "SMTP_TIMEOUT_SECONDS": "2",
        "TASK_MAX_RETRIES": "1",
        "LOG_JSON": "false",
    }
    schedule = tmp_path_factory.mktemp("beat") / "schedule"
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
        [
            str(celery),
            "-A",
            "{{ cookiecutter.package_name }}.worker",
            "worker",
            "--beat",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            celery_queue,
            "-s",
            str(schedule),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    if not ready.wait(timeout=60):
        process.kill()
        pytest.fail("the worker did not start:\n" + "".join(output))
    yield process
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
async def committed_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with sessions that really commit, so the worker sees the rows; emptied after."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as session:
            await seed_catalogue(session)
            await session.commit()
        yield app
        async with app.state.sessionmaker() as session:
            await session.execute(
                text("TRUNCATE order_items, orders, users, products, discount_codes CASCADE")
            )
            await session.commit()


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def signed_in(client: httpx.AsyncClient, app: FastAPI) -> dict[str, str]:
    """A new user with a verified email address; returns its bearer header."""
    name = f"user_{uuid.uuid4().hex[:10]}"
    email = f"{name}@example.com"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "username": name, "password": PASSWORD}
    )
    assert registered.status_code == 202, registered.text
    await verify_email(app, client, email)
    login = await client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def settled_status(client: httpx.AsyncClient, order_id: int, headers: dict[str, str]) -> str:
    """The order's status once it is no longer pending, or after 30 s."""
    status = "payment_pending"
    deadline = time.monotonic() + 30
    while status == "payment_pending" and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        order = await client.get(f"/api/v1/orders/{order_id}", headers=headers)
        status = order.json()["status"]
    return status


@pytest.mark.usefixtures("worker")
async def test_a_pending_payment_is_retried_by_the_worker_in_the_same_trace(
    committed_client: httpx.AsyncClient,
    committed_app: FastAPI,
    sink: EnvelopeSink,
    sentry: CapturingTransport,
) -> None:
    headers = await signed_in(committed_client, committed_app)
    committed_app.state.payment_provider = HttpPaymentProvider(
        httpx.AsyncClient(), base_url=f"http://127.0.0.1:{closed_port()}", timeout=1.0
    )
    products = (await committed_client.get("/api/v1/products")).json()
    cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}], "payment_token": "tok_1"}

    placed = await committed_client.post("/api/v1/checkout", json=cart, headers=headers)

    assert placed.status_code == 202
    order_id = placed.json()["id"]
    assert await settled_status(committed_client, order_id, headers) == "paid"

    [request] = [t for t in sentry.transactions if t["transaction"] == "/api/v1/checkout"]
    trace_id = request["contexts"]["trace"]["trace_id"]
    assert any(span["op"] == "queue.submit.celery" for span in request["spans"])
    await sink.wait_for(
        "transaction",
        lambda task: (
            task["transaction"] == RETRY_TASK and task["contexts"]["trace"]["trace_id"] == trace_id
        ),
    )


@pytest.mark.usefixtures("worker")
async def test_a_failing_task_is_reported_once_after_its_retries_without_its_arguments(
    committed_client: httpx.AsyncClient, committed_app: FastAPI, sink: EnvelopeSink
) -> None:
    headers = await signed_in(committed_client, committed_app)
    email = {"to": "friend@example.com", "note": f"Card: {CARD_NUMBER}"}

    response = await committed_client.post("/api/v1/emails/send", json=email, headers=headers)

    assert response.status_code == 202

    def is_email_failure(event: dict[str, Any]) -> bool:
        return bool(
            event.get("extra", {}).get("celery-job", {}).get("task_name") == SEND_EMAIL_TASK
        )

    [event, *_] = await sink.wait_for("event", is_email_failure)
    await asyncio.sleep(3)  # a second report of the same task would come after another backoff
    failures = [e["tags"]["celery_task_id"] for e in sink.of_type("event") if is_email_failure(e)]
    attempts = [
        t["tags"]["celery_task_id"]
        for t in sink.of_type("transaction")
        if t["transaction"] == SEND_EMAIL_TASK
    ]
    assert len(failures) == len(set(failures)), "a task was reported more than once"
    assert attempts.count(event["tags"]["celery_task_id"]) == 2, "one attempt and one retry"
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "celery"
    assert event["extra"]["celery-job"]["args"] == "[Filtered]"
    assert CARD_NUMBER not in sink.raw.decode()
    assert "friend@example.com" not in sink.raw.decode()


@pytest.mark.usefixtures("worker")
async def test_the_periodic_job_reports_cron_check_ins(
    settings: Settings, sink: EnvelopeSink, sentry: CapturingTransport
) -> None:
    """Beat's own step, as beat takes it when the job is due: queue the task, check in."""
    scheduler = Scheduler(app=create_celery_app(settings))
    entry = scheduler.schedule[PERIODIC_JOB]

    await asyncio.to_thread(scheduler.apply_entry, entry, producer=scheduler.producer)

    [started] = [c for c in sentry.items("check_in") if c["monitor_slug"] == PERIODIC_JOB]
    assert started["status"] == "in_progress"
    assert started["monitor_config"]["schedule"] == {
        "type": "interval",
        "value": 5,
        "unit": "minute",
    }
    [finished] = await sink.wait_for(
        "check_in", lambda check_in: check_in["check_in_id"] == started["check_in_id"]
    )
    assert finished["status"] == "ok"
    assert finished["environment"] == "test"


@pytest.mark.usefixtures("worker")
async def test_the_periodic_job_charges_an_order_whose_retry_was_never_queued(
    committed_client: httpx.AsyncClient,
    committed_app: FastAPI,
    settings: Settings,
    sentry: CapturingTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The provider and the queue were down at checkout: beat's sweep still gets it paid."""
    headers = await signed_in(committed_client, committed_app)
    committed_app.state.payment_provider = HttpPaymentProvider(
        httpx.AsyncClient(), base_url=f"http://127.0.0.1:{closed_port()}", timeout=1.0
    )

    def queue_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(current_app, "send_task", queue_down)
    products = (await committed_client.get("/api/v1/products")).json()
    cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}], "payment_token": "tok_2"}
    placed = await committed_client.post("/api/v1/checkout", json=cart, headers=headers)
    monkeypatch.undo()

    assert placed.status_code == 202, placed.text
    order_id = placed.json()["id"]
    fingerprints = [event["fingerprint"] for event in sentry.events]
    assert ["handled", "task_queue", "unavailable"] in fingerprints
    # Older than a request could still be charging it, so the sweep takes it.
    async with committed_app.state.sessionmaker.begin() as session:
        await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(created_at=utcnow() - timedelta(minutes=10))
        )
    scheduler = Scheduler(app=create_celery_app(settings))

    await asyncio.to_thread(
        scheduler.apply_entry, scheduler.schedule[PERIODIC_JOB], producer=scheduler.producer
    )

    assert await settled_status(committed_client, order_id, headers) == "paid"


@pytest.mark.usefixtures("worker")
async def test_beat_removes_unverified_accounts_once_they_expire(
    committed_client: httpx.AsyncClient, committed_app: FastAPI, settings: Settings
) -> None:
    emails = [f"unverified-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2)]
    for email in emails:
        data = {"email": email, "username": email.split("@")[0], "password": PASSWORD}
        registered = await committed_client.post("/api/v1/auth/register", json=data)
        assert registered.status_code == 202, registered.text
    expired, fresh = emails
    long_ago = utcnow() - timedelta(hours=settings.unverified_account_expire_hours + 1)
    async with committed_app.state.sessionmaker.begin() as session:
        await session.execute(update(User).where(User.email == expired).values(created_at=long_ago))
    sweeping = settings.model_copy(update={"unverified_account_sweep_interval_minutes": 60})
    scheduler = Scheduler(app=create_celery_app(sweeping))

    await asyncio.to_thread(
        scheduler.apply_entry,
        scheduler.schedule["remove-expired-unverified-accounts"],
        producer=scheduler.producer,
    )

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with committed_app.state.sessionmaker() as session:
            if await users_repository.get_by_email(session, expired) is None:
                break
        await asyncio.sleep(0.3)
    async with committed_app.state.sessionmaker() as session:
        assert await users_repository.get_by_email(session, expired) is None
        assert await users_repository.get_by_email(session, fresh) is not None
