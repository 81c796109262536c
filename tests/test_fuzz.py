"""Schemathesis fuzzes the baked service, run as a real process, against its own OpenAPI schema.

Every operation gets its schema's boundary values (the coverage phase, whatever the budget) and
FUZZ_EXAMPLES generated requests, valid and invalid, signed in as a real user; set it higher to
search deeper. The stateful phase follows the schema's links (register -> login -> refresh, log-out,
checkout -> order).
A response must never be a 5xx and must match its documented status codes, headers and schema:
every check schemathesis has is on, except where tests/schemathesis.toml says why not.
"""

import os
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject
from harness.processes import run_with_output
from harness.running_service import Service, service_process

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))
# Fixed, so a failure in CI reproduces locally; set FUZZ_SEED to explore other inputs.
SEED = os.environ.get("FUZZ_SEED", "20261121")
TIMEOUT_SECONDS = 600
# Never fuzzed: it raises on purpose, to prove errors reach Sentry.
SETUP_CHECK_PATH = "/debug/sentry"
# Throttling would answer most generated sign-ups and log-ins with 429 before reaching the code
# under test; tests/test_throttling.py in the baked project covers the limits themselves.
UNTHROTTLED = {
    "AUTH_RATE_LIMIT_PER_CLIENT": "1000000/minute",
    "AUTH_RATE_LIMIT_PER_ACCOUNT": "1000000/minute",
    "EMAIL_RATE_LIMIT_PER_USER": "1000000/minute",
    "EMAIL_RATE_LIMIT_PER_RECIPIENT": "1000000/minute",
}


def bearer_token(service: Service, project: BakedProject, env: dict) -> str:
    """The access token of a new, verified user, so that it may send email."""
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    password = f"fuzz-{uuid.uuid4().hex}"
    with httpx.Client(base_url=service.url, timeout=15) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={
                "email": email,
                "username": email.split("@")[0],
                "password": password,
            },
        )
        assert registered.status_code == 202, registered.text
        verify_address(project.root, env, email)
        login = client.post("/api/v1/auth/login", data={"username": email, "password": password})
        assert login.status_code == 200, login.text
        return login.json()["access_token"]


@pytest.mark.starts_first
@pytest.mark.option_sets("default")
def test_fuzzing_finds_no_server_error_or_schema_violation(
    installed_project: BakedProject, seeded_env: dict, tmp_path: Path
) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with service_process(installed_project, {**seeded_env, **UNTHROTTLED}) as service:
        base_url = service.url
        token = bearer_token(service, installed_project, {**seeded_env, **UNTHROTTLED})
        command = [
            str(schemathesis),
            "--no-color",
            "--config-file",
            str(CONFIG_FILE),
            "run",
            f"{base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--exclude-path",
            SETUP_CHECK_PATH,
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            SEED,
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ]
        started = time.monotonic()
        result = run_with_output(*command, cwd=tmp_path, timeout=TIMEOUT_SECONDS)
    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    print(f"schemathesis ran {time.monotonic() - started:.0f}s\n{summary}")
    assert result.returncode == 0, f"schemathesis found problems:\n{result.stdout}"
