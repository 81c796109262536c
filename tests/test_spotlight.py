"""`make errors INBOX=spotlight` runs Sentry's Spotlight sidecar; the service reports to it
without a DSN, and it receives errors, traces and logs with nothing secret in them.

The sidecar is installed from the npm registry by the baked project's own `make errors`, once
per run; the default bake runs under uvicorn, with the payment provider and SMTP server down.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject, bake, command_env, env_file_value, make_must_succeed
from harness.delivery import Session, service_env
from harness.error_servers import breadcrumb_messages
from harness.processes import free_port
from harness.running_service import service_process
from harness.spotlight import SpotlightStream, require_npm_registry

pytestmark = [pytest.mark.option_sets("default"), pytest.mark.xdist_group("spotlight")]

PAYMENT_FINGERPRINT = ["handled", "payment", "http", "unreachable"]


def test_spotlight_receives_errors_traces_and_logs_without_a_dsn(
    installed_project: BakedProject,
    seeded_env: dict,
    tools_bin: Path,
    tmp_path: Path,
    config_file: Path,
) -> None:
    require_npm_registry()
    # A bake of its own: `make errors` rewrites .env, which other tests' bake must keep.
    project = bake(tmp_path / "spotlight", config_file)
    env = command_env(tools_bin)
    port = free_port()
    try:
        make_must_succeed(project, "errors", "INBOX=spotlight", f"ERRORS_PORT={port}", env=env)
        url = env_file_value(project, "SENTRY_SPOTLIGHT")
        assert url == f"http://127.0.0.1:{port}/stream"
        again = make_must_succeed(project, "errors", "INBOX=spotlight", env=env)
        assert "Installing" not in again, "a second run installed Spotlight again"
        assert env_file_value(project, "SENTRY_SPOTLIGHT") == url

        with SpotlightStream(f"http://127.0.0.1:{port}") as spotlight:
            session = _drive_a_session(installed_project, seeded_env, url)
            # The welcome email, the payment and the setup check; the payment's log record.
            spotlight.wait_for(
                lambda s: len(s.payloads("event")) >= 3 and _payment_log(s), timeout=30
            )
            _assert_errors(spotlight, session)
            _assert_traced(spotlight)
            _assert_logged(spotlight, session)
            raw = spotlight.raw()
            for secret in session.secrets():
                assert secret.encode() not in raw, f"{secret!r} reached Spotlight"
    finally:
        stopped = make_must_succeed(project, "errors-stop", env=env)
    assert "Stopped Spotlight" in stopped


def test_make_errors_says_in_one_line_that_spotlight_needs_node(
    baked_project: BakedProject, tmp_path: Path
) -> None:
    # Nothing on PATH, so no node and no npm; make and Python are named by their paths.
    python = Path(sys.executable).resolve()
    result = subprocess.run(
        [shutil.which("make"), "-s", "errors", "INBOX=spotlight", f"PYTHON={python}"],
        cwd=baked_project.root,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    [line, *_] = result.stderr.strip().splitlines()
    expected = "error: Spotlight needs Node.js 20 or newer with npm on PATH"
    assert line.startswith(expected), result.stderr
    assert not (baked_project.root / ".spotlight").exists()


def _drive_a_session(project: BakedProject, seeded_env: dict, spotlight_url: str) -> Session:
    """Sign-up, log-in, a checkout while payments are down, the setup check, then SIGTERM."""
    env = {
        **service_env(seeded_env, dsn=None),
        "ENVIRONMENT": "development",
        "SENTRY_SPOTLIGHT": spotlight_url,
        "SENTRY_LOGS": "true",
    }
    with service_process(project, env) as service:
        with httpx.Client(base_url=service.url, timeout=15) as client:
            session = Session(client)
            session.sign_up(lambda email: verify_address(project.root, env, email))
            session.check_out()
            session.hit_setup_check()
            assert client.get("/health").status_code == 200
        service.stop()
    return session


def _assert_errors(spotlight: SpotlightStream, session: Session) -> None:
    events = spotlight.payloads("event")
    user_id = str(session.user["id"])
    for event in events:
        # The SDK sends personal data without a DSN; the service's own choice (off) holds.
        assert "email" not in event.get("user", {}), event["user"]
        assert "ip_address" not in event.get("user", {}), event["user"]
        assert event["environment"] == "development"

    [unhandled] = [e for e in events if e["exception"]["values"][-1]["type"] == "SetupCheckError"]
    assert unhandled["event_id"] == session.error_ids[0]
    assert unhandled["user"]["id"] == user_id
    assert "GET /debug/sentry" in breadcrumb_messages(unhandled)

    [payment] = [e for e in events if e.get("fingerprint") == PAYMENT_FINGERPRINT]
    assert payment["user"]["id"] == user_id
    assert payment["tags"]["plan"] == "free"
    assert payment["tags"]["api_version"] == "v1"
    assert "request_id" in payment["tags"]
    assert payment["contexts"]["order"]["id"] == session.orders[0]["id"]
    assert {"Payment started", "Payment failed"} <= set(breadcrumb_messages(payment))


def _assert_traced(spotlight: SpotlightStream) -> None:
    transactions = {t["transaction"]: t for t in spotlight.payloads("transaction")}
    checkout = transactions["/api/v1/checkout"]
    span_ops = {span["op"] for span in checkout["spans"]}
    assert {"checkout.pricing", "payment.charge", "db"} <= span_ops, span_ops
    register = transactions["/api/v1/auth/register"]
    assert "email.send" in {span["op"] for span in register["spans"]}
    assert "/health" not in transactions, "health checks must not be traced"


def _payment_log(spotlight: SpotlightStream) -> dict | None:
    """The log record of the failed payment, found by the event id it names."""
    payments = [
        e for e in spotlight.payloads("event") if e.get("fingerprint") == PAYMENT_FINGERPRINT
    ]
    if not payments:
        return None
    return next(
        (
            record
            for record in spotlight.log_records()
            if record["attributes"].get("error_id", {}).get("value") == payments[0]["event_id"]
        ),
        None,
    )


def _assert_logged(spotlight: SpotlightStream, session: Session) -> None:
    """Log records name the request, the trace and the user."""
    record = _payment_log(spotlight)
    assert record is not None, [r["body"] for r in spotlight.log_records()]
    attributes = {name: value["value"] for name, value in record["attributes"].items()}
    assert attributes["user.id"] == str(session.user["id"])
    assert attributes["request_id"]
    checkout = next(
        t for t in spotlight.payloads("transaction") if t["transaction"] == "/api/v1/checkout"
    )
    assert record["trace_id"] == checkout["contexts"]["trace"]["trace_id"]
