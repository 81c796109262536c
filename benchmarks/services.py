"""Processes the benchmark drives: the baked service per variant, the ceiling app, the sink."""

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.processes import free_port, stop_process

BENCHMARKS_DIR = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 30.0
# callgrind that counts nothing until `callgrind_control -i on PID` switches it on; add
# --callgrind-out-file and the command to run.
CALLGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no")


def ensure_debian_package(command: str) -> None:
    """Install the Debian package of the same name when `command` is not on PATH."""
    if shutil.which(command):
        return
    print(f"{command} is missing; installing the Debian package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", command], check=True)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def cpu_seconds(process: subprocess.Popen) -> float:
    """User plus system CPU time the process has used so far (Linux)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answers_health(port: int, path: str = "/health") -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_healthy(
    port: int,
    process: subprocess.Popen,
    *,
    poll: float = 0.005,
    path: str = "/health",
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        if _answers_health(port, path):
            return
        time.sleep(poll)
    raise RuntimeError(f"server on port {port} did not answer {path} in {timeout}s")


def uvicorn_command(project: Path, app: str, port: int, *, app_dir: Path | None = None) -> list:
    command = [str(project / ".venv" / "bin" / "uvicorn"), app, "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    return command


def start_server(name: str, command: list, *, cwd: Path, env: dict, port: int) -> Server:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_healthy(port, process)
    except RuntimeError:
        stop_process(process)
        raise
    return Server(name, port, process)


def measure_start(command: list, *, cwd: Path, env: dict, port: int) -> tuple[float, float]:
    """Seconds from spawning the process to its first 200 on /health, and its CPU seconds.

    The CPU time says what the start costs even when other work slows the clock time down.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_healthy(port, process, poll=0.002)
        return time.perf_counter() - started, cpu_seconds(process)
    finally:
        stop_process(process)


@contextlib.contextmanager
def envelope_sink() -> Iterator[tuple[str, list[int]]]:
    """Yield a DSN pointing at the sink and a list that gets its envelope count on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(BENCHMARKS_DIR / "envelope_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), 1),
        ):
            break
        if time.monotonic() > deadline or process.poll() is not None:
            stop_process(process)
            raise RuntimeError("the envelope sink did not start")
        time.sleep(0.01)
    received: list[int] = []
    try:
        yield f"http://public@127.0.0.1:{port}/1", received
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        received.extend(int(line.rsplit(":", 1)[1]) for line in output.splitlines() if line)


def request_json(base_url: str, method: str, path: str, **kwargs) -> dict | list:
    """A small HTTP client for setting up users; `form` or `json` give the body."""
    headers = dict(kwargs.get("headers", {}))
    body = None
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
        headers["Content-Type"] = "application/json"
    elif "form" in kwargs:
        body = urllib.parse.urlencode(kwargs["form"]).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    if response.status >= 400:
        raise RuntimeError(f"{method} {path} answered {response.status}: {payload[:300]!r}")
    return json.loads(payload)
