"""No planted secret reaches the error server from a Celery worker's failing tasks.

The celery bake's API and worker send to an envelope sink. A sign-up's welcome email goes to a
mail server that refuses it, and a checkout's payment retry goes to a provider that refuses
connections; with no retries allowed, both tasks fail in the worker, which reports them with
the task's arguments (the rendered email and its link) and, with local variables on, its
frames. The password, its hash, the payment token, SECRET_KEY, the database URL's password and
the tokens the service handed out must be in none of the envelopes, nor in the worker's log.
"""

import re
import secrets
import uuid

import httpx
import pytest

from harness.baking import BakedProject
from harness.error_servers import EnvelopeSink
from harness.mail_server import RefusingMailServer
from harness.planted_secrets import (
    DATABASE_PASSWORD,
    PASSWORD,
    PAYMENT_TOKEN,
    SECRET_KEY,
    leaked_anywhere,
    planted_env,
    signed_in,
    smtp_env,
)
from harness.running_service import celery_worker, service_process

pytestmark = [
    pytest.mark.option_sets("celery"),
    pytest.mark.xdist_group("secrets-at-sink-celery"),
]


def with_database_password(database_url: str) -> str:
    """The URL with a password for its user; the shared server trusts loopback and ignores it."""
    return re.sub(r"://(\w+)@", rf"://\1:{DATABASE_PASSWORD}@", database_url, count=1)


def failed_tasks(sink: EnvelopeSink) -> set[str]:
    return {
        event.get("extra", {}).get("celery-job", {}).get("task_name", "")
        for event in sink.payloads("event")
    }


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_failing_tasks_send_no_planted_secret(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool
) -> None:
    package = installed_project.package
    username = f"celery{secrets.token_hex(6)}"
    with EnvelopeSink() as sink, RefusingMailServer() as mail:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            "DATABASE_URL": with_database_password(seeded_env["DATABASE_URL"]),
            **smtp_env(mail),
            "TASK_MAX_RETRIES": "0",
            "PAYMENT_RETRY_DELAY_SECONDS": "0",
            # A queue of this test's own, so that no other worker takes its tasks.
            "CELERY_QUEUE": f"secrets-{uuid.uuid4().hex[:8]}",
        }
        with (
            celery_worker(installed_project, env, env["CELERY_QUEUE"]) as worker,
            service_process(installed_project, env) as service,
            httpx.Client(base_url=service.url, timeout=30) as client,
        ):
            tokens = signed_in(client, mail, username)
            products = client.get("/api/v1/products").json()
            checkout = client.post(
                "/api/v1/checkout",
                json={
                    "items": [{"product_id": products[0]["id"], "quantity": 1}],
                    "payment_token": PAYMENT_TOKEN,
                },
                headers={
                    "Authorization": f"Bearer {tokens['access token']}",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            assert checkout.status_code == 202, checkout.text
            expected = {f"{package}.emails.send_email", f"{package}.checkout.retry_payment"}
            sink.wait_for(lambda s: expected <= failed_tasks(s), timeout=60)
            log = worker.output()

    print(f"\ntasks reported failing: {sorted(failed_tasks(sink))}")
    planted = {
        "password": PASSWORD,
        "payment token": PAYMENT_TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "database password": DATABASE_PASSWORD,
        **tokens,
    }
    found = leaked_anywhere(sink.raw(), planted)
    in_log = leaked_anywhere(log.encode(), planted)
    print(f"secrets at the sink: {sorted(found)}; in the worker's log: {sorted(in_log)}")
    assert found == {}, found
    assert in_log == {}, in_log
