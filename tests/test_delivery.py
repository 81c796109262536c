"""A real Sentry-protocol server (Bugsink) receives what the running service reports.

The service is a uvicorn subprocess of the default bake. Its DSN points at an envelope sink
that keeps every envelope and passes it on to Bugsink: Bugsink groups and stores the errors,
the sink shows the transactions Bugsink refuses to store.
"""

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject
from harness.bugsink import Bugsink
from harness.delivery import ENVIRONMENT, GIT_SHA, Session, service_env
from harness.error_servers import EnvelopeSink, breadcrumb_messages
from harness.running_service import service_process

pytestmark = [pytest.mark.option_sets("default"), pytest.mark.xdist_group("delivery")]

PAYMENT_FINGERPRINT = ["handled", "payment", "http", "unreachable"]


def _issue_of(issues_with_events: list[tuple[dict, list[dict]]], predicate) -> tuple:
    matching = [
        (issue, events)
        for issue, events in issues_with_events
        if any(predicate(e["data"]) for e in events)
    ]
    assert len(matching) == 1, f"expected one issue, got {[i for i, _ in matching]}"
    return matching[0]


def test_a_session_arrives_grouped_and_scrubbed(
    installed_project: BakedProject,
    seeded_env: dict,
    bugsink_server: Bugsink,
) -> None:
    project = bugsink_server.create_project("orders-service")
    key, project_id = _dsn_parts(project["dsn"])

    with EnvelopeSink(forward_to=bugsink_server.base_url) as sink:
        env = service_env(seeded_env, sink.dsn(project_id=project_id, key=key))
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=15) as client:
                session = Session(client)
                session.sign_up(lambda email: verify_address(installed_project.root, env, email))
                session.check_out()
                session.check_out()
                session.send_email()
                session.hit_setup_check()
                session.make_expected_mistakes()
            # Emails fail after their responses; wait for them before stopping the service.
            sink.wait_for(lambda s: len(s.payloads("event")) >= 5)
            service.stop()

    issues = [
        (issue, bugsink_server.events(issue["id"]))
        for issue in bugsink_server.issues(project["id"])
    ]
    events = [event for _, events in issues for event in events]
    urls = [e["data"].get("request", {}).get("url", "") for e in events]
    assert not [url for url in urls if url.endswith(("/no-such-route", "/auth/login"))]
    # Two payments, the setup check, and two emails: the sign-up's welcome and the one sent.
    assert len(events) == 5, [e["data"].get("fingerprint") for e in events]
    assert len(issues) == 3

    release = f"orders-service@0.1.0+{GIT_SHA[:12]}"
    user_id = str(session.user["id"])
    for event in events:
        assert event["data"]["release"] == release
        assert event["data"]["environment"] == ENVIRONMENT
        assert "request_id" in event["data"]["tags"]
        if not event["data"]["request"]["url"].endswith("/auth/register"):
            assert event["data"]["user"]["id"] == user_id

    _, [unhandled] = _issue_of(
        issues,
        lambda data: data["exception"]["values"][-1]["type"] == "SetupCheckError",
    )
    [error_id] = session.error_ids
    assert unhandled["event_id"].replace("-", "") == error_id
    data = unhandled["data"]
    assert data["exception"]["values"][-1]["mechanism"]["handled"] is False
    assert data["request"]["url"].endswith("/debug/sentry")
    assert "GET /debug/sentry" in breadcrumb_messages(data)

    _, payments = _issue_of(issues, lambda data: data.get("fingerprint") == PAYMENT_FINGERPRINT)
    assert sorted(e["data"]["contexts"]["order"]["id"] for e in payments) == sorted(
        order["id"] for order in session.orders
    )
    for payment in payments:
        data = payment["data"]
        assert data["tags"]["plan"] == "free"
        assert data["tags"]["api_version"] == "v1"
        assert data["contexts"]["order"]["payment_method"] == "card"
        assert {"Payment started", "Payment failed"} <= set(breadcrumb_messages(data))

    _, emails = _issue_of(
        issues,
        lambda data: data.get("fingerprint", [])[:3] == ["handled", "email", "smtp"],
    )
    [welcome] = [e for e in emails if e["data"]["request"]["url"].endswith("/auth/register")]
    [email] = [e for e in emails if e["data"]["request"]["url"].endswith("/emails/send")]
    assert "user" not in welcome["data"], "sign-up is anonymous"
    assert email["data"]["tags"]["plan"] == "free"
    assert "Email queued" in breadcrumb_messages(email["data"])

    kept = bugsink_server.kept_envelopes()
    assert len(kept) >= 4
    for raw in [*kept, sink.raw()]:
        for secret in session.secrets():
            assert secret.encode() not in raw, f"{secret!r} left the service"

    _assert_traced(sink, unhandled=unhandled["data"])


def _assert_traced(sink: EnvelopeSink, *, unhandled: dict) -> None:
    """Transactions and spans went out too, and the error points at its trace."""
    transactions = {t["transaction"]: t for t in sink.payloads("transaction")}
    checkout = transactions["/api/v1/checkout"]
    span_ops = {span["op"] for span in checkout["spans"]}
    assert {"checkout.pricing", "payment.charge", "db"} <= span_ops, span_ops
    [charge] = [s for s in checkout["spans"] if s["op"] == "payment.charge"]
    assert charge["status"] == "unavailable"
    assert charge["data"]["provider"] == "http"

    email = transactions["/api/v1/emails/send"]
    assert "email.send" in {span["op"] for span in email["spans"]}

    setup_check = transactions["/debug/sentry"]
    assert (
        unhandled["contexts"]["trace"]["trace_id"] == setup_check["contexts"]["trace"]["trace_id"]
    )
    assert setup_check["contexts"]["trace"]["status"] == "internal_error"
    assert "/health" not in transactions, "health checks must not be traced"


def _dsn_parts(dsn: str) -> tuple[str, str]:
    url = httpx.URL(dsn)
    return url.username, url.path.strip("/")
