"""A Sentry ingest stand-in that accepts every envelope and answers at once.

Runs in its own process so that its work never competes with the service under test for the
GIL. It keeps HTTP/1.1 connections alive, reads each body by Content-Length and counts envelopes.

    python envelope_sink.py PORT
"""

import asyncio
import signal
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class SinkProtocol(asyncio.Protocol):
    """Reads requests off one connection and acknowledges each one."""

    received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            body_length = _content_length(self.buffer[:head_end])
            request_end = head_end + 4 + body_length
            if len(self.buffer) < request_end:
                return
            self.buffer = self.buffer[request_end:]
            SinkProtocol.received += 1
            self.transport.write(RESPONSE)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SinkProtocol, "127.0.0.1", port)
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    async with server:
        await stopped.wait()
    print(f"envelopes received: {SinkProtocol.received}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
