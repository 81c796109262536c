"""Spotlight, Sentry's local sidecar, read back through its event stream."""

import json
import os
import shutil
import subprocess
import threading
import time
from typing import Self

import httpx
import pytest

PACKAGE = "@spotlightjs/spotlight"
REGISTRY_TIMEOUT = 30


def require_npm_registry() -> None:
    """Node.js, npm and the npm registry, or a skip naming what is missing (a failure on CI)."""
    reason = _missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Spotlight cannot be installed when CI is set: {reason}", pytrace=False)
    pytest.skip(f"Spotlight cannot be installed: {reason}")


def _missing_reason() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are not on PATH"
    try:
        result = subprocess.run(
            ["npm", "view", PACKAGE, "version"],
            capture_output=True,
            text=True,
            timeout=REGISTRY_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the npm registry did not answer within {REGISTRY_TIMEOUT}s"
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no output"]
        return f"the npm registry cannot be reached ({lines[-1]})"
    return None


class SpotlightStream:
    """Every envelope the sidecar holds, followed live through its server-sent events."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.envelopes: list[list] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._stopped = threading.Event()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._client.close()
        self._thread.join(timeout=5)

    def _follow(self) -> None:
        try:
            with self._client.stream("GET", "/stream", params={"client": "tests"}) as response:
                for line in response.iter_lines():
                    if self._stopped.is_set():
                        return
                    if line.startswith("data:"):
                        with self._lock:
                            self.envelopes.append(json.loads(line[len("data:") :]))
        except (httpx.HTTPError, RuntimeError):
            if not self._stopped.is_set():
                raise

    def payloads(self, item_type: str) -> list[dict]:
        """Payloads of one item type ("event", "transaction", "log"), oldest first."""
        with self._lock:
            envelopes = list(self.envelopes)
        return [
            payload
            for _, items in envelopes
            for header, payload in items
            if header.get("type") == item_type
        ]

    def log_records(self) -> list[dict]:
        return [record for batch in self.payloads("log") for record in batch["items"]]

    def raw(self) -> bytes:
        """The bodies the sidecar received, byte for byte, and what it made of them."""
        with self._lock:
            envelopes = list(self.envelopes)
        bodies = [
            self._client.get(f"/envelope/{header['__spotlight_envelope_id']}").content
            for header, _ in envelopes
        ]
        return b"".join(bodies) + json.dumps(envelopes).encode()

    def wait_for(self, predicate, *, timeout: float = 20) -> None:
        """Wait until `predicate(self)` holds; fail with what arrived when it does not."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                with self._lock:
                    kinds = [h.get("type") for _, items in self.envelopes for h, _ in items]
                raise AssertionError(f"nothing matching arrived in {timeout}s; got {kinds}")
            time.sleep(0.1)
