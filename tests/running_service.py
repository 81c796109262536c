"""Start the baked service as a real uvicorn process and stop it afterwards."""

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import httpx

from tests.baking import BakedProject

STARTUP_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceFailed(AssertionError):
    pass


@contextlib.contextmanager
def running_service(project: BakedProject, env: dict) -> Iterator[str]:
    """Yield the base URL of the service once /health answers; show its log on failure."""
    port = free_port()
    command = [
        str(project.bin("uvicorn")),
        f"{project.package}.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command, cwd=project.root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(base_url, process)
            yield base_url
        except Exception as error:
            _stop(process)
            log.seek(0)
            raise ServiceFailed(
                f"{error}\n--- service log ---\n{log.read()}"
            ) from error
        finally:
            _stop(process)


def _wait_until_healthy(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceFailed(
                f"the service exited with {process.returncode} before answering"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise ServiceFailed(f"/health did not answer 200 within {STARTUP_TIMEOUT}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
