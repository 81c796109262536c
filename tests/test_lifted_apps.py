"""The observability package lifted into apps this template did not generate.

Three apps of other shapes (tests/lift_apps/) get it by the one command, are wired as its README
says, run under uvicorn on the lowest supported and the newest sentry-sdk, and are checked at an
envelope sink.
"""

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from harness.error_servers import EnvelopeSink
from harness.lifting import HOSTS, Host, json_lines
from harness.processes import free_port, stop_process
from harness.running_service import log_text

pytestmark = pytest.mark.xdist_group("lift")

SECRET_PASSWORD = "lifted-passphrase-Zq81"
CARD_NUMBER = "4111111111111111"
STARTUP_TIMEOUT = 120


# --- the three apps, running ---------------------------------------------------------


@dataclass
class RunningHost:
    host: Host
    sdk: str
    url: str
    root: Path
    python: Path
    sink: EnvelopeSink
    process: subprocess.Popen
    log: IO[str]

    def output(self) -> str:
        return log_text(self.log)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def event_for(self, request_id: str, *, count: int = 1) -> list[dict]:
        def matching(sink: EnvelopeSink) -> list[dict]:
            return [
                event
                for event in sink.payloads("event")
                if event.get("tags", {}).get("request_id") == request_id
            ]

        self.sink.wait_for(lambda sink: len(matching(sink)) >= count)
        return matching(self.sink)


