"""An SMTP server on loopback that takes every message and then refuses to deliver it.

It reads the whole message, so a test learns what the service wrote (a verification link),
and answers the end of the data with a temporary failure, so the service's sending fails.
"""

import socketserver
import threading

from harness.processes import ServedInThread


class RefusingMailServer(ServedInThread):
    def __init__(self) -> None:
        self.messages: list[str] = []
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def received(self) -> list[str]:
        with self._lock:
            return list(self.messages)

    def _handler_class(self) -> type[socketserver.StreamRequestHandler]:
        server = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self) -> None:
                self.reply("220 localhost ESMTP")
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.reply("250 localhost")
                    elif verb == "DATA":
                        self.reply("354 end with a dot")
                        server._keep(self._read_data())
                        self.reply("451 4.3.0 delivery refused for the test")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

            def _read_data(self) -> str:
                lines = []
                while (line := self.rfile.readline()) and line.rstrip(b"\r\n") != b".":
                    lines.append(line.decode(errors="replace"))
                return "".join(lines)

        return Handler

    def _keep(self, message: str) -> None:
        with self._lock:
            self.messages.append(message)
