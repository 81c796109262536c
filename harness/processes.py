"""Ports, processes and servers in a thread: what every served test and benchmark needs.

Standard library only, so the benchmark's own environment imports it as well.
"""

import signal
import socket
import socketserver
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Self


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_with_output(
    *command: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; its stdout and stderr come back interleaved in `stdout`.

    A failure is returned, not raised: the caller asserts on the return code with the output.
    """
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def stop_process(
    process: subprocess.Popen, stop_signal: int = signal.SIGTERM, timeout: float = 15
) -> None:
    """Send `stop_signal` (terminate), and kill what does not stop within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServedInThread:
    """A socketserver (`self._server`) that answers in a daemon thread within a `with` block."""

    _server: socketserver.BaseServer

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
