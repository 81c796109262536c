"""What the local inboxes (`error_inbox.py`, `spotlight_inbox.py`) share: ports, .env, the server.

Each keeps its server's process id and log in its own directory, `home`.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = PROJECT_ROOT / ".env"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_setting(name: str, value: str) -> None:
    """Set `name` in .env, keeping every other line as it is."""
    lines = ENV_FILE.read_text().splitlines() if ENV_FILE.exists() else []
    others = [line for line in lines if not line.startswith(f"{name}=")]
    position = next((i for i, line in enumerate(lines) if line.startswith(f"{name}=")), None)
    others.insert(len(others) if position is None else position, f"{name}={value}")
    ENV_FILE.write_text("\n".join(others) + "\n")


def start(
    command: list[str],
    *,
    home: Path,
    env: Mapping[str, str],
    ready: Callable[[], bool],
    name: str,
    startup_seconds: float,
) -> None:
    """Start the server in the background unless it is `ready()`, and wait until it is."""
    if ready():
        return
    log_file = home / "server.log"
    with log_file.open("a") as log:
        server = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    (home / "server.pid").write_text(str(server.pid))
    deadline = time.monotonic() + startup_seconds
    while not ready():
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"error: {name} did not start; see {log_file.relative_to(PROJECT_ROOT)}")
        time.sleep(0.2)


def stop(home: Path, name: str) -> None:
    """Stop the server started in `home`; `name` says what it is in the messages."""
    subject = name[:1].upper() + name[1:]
    pid_file = home / "server.pid"
    if not pid_file.exists():
        print(f"{subject} is not running.")
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        print(f"Stopped {name} (process {pid}).")
    except ProcessLookupError:
        print(f"{subject} had already stopped.")
    pid_file.unlink()
