"""What the local inboxes (`error_inbox.py`, `spotlight_inbox.py`) share: ports, .env, stopping."""

import os
import signal
import socket
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parents[1] / ".env"


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


def stop(pid_file: Path, name: str) -> None:
    """Stop the process whose id `pid_file` holds; `name` says what it is in the messages."""
    subject = name[:1].upper() + name[1:]
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
