"""A broken error server never breaks the service; shutdown still delivers; a bad DSN is refused.

How much latency and memory each fault costs is measured by `benchmarks/delivery.py`; these
tests check behaviour: every request answered, nothing hangs, the process exits cleanly.
"""

import contextlib
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject
from harness.delivery import Session, service_env
from harness.error_servers import BlackHole, EnvelopeSink, dsn_for
from harness.processes import free_port
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("delivery-faults"),
]

# Each error sends an event and a transaction. Against a server that never answers they pile
# up: send more than the SDK queues (100 envelopes), so that it has to drop some.
ERRORS_TO_PILE_UP = 60
ERRORS = 5
# Long enough for a slow machine, far shorter than the SDK's 30 s wait on a silent server.
REQUEST_TIMEOUT = 10


@contextlib.contextmanager
def faulty_error_server(fault: str) -> Iterator[tuple[str, object]]:
    """A DSN whose server fails in the named way, and that server (None when it is down)."""
    if fault == "down":
        yield dsn_for(free_port()), None
    elif fault == "black-holed":
        with BlackHole() as server:
            yield server.dsn(), server
    else:
        with EnvelopeSink(status=int(fault)) as server:
            yield server.dsn(), server


@pytest.mark.parametrize("fault", ["down", "black-holed", "500", "429"])
def test_the_service_answers_whatever_the_error_server_does(
    installed_project: BakedProject, seeded_env: dict, fault: str
) -> None:
    with faulty_error_server(fault) as (dsn, server):
        env = service_env(seeded_env, dsn)
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=REQUEST_TIMEOUT) as client:
                session = Session(client)
                session.sign_up(lambda email: verify_address(installed_project.root, env, email))
                session.check_out()
                session.send_email()
                errors = ERRORS_TO_PILE_UP if fault == "black-holed" else ERRORS
                for _ in range(errors):
                    session.hit_setup_check()
                session.check_out()
                assert client.get("/health/ready").status_code == 200
            service.stop()
        assert len(set(session.error_ids)) == errors
        if isinstance(server, BlackHole):
            assert server.connections, "the SDK never reached the black hole"
        if isinstance(server, EnvelopeSink):
            assert server.requests, "the SDK never reached the failing server"


def test_an_error_just_before_sigterm_is_delivered(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    # A slow server keeps the event in flight when the signal comes.
    with EnvelopeSink(delay=0.3) as sink:
        env = service_env(seeded_env, sink.dsn())
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=REQUEST_TIMEOUT) as client:
                session = Session(client)
                session.hit_setup_check()
            service.stop()
        [error_id] = session.error_ids
        assert [e["event_id"] for e in sink.payloads("event")] == [error_id]


def test_a_malformed_dsn_stops_the_start_with_one_line(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    env = service_env(seeded_env, "https://errors.example.com/1")
    result = subprocess.run(
        [
            str(installed_project.bin("uvicorn")),
            f"{installed_project.package}.main:app",
            "--port",
            str(free_port()),
        ],
        cwd=installed_project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Invalid configuration:\n  SENTRY_DSN: not a Sentry DSN (Missing public key)\n"
    )
