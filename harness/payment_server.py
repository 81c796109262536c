"""A payment provider on loopback for fault tests: hung until told to answer, then charging.

While hung it accepts every connection, reads the request and never answers, as a provider
stuck behind a dead backend does. Once `answer()` is called it takes charges and counts them
per `Idempotency-Key`, so a test can prove that no order was charged twice.
"""

import http.server
import json
import threading
from collections import Counter

from harness.processes import ServedInThread

# A hung handler gives up after this long, so that no thread outlives a test by much.
LONGEST_HANG_SECONDS = 120


class PaymentServer(ServedInThread):
    def __init__(self) -> None:
        self.hung_requests = 0
        self.charges: Counter[str] = Counter()
        self._answering = threading.Event()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __exit__(self, *exc_info: object) -> None:
        self._answering.set()
        super().__exit__(*exc_info)

    def answer(self) -> None:
        """The provider is back: hung requests are dropped, new ones answered."""
        self._answering.set()

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        handler.rfile.read(length)
        if not self._answering.is_set():
            with self._lock:
                self.hung_requests += 1
            self._answering.wait(LONGEST_HANG_SECONDS)
            handler.close_connection = True
            return
        if handler.path == "/charges":
            key = handler.headers.get("Idempotency-Key", "")
            with self._lock:
                self.charges[key] += 1
            body = {"id": f"ch_{key}"}
        else:
            body = {"methods": ["card"]}
        payload = json.dumps(body).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
