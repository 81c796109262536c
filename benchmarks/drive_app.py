"""Serve requests to the baked app in-process, with no server or network in between.

Run by the baked project's Python, usually under callgrind:

    python drive_app.py MODULE ENDPOINT COUNT [--callgrind]

MODULE is the app's entry module (`orders_service.main`), ENDPOINT one of `ENDPOINTS`. The app
starts as uvicorn starts it: lifespan first, then every request in a task of its own, eight at
a time. Endpoints that need a user sign one up first; checkout puts a product in the cart and
sends a new Idempotency-Key with every request, so each one places an order.

With `--callgrind` the process runs under `valgrind --tool=callgrind --instr-atstart=no`:
instrumentation is switched on just for the measured requests, so start-up, sign-up (password
hashing) and warm-up run at near native speed and stay out of the count.
"""

import asyncio
import importlib
import itertools
import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

WORKERS = 8
WARM_UP = 48

# Name: method, path, and whether the request needs a signed-in user.
ENDPOINTS = {
    "health": ("GET", "/health", False),
    "users-me": ("GET", "/api/v1/users/me", True),
    "checkout": ("POST", "/api/v1/checkout", True),
}


class App:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.token = ""

    async def request(self, method: str, path: str, body: bytes = b"", **headers: str) -> Any:
        header_list = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"drive-app")]
        header_list += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        if body:
            header_list.append((b"content-length", str(len(body)).encode()))
        if self.token:
            header_list.append((b"authorization", f"Bearer {self.token}".encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": header_list,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            messages.append(message)

        await self.app(scope, receive, send)
        status = messages[0]["status"]
        payload = b"".join(m.get("body", b"") for m in messages[1:])
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}: {payload[:200]!r}")
        return json.loads(payload) if payload else {}

    async def sign_in(self) -> None:
        name = f"drive_{uuid.uuid4().hex[:8]}"
        password = "benchmark password"
        user = {"email": f"{name}@example.com", "username": name, "password": password}
        await self.request(
            "POST",
            "/api/v1/auth/register",
            json.dumps(user).encode(),
            content_type="application/json",
        )
        # Run in the project's directory: its command marks the address verified.
        project = Path.cwd()
        await asyncio.to_thread(
            subprocess.run,
            [
                str(project / ".venv" / "bin" / project.name),
                "users",
                "verify",
                user["email"],
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        form = urllib.parse.urlencode({"username": user["email"], "password": password})
        token = await self.request(
            "POST",
            "/api/v1/auth/login",
            form.encode(),
            content_type="application/x-www-form-urlencoded",
        )
        self.token = token["access_token"]


def set_instrumentation(on: bool) -> None:
    """Switch callgrind's counting on or off; returns once callgrind has done it."""
    subprocess.run(
        ["callgrind_control", "--instr=on" if on else "--instr=off", str(os.getpid())],
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def main(module: str, endpoint: str, count: int, callgrind: bool) -> None:
    asgi_app = importlib.import_module(module).app
    # The FastAPI app is inside the outermost wrappers (probes, concurrency limit).
    fastapi_app = asgi_app
    while not hasattr(fastapi_app, "router"):
        fastapi_app = fastapi_app.app
    app = App(asgi_app)
    method, path, needs_user = ENDPOINTS[endpoint]
    loop = asyncio.get_running_loop()
    async with fastapi_app.router.lifespan_context(fastapi_app):
        if needs_user:
            await app.sign_in()
        body = b""
        if endpoint == "checkout":
            products = await app.request("GET", "/api/v1/products")
            cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}]}
            body = json.dumps({**cart, "payment_token": "tok_bench"}).encode()
        keys = (f"drive-{uuid.uuid4().hex[:12]}-{n}" for n in itertools.count())

        async def one_request() -> None:
            if endpoint == "checkout":
                await app.request(
                    method,
                    path,
                    body,
                    content_type="application/json",
                    idempotency_key=next(keys),
                )
            else:
                await app.request(method, path)

        async def serve(requests: int) -> None:
            for _ in range(requests):
                await loop.create_task(one_request())

        # SQLite takes one writer at a time: slowed down fifty-fold by callgrind, eight orders
        # at once outwait its busy timeout, so orders are placed one after the other.
        workers = 1 if endpoint == "checkout" else WORKERS
        await asyncio.gather(*(serve(WARM_UP // workers) for _ in range(workers)))
        if callgrind:
            set_instrumentation(True)
        await asyncio.gather(*(serve(count // workers) for _ in range(workers)))
        if callgrind:
            set_instrumentation(False)


if __name__ == "__main__":
    module, endpoint, count, *options = sys.argv[1:]
    asyncio.run(main(module, endpoint, int(count), callgrind="--callgrind" in options))
