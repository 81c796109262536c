"""Stand-ins for a Sentry-protocol server: one that keeps envelopes, and the ways one can fail.

The SDK posts envelopes to `/api/<project>/envelope/`; a DSN naming one of these servers sends
them here. `EnvelopeSink` keeps every envelope's raw bytes (decompressed) and can pass them on to
a real server; `BlackHole` accepts connections and never answers.
"""

import contextlib
import gzip
import http.server
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from typing import Self

from harness.processes import ServedInThread, free_port

PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
# Headers the SDK sends that a real server needs to accept an envelope.
FORWARDED_HEADERS = ("Content-Type", "Content-Encoding", "X-Sentry-Auth", "User-Agent")


def dsn_for(port: int, *, project_id: str = "1", key: str = PUBLIC_KEY) -> str:
    return f"http://{key}@127.0.0.1:{port}/{project_id}"


def decompress(body: bytes, encoding: str | None) -> bytes:
    if encoding in (None, "", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    raise AssertionError(f"the SDK sent an encoding this sink cannot read: {encoding}")


@dataclass(frozen=True)
class Envelope:
    raw: bytes

    @property
    def items(self) -> list[tuple[dict, bytes]]:
        """(item header, payload) pairs, read as the envelope format lays them out."""
        raw, items = self.raw, []
        position = self._line_end(0) + 1
        while position < len(raw):
            end = self._line_end(position)
            if not raw[position:end].strip():
                position = end + 1
                continue
            header = json.loads(raw[position:end])
            position = end + 1
            # A payload with a length may contain newlines itself.
            end = position + header["length"] if "length" in header else self._line_end(position)
            items.append((header, raw[position:end]))
            position = end + 1
        return items

    def _line_end(self, position: int) -> int:
        end = self.raw.find(b"\n", position)
        return len(self.raw) if end == -1 else end

    def payloads(self, item_type: str) -> list[dict]:
        return [
            json.loads(payload) for header, payload in self.items if header.get("type") == item_type
        ]


class EnvelopeSink(ServedInThread):
    """An HTTP server that keeps envelopes and answers with `status` after `delay` seconds.

    With `forward_to`, each envelope is posted on to that server and its status is returned,
    without its `X-Sentry-Rate-Limits` header, so the SDK keeps sending transactions here even
    when the real server does not store them.
    """

    def __init__(
        self, *, status: int = 200, forward_to: str | None = None, delay: float = 0
    ) -> None:
        self.status = status
        self.forward_to = forward_to
        self.delay = delay
        self.envelopes: list[Envelope] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", free_port()), self._handler_class()
        )
        self.port = self._server.server_address[1]

    def dsn(self, *, project_id: str = "1", key: str = PUBLIC_KEY) -> str:
        return dsn_for(self.port, project_id=project_id, key=key)

    def payloads(self, item_type: str) -> list[dict]:
        with self._lock:
            envelopes = list(self.envelopes)
        return [p for envelope in envelopes for p in envelope.payloads(item_type)]

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(envelope.raw for envelope in self.envelopes)

    def wait_for(self, predicate, *, timeout: float = 15) -> None:
        """Wait until `predicate(self)` holds; fail with what arrived when it does not."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                kinds = [h.get("type") for e in self.envelopes for h, _ in e.items]
                raise AssertionError(f"nothing matching arrived in {timeout}s; got {kinds}")
            time.sleep(0.1)

    def _receive(self, path: str, headers, body: bytes) -> tuple[int, bytes]:
        raw = decompress(body, headers.get("Content-Encoding"))
        time.sleep(self.delay)
        with self._lock:
            self.requests += 1
            self.envelopes.append(Envelope(raw))
        if self.forward_to is None:
            return self.status, b"{}"
        request = urllib.request.Request(
            self.forward_to + path,
            data=body,
            method="POST",
            headers={k: headers[k] for k in FORWARDED_HEADERS if k in headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                status, body = sink._receive(self.path, self.headers, self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class BlackHole:
    """Accepts every connection and never reads or answers: a hung error server."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self._listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._closed = threading.Event()

    def dsn(self) -> str:
        return dsn_for(self.port)

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        self._listener.close()
        for connection in self.connections:
            connection.close()

    def _accept_forever(self) -> None:
        while not self._closed.is_set():
            with contextlib.suppress(OSError):
                connection, _ = self._listener.accept()
                self.connections.append(connection)


def breadcrumb_messages(event: dict) -> list[str]:
    """The messages of an event's breadcrumbs, oldest first."""
    return [crumb.get("message", "") for crumb in event["breadcrumbs"]["values"]]
