"""No planted secret reaches the error server from a failing dependency or middleware.

The default bake has no dependency or middleware that fails unhandled, so the test serves its
app through a small wrapper module it writes (WRAPPER below): a route whose FastAPI dependency
raises, and a pure ASGI middleware that raises, each with a password, its Argon2 hash, a
refresh token, an access token and a payment token in its local variables. The requests carry
them too, in the body, a header and the query. Both errors reach the sink as unhandled errors;
their envelopes must hold none of the secrets, with local variables on and off.

With local variables on, the hash, tokens and payment token sit under neutral names (`stored`,
`kept`, `bearer`, `card`): the scrubber must know them by their shape. The password keeps its
name: a password has no shape, and only local variables off keep one under another name out.
"""

import base64
import json
import secrets
from pathlib import Path

import httpx
import pytest

from harness.baking import BakedProject
from harness.error_servers import EnvelopeSink
from harness.planted_secrets import (
    PASSWORD,
    PAYMENT_TOKEN,
    SECRET_KEY,
    exception_types,
    leaked_anywhere,
    planted_env,
)
from harness.processes import free_port
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("secrets-at-sink"),
]

REFRESH_TOKEN = secrets.token_urlsafe(32)
ACCESS_TOKEN = ".".join(
    base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
    for part in ({"alg": "HS256"}, {"sub": secrets.token_hex(4)}, {"sig": secrets.token_hex(8)})
)
WRAPPER = """
import os

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from {package}.core.security import hash_password
from {package}.main import api, app


class PlantedFailure(Exception):
    pass


async def failing_dependency(request: Request) -> None:
    password = os.environ["PLANTED_PASSWORD"]
    stored = await hash_password(password)
    kept = os.environ["PLANTED_REFRESH"]
    bearer = os.environ["PLANTED_ACCESS"]
    card = os.environ["PLANTED_PAYMENT_TOKEN"]
    body = await request.body()
    raise PlantedFailure(f"dependency failed for a body of {{len(body)}} bytes")


async def guarded() -> dict[str, str]:
    return {{"reached": "no"}}


class FailingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/wrapper/middleware":
            password = os.environ["PLANTED_PASSWORD"]
            stored = await hash_password(password)
            kept = os.environ["PLANTED_REFRESH"]
            bearer = os.environ["PLANTED_ACCESS"]
            card = os.environ["PLANTED_PAYMENT_TOKEN"]
            raise PlantedFailure("middleware failed")
        await self.app(scope, receive, send)


api.add_api_route(
    "/wrapper/dependency", guarded, methods=["POST"], dependencies=[Depends(failing_dependency)]
)
api.add_middleware(FailingMiddleware)
"""


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_failing_dependency_and_middleware_send_no_planted_secret(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool, tmp_path: Path
) -> None:
    (tmp_path / "planted_wrapper.py").write_text(WRAPPER.format(package=installed_project.package))
    port = free_port()
    command = [
        str(installed_project.bin("uvicorn")),
        "planted_wrapper:app",
        "--app-dir",
        str(tmp_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with EnvelopeSink() as sink:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=local_variables),
            "PLANTED_PASSWORD": PASSWORD,
            "PLANTED_REFRESH": REFRESH_TOKEN,
            "PLANTED_ACCESS": ACCESS_TOKEN,
            "PLANTED_PAYMENT_TOKEN": PAYMENT_TOKEN,
        }
        with service_process(installed_project, env, port=port, command=command) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                for path in ("/wrapper/dependency", "/wrapper/middleware"):
                    failed = client.post(
                        path,
                        params={"refresh": REFRESH_TOKEN},
                        json={"password": PASSWORD, "payment_token": PAYMENT_TOKEN},
                        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
                    )
                    assert failed.status_code == 500, failed.text
            sink.wait_for(lambda s: len(s.payloads("event")) >= 2, timeout=15)
            service.stop()

    messages = [
        value.get("value", "")
        for event in sink.payloads("event")
        for value in event.get("exception", {}).get("values", [])
    ]
    print(f"\nexceptions reported: {sorted(exception_types(sink))} {messages}")
    assert "PlantedFailure" in exception_types(sink)
    assert {"middleware failed"} <= set(messages), messages
    planted = {
        "password": PASSWORD,
        "refresh token": REFRESH_TOKEN,
        "access token": ACCESS_TOKEN,
        "payment token": PAYMENT_TOKEN,
        "SECRET_KEY": SECRET_KEY,
    }
    found = leaked_anywhere(sink.raw(), planted)
    print(f"secrets at the sink: {sorted(found)}")
    assert found == {}, found
