"""Start the baked service as a real uvicorn process and stop it afterwards."""

import contextlib
import re
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from harness.baking import BakedProject
from harness.processes import free_port, stop_process

STARTUP_TIMEOUT = 60


class ServiceFailedError(AssertionError):
    pass


def log_text(log: IO[str]) -> str:
    """All a process has written to its log file so far."""
    log.flush()
    log.seek(0)
    return log.read()


@dataclass(frozen=True)
class Service:
    url: str
    process: subprocess.Popen
    log: IO[str]

    def output(self) -> str:
        return log_text(self.log)

    def stop(self) -> None:
        """SIGTERM, as a process manager would; fail unless the lifespan shut down cleanly."""
        stop_process(self.process)
        # uvicorn re-raises the signal once it has shut down, so -SIGTERM is a clean exit.
        assert self.process.returncode in (0, -signal.SIGTERM), self.output()
        assert "Application shutdown complete." in self.output(), self.output()

    def resident_kib(self) -> int:
        """Resident memory of the process, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1])


@contextlib.contextmanager
def service_process(
    project: BakedProject,
    env: dict,
    *,
    port: int | None = None,
    command: list | None = None,
    cwd: Path | None = None,
) -> Iterator[Service]:
    """Yield the service once /health answers; show its log on failure; stop it at the end.

    By default uvicorn serves it on a free port, as `make run` does; `command` (with `port`)
    starts it otherwise.
    It runs in the project's directory, and reads its .env, unless `cwd` names another.
    """
    port = port or free_port()
    command = command or [
        str(project.bin("uvicorn")),
        f"{project.package}.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        f"{project.package}.core.http_protocol:HeadLimitedHttpToolsProtocol",
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd or project.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        service = Service(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_until_healthy(service.url, process)
            yield service
        except Exception as error:
            stop_process(process)
            raise ServiceFailedError(f"{error}\n--- service log ---\n{service.output()}") from error
        finally:
            stop_process(process)


def make_run_command(project: BakedProject, port: int, env: dict) -> list:
    """The command `make run` starts, so that the test serves it as a developer does."""
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    [line] = [line for line in printed.replace("\\\n", " ").splitlines() if "uvicorn" in line]
    return shlex.split(line)


@contextlib.contextmanager
def served_by_make_run(project: BakedProject, env: dict) -> Iterator[Service]:
    port = free_port()
    command = make_run_command(project, port, env)
    with service_process(project, env, port=port, command=command) as service:
        yield service


@contextlib.contextmanager
def running_service(project: BakedProject, env: dict) -> Iterator[str]:
    """Yield the base URL of the service once /health answers; show its log on failure."""
    with service_process(project, env) as service:
        yield service.url


@contextlib.contextmanager
def celery_worker(project: BakedProject, env: dict, queue: str) -> Iterator[Service]:
    """A Celery worker of the bake consuming `queue`, once it is ready; stopped at the end."""
    command = [
        str(project.bin("celery")),
        "-A",
        f"{project.package}.worker",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "-Q",
        queue,
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command,
            cwd=project.root,
            env={**env, "CELERY_QUEUE": queue},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        worker = Service("", process, log)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while "ready." not in worker.output():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ServiceFailedError(f"the worker did not start:\n{worker.output()}")
                time.sleep(0.2)
            yield worker
        finally:
            stop_process(process)


def logged_link_tokens(mailer: Service, email: str, page: str) -> list[str]:
    """The tokens of the links to `page` in emails to `email`, as the console backend logged
    them, oldest first."""
    tokens = []
    for logged in mailer.output().split("Email to ")[1:]:
        if logged.startswith(f"{email}:"):
            tokens += re.findall(rf"/{re.escape(page)}\?token=([\w.-]+)", logged)
    return tokens


def logged_link_token(mailer: Service, email: str, page: str, *, seen: int = 0) -> str:
    """The newest token of a link to `page` mailed to `email`, once more than `seen` were."""
    deadline = time.monotonic() + 15
    while len(tokens := logged_link_tokens(mailer, email, page)) <= seen:
        assert time.monotonic() < deadline, f"no new {page} link was mailed to {email}"
        time.sleep(0.2)
    return tokens[-1]


def _wait_until_healthy(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceFailedError(
                f"the service exited with {process.returncode} before answering"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise ServiceFailedError(f"/health did not answer 200 within {STARTUP_TIMEOUT}s")
