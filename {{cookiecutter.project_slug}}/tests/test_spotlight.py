"""Spotlight: started without a DSN in development only, with every scrubbing rule in force."""

import logging
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sentry_sdk

from {{ cookiecutter.package_name }}.core.config import ConfigurationError, Settings, get_settings
from {{ cookiecutter.package_name }}.observability import flush_sentry, init_sentry
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import CLIENT_IP, PASSWORD, SignUp


class SidecarStandIn(ThreadingHTTPServer):
    """Keeps the body of every envelope posted to it, as a Spotlight sidecar receives them."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _KeepEnvelope)
        self.received: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/stream"


class _KeepEnvelope(BaseHTTPRequestHandler):
    server: SidecarStandIn

    def do_POST(self) -> None:
        self.server.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sidecar() -> Iterator[SidecarStandIn]:
    server = SidecarStandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make_settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("1", True),
        ("false", False),
        ("", False),
        ("http://127.0.0.1:8969/stream", "http://127.0.0.1:8969/stream"),
    ],
)
def test_spotlight_is_on_off_or_a_url(value: str, expected: bool | str) -> None:
    assert make_settings(sentry_spotlight=value).sentry_options().spotlight == expected


def test_spotlight_is_off_by_default() -> None:
    assert make_settings().sentry_options().spotlight is False


@pytest.mark.parametrize("environment", ["production", "staging", "test"])
def test_spotlight_is_refused_outside_development_in_one_line(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("SENTRY_SPOTLIGHT", "true")
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError) as raised:
        get_settings()
    get_settings.cache_clear()

    assert str(raised.value) == (
        "Invalid configuration:\n  SENTRY_SPOTLIGHT: Spotlight is for local development; "
        f"unset it in the {environment} environment"
    )


def test_spotlight_refuses_what_is_neither_a_switch_nor_a_url() -> None:
    with pytest.raises(ValueError, match="must be true, false or the sidecar's URL"):
        make_settings(sentry_spotlight="localhost:8969")


def test_without_a_dsn_or_spotlight_sentry_stays_off() -> None:
    assert init_sentry(make_settings().sentry_options()) is False


@pytest.mark.usefixtures("catalogue")
async def test_spotlight_without_a_dsn_keeps_personal_data_and_noise_out(
    client: httpx.AsyncClient,
    sentry: CapturingTransport,
    sign_up: SignUp,
    settings: Settings,
    sidecar: SidecarStandIn,
) -> None:
    """The SDK turns on personal data and samples everything here; the service's rules win."""
    options = settings.model_copy(
        update={"environment": "development", "sentry_spotlight": sidecar.url}
    ).sentry_options()
    assert options.dsn is None
    init_sentry(options, transport=sentry)

    assert sentry_sdk.get_client().should_send_default_pii() is False
    user = await sign_up()
    await client.get("/health")
    response = await client.get(
        "/debug/sentry",
        headers={**user["headers"], "Cookie": "session=cookie-secret", "X-Real-IP": CLIENT_IP},
    )

    assert response.status_code == 500
    [event] = sentry.events
    assert event["user"] == {"id": str(user["id"])}
    assert event["request"]["headers"]["authorization"] == "[Filtered]"
    traced = {t["transaction"] for t in sentry.transactions}
    assert "/debug/sentry" in traced
    assert "/health" not in traced, "health checks must not be traced"
    assert len(sidecar.received) == len(sentry.envelopes), "Spotlight gets every envelope"
    raw = b"".join(sidecar.received).decode()
    for secret in (PASSWORD, user["token"], user["email"], "cookie-secret", CLIENT_IP):
        assert secret not in raw, f"{secret!r} left the process"


def test_spotlight_without_a_dsn_gets_the_last_log_records_at_shutdown(
    settings: Settings, sidecar: SidecarStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    options = settings.model_copy(
        update={"environment": "development", "sentry_spotlight": sidecar.url, "sentry_logs": True}
    ).sentry_options()
    init_sentry(options)
    logging.getLogger("{{ cookiecutter.package_name }}.tests").info("Last words before shutdown")

    flush_sentry()

    assert any(b"Last words before shutdown" in body for body in sidecar.received)
