"""Serve requests to the baked app in-process, with no server or network in between.

Run by the baked project's Python, usually under callgrind:

    python drive_app.py MODULE PATH COUNT [bearer]

MODULE is the app's entry module (`orders_service.main`). The app starts as uvicorn starts it:
lifespan first, then every request in a task of its own, eight at a time. With `bearer`, a user
is signed up first and each request carries its token.
"""

import asyncio
import importlib
import json
import sys
import urllib.parse
import uuid
from typing import Any

WORKERS = 8
WARM_UP = 50


class App:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.token = ""

    async def request(
        self, method: str, path: str, body: bytes = b"", **headers: str
    ) -> dict:
        header_list = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"drive-app")]
        header_list += [
            (k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()
        ]
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
        form = urllib.parse.urlencode({"username": user["email"], "password": password})
        token = await self.request(
            "POST",
            "/api/v1/auth/login",
            form.encode(),
            content_type="application/x-www-form-urlencoded",
        )
        self.token = token["access_token"]


async def main(module: str, path: str, count: int, bearer: bool) -> None:
    asgi_app = importlib.import_module(module).app
    fastapi_app = getattr(asgi_app, "app", asgi_app)  # inside UninstrumentedProbes
    app = App(asgi_app)
    loop = asyncio.get_running_loop()
    async with fastapi_app.router.lifespan_context(fastapi_app):
        if bearer:
            await app.sign_in()

        async def serve(requests: int) -> None:
            for _ in range(requests):
                await loop.create_task(app.request("GET", path))

        await asyncio.gather(*(serve(WARM_UP // WORKERS) for _ in range(WORKERS)))
        await asyncio.gather(*(serve(count // WORKERS) for _ in range(WORKERS)))


if __name__ == "__main__":
    module, path, count, *options = sys.argv[1:]
    asyncio.run(main(module, path, int(count), bearer="bearer" in options))