@pytest.fixture(scope="module")
def running_hosts(
    lifted_hosts: dict[str, Path],
    lift_venvs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, RunningHost]]:
    """Every app on every SDK version, started at once, each sending to its own sink."""
    running: dict[str, RunningHost] = {}
    with contextlib.ExitStack() as stack:
        for name, host in HOSTS.items():
            for sdk, python in lift_venvs.items():
                data = tmp_path_factory.mktemp(f"{name}-{sdk}")
                sink = stack.enter_context(EnvelopeSink())
                port = free_port()
                log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("SENTRY")},
                    **host.env(data),
                    "SENTRY_DSN": sink.dsn(),
                    "SENTRY_TRACES_SAMPLE_RATE": "1.0",
                    "ENVIRONMENT": "staging",
                    "LOG_JSON": "true",
                }
                process = subprocess.Popen(
                    [
                        str(python),
                        "-m",
                        "uvicorn",
                        f"{host.package}.main:app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        *host.uvicorn_args,
                    ],
                    cwd=lifted_hosts[name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                stack.callback(stop_process, process)
                running[f"{name}-{sdk}"] = RunningHost(
                    host,
                    sdk,
                    f"http://127.0.0.1:{port}",
                    lifted_hosts[name],
                    python,
                    sink,
                    process,
                    log,
                )
        for service in running.values():
            _wait_until_healthy(service)
        yield running


def _wait_until_healthy(service: RunningHost) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"{service.host.name} exited:\n{service.output()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{service.url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"{service.host.name} did not answer:\n{service.output()}")


SERVICES = [f"{name}-{sdk}" for name in HOSTS for sdk in ("lowest", "newest")]


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest, running_hosts: dict) -> RunningHost:
    return running_hosts[request.param]


def test_an_unhandled_error_names_its_event_user_and_request(
    service: RunningHost,
) -> None:
    host = service.host
    path, exception_type = host.failing
    with service.client() as client:
        auth = host.sign_in(client)
        response = client.post(
            path,
            json={"password": SECRET_PASSWORD, "card": CARD_NUMBER},
            headers=auth,
        )
        user_id = host.expected_user(client)
        credentials = [*auth.values(), client.cookies.get("session") or ""]

    assert response.status_code == 500, response.text
    error_id = response.json()["error_id"]
    request_id = response.headers["X-Request-ID"]
    [event] = service.event_for(request_id)
    assert event["event_id"] == error_id
    assert event["exception"]["values"][-1]["type"] == exception_type
    assert event["user"]["id"] == user_id
    assert event["release"].startswith(f"{host.package}@")
    assert event["transaction"] == path

    if host.has_database:
        crumbs = event["breadcrumbs"]["values"]
        assert any(crumb.get("category") == "query" for crumb in crumbs), crumbs
        service.sink.wait_for(lambda sink: _transaction(sink, request_id) is not None)
        spans = _transaction(service.sink, request_id)["spans"]
        assert any(span["op"] == "db" for span in spans), spans

    lines = json_lines(service.output())
    [error_line] = [line for line in lines if line.get("error_id") == error_id]
    assert error_line["request_id"] == request_id
    access = [line for line in lines if line.get("logger") == "uvicorn.access"]
    if "--no-access-log" in host.uvicorn_args:
        assert access == [], "the host's --no-access-log was overridden"
    else:
        [access_line] = [line for line in access if f"{path} HTTP" in line["message"]]
        assert " 500" in access_line["message"]
        assert access_line["request_id"] == request_id

    raw = service.sink.raw()
    for secret in [SECRET_PASSWORD, CARD_NUMBER, *filter(None, credentials)]:
        assert secret.encode() not in raw, f"{secret[:12]}... left the process"


def _transaction(sink: EnvelopeSink, request_id: str) -> dict | None:
    for transaction in sink.payloads("transaction"):
        if transaction.get("tags", {}).get("request_id") == request_id:
            return transaction
    return None


def test_forged_credentials_give_no_user(service: RunningHost) -> None:
    with service.client() as client:
        response = client.get(service.host.public_failing, headers=service.host.forged)

    assert response.status_code == 500, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["event_id"] == response.json()["error_id"]
    assert "id" not in event.get("user", {})


@pytest.mark.parametrize("sdk", ["lowest", "newest"])
def test_a_route_awaiting_a_failing_task_names_the_tasks_event(
    running_hosts: dict[str, RunningHost], sdk: str
) -> None:
    service = running_hosts[f"shop-{sdk}"]
    with service.client() as client:
        response = client.get("/shop/recommendations")

    assert response.status_code == 500, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["event_id"] == response.json()["error_id"]
    assert event["exception"]["values"][-1]["type"] == "ConnectionResetError"


def test_a_handled_error_is_grouped_by_its_fingerprint(service: RunningHost) -> None:
    path, fingerprint = service.host.handled
    with service.client() as client:
        auth = service.host.sign_in(client)
        responses = [client.post(path, headers=auth) for _ in range(2)]

    assert {response.status_code for response in responses} == {200}
    events = [
        event
        for response in responses
        for event in service.event_for(response.headers["X-Request-ID"])
    ]
    assert [event["fingerprint"] for event in events] == [fingerprint, fingerprint]


def test_a_failing_background_task_is_captured(service: RunningHost) -> None:
    path, exception_type = service.host.background
    with service.client() as client:
        auth = service.host.sign_in(client)
        response = client.post(path, headers=auth)
        user_id = service.host.expected_user(client)

    assert response.status_code == 202, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["exception"]["values"][-1]["type"] == exception_type
    assert event["user"]["id"] == user_id


def test_the_apps_own_tests_pass_with_the_package_wired(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path], tmp_path: Path
) -> None:
    """Each app's tests, with its entry module loaded first: the wired app under test.

    `-s` shows the JSON lines the package's logging writes to stdout.
    """
    runs = {}
    # The newest SDK here; the lowest runs the apps under uvicorn and the start-up check.
    sdk = "newest"
    for name, root in lifted_hosts.items():
        package = HOSTS[name].package
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY")}
        data = tmp_path / f"{name}-{sdk}"
        data.mkdir()
        env.update(HOSTS[name].env(data), PYTHONPATH=str(root))
        runs[f"{name}-{sdk}"] = subprocess.Popen(
            [
                str(lift_venvs[sdk]),
                "-m",
                "pytest",
                "-q",
                "-s",
                "-p",
                f"{package}.main",
                "-p",
                "no:cacheprovider",
                "tests",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for name, run in runs.items():
        output, _ = run.communicate(timeout=180)
        assert run.returncode == 0, f"{name}:\n{output}"
        assert " passed" in output
        # No DSN in tests: nothing to report, and no false alarm about the client.
        assert '"level": "ERROR"' not in output, f"{name}:\n{output}"
