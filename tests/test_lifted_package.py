"""The lifted package as a guest: the SDK version it needs, a second `sentry_sdk.init`, the
ready-made `identify_user` functions, and the host's own logging and error handlers.
"""

import json
import subprocess
from pathlib import Path

import pytest

from harness.error_servers import EnvelopeSink

pytestmark = pytest.mark.xdist_group("lift")


def run_in_billing(
    python: Path, script: str, lifted_hosts: dict[str, Path]
) -> subprocess.CompletedProcess[str]:
    """Run a Python script with `python` in the lifted billing app's directory."""
    return subprocess.run(
        [str(python), "-c", script],
        cwd=lifted_hosts["billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SECOND_INIT = """
import asyncio, json, logging
import sentry_sdk
from billing_app.observability import SentryOptions, enable_asyncio_tracking, init_sentry

errors = []
handler = logging.Handler(logging.ERROR)
handler.emit = lambda record: errors.append(record.getMessage())
logging.getLogger().addHandler(handler)


async def start_up():
    enable_asyncio_tracking()


phases = {}
for dsn in (None, "SINK_DSN"):
    init_sentry(SentryOptions(dsn=dsn, environment="test", release="r"))
    asyncio.run(start_up())
    clean_start, errors[:] = list(errors), []
    exec(compile("sentry_sdk.init(dsn='SINK_DSN')", "legacy_setup.py", "exec"))
    asyncio.run(start_up())
    phases["with DSN" if dsn else "without DSN"] = [clean_start, list(errors)]
    errors.clear()
print(json.dumps(phases))
"""


@pytest.mark.parametrize("sdk", ["lowest", "newest"])
def test_a_second_sentry_init_is_reported_with_its_caller(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path], sdk: str
) -> None:
    with EnvelopeSink() as sink:
        result = run_in_billing(
            lift_venvs[sdk], SECOND_INIT.replace("SINK_DSN", sink.dsn()), lifted_hosts
        )

    assert result.returncode == 0, result.stderr
    phases = json.loads(result.stdout.splitlines()[-1])
    for phase, (clean_start, after_second_init) in phases.items():
        assert clean_start == [], phase
        [at_the_call, at_start_up] = after_second_init
        assert "sentry_sdk.init called again at legacy_setup.py:1" in at_the_call, phase
        assert "was replaced (by sentry_sdk.init at legacy_setup.py:1" in at_start_up


def test_an_sdk_older_than_declared_stops_the_start_with_one_line(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path]
) -> None:
    script = (
        "import sentry_sdk; sentry_sdk.VERSION = '2.0.1'\n"
        "from billing_app.observability import SentryOptions, init_sentry\n"
        "init_sentry(SentryOptions(dsn=None, environment='test', release='r'))\n"
    )
    result = run_in_billing(lift_venvs["lowest"], script, lifted_hosts)

    assert result.returncode != 0
    assert (
        "sentry-sdk 2.0.1 is installed; this package needs >=2.40.0,<3"
        in (result.stderr.splitlines()[-1])
    )


def test_an_app_without_sqlalchemy_never_imports_it(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path]
) -> None:
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "import billing_app.main\n"
        "assert 'sqlalchemy' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
    )
    result = run_in_billing(lift_venvs["newest"], script, lifted_hosts)

    assert result.returncode == 0, result.stderr


IDENTITY_CHECKS = """
import json, time
import jwt as pyjwt
from itsdangerous import TimestampSigner
from jose import jwt as jose_jwt
from billing_app.observability.identity import (
    fastapi_users_bearer, jose_bearer, pyjwt_bearer, session_cookie,
)
import base64

KEY, OTHER = "k" * 32, "o" * 32
later, earlier = int(time.time()) + 600, int(time.time()) - 600

def bearer(token):
    return {"authorization": "Bearer " + token}

def cookie(secret, data):
    value = TimestampSigner(secret).sign(base64.b64encode(json.dumps(data).encode()))
    return {"cookie": "theme=dark; session=" + value.decode()}

results = {}
for name, identify, encode in [
    ("pyjwt", pyjwt_bearer(KEY), lambda claims, key: pyjwt.encode(claims, key, "HS256")),
    ("jose", jose_bearer(KEY), lambda claims, key: jose_jwt.encode(claims, key, "HS256")),
    ("fastapi-users", fastapi_users_bearer(KEY), lambda claims, key: pyjwt.encode(
        {**claims, "aud": ["fastapi-users:auth"]}, key, "HS256")),
]:
    results[name] = [
        identify(bearer(encode({"sub": "42", "exp": later}, KEY))),
        identify(bearer(encode({"sub": "42", "exp": later}, OTHER))),
        identify(bearer(encode({"sub": "42", "exp": earlier}, KEY))),
        identify(bearer(encode({"sub": "42"}, KEY))),
        identify(bearer(pyjwt.encode({"sub": "42", "exp": later}, KEY, "HS512"))),
        identify({"authorization": "Basic a2V5"}),
        identify({}),
    ]
identify = session_cookie(KEY)
results["session"] = [
    identify(cookie(KEY, {"user_id": 42})),
    identify(cookie(OTHER, {"user_id": 42})),
    identify(cookie(KEY, {"cart": [1]})),
    identify({"cookie": "session=garbage"}),
    identify({}),
]
print(json.dumps(results))
"""


def test_each_ready_made_identify_user_returns_an_id_only_after_verifying(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path]
) -> None:
    result = run_in_billing(lift_venvs["newest"], IDENTITY_CHECKS, lifted_hosts)

    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.splitlines()[-1])
    # valid; another key; expired; no expiry; another algorithm; another scheme; nothing
    for scheme in ("pyjwt", "jose", "fastapi-users"):
        assert results[scheme] == ["42", None, None, None, None, None, None], scheme
    # valid; another key; no user in the session; unsigned; no cookie
    assert results["session"] == ["42", None, None, None, None]


GUEST_CHECKS = """
import json, logging
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from billing_app.observability import configure_logging, instrument_app

logging.getLogger().setLevel(logging.WARNING)
logging.getLogger("uvicorn.access").setLevel(logging.ERROR)
configure_logging(json_lines=True)
levels = [logging.getLogger().level, logging.getLogger("uvicorn.access").level]

app = FastAPI()


@app.exception_handler(Exception)
async def own_500(request, error):
    return PlainTextResponse("oops", status_code=500)


try:
    instrument_app(app)
    refusal = None
except ValueError as error:
    refusal = str(error)
print(json.dumps({"levels": levels, "refusal": refusal}))
"""


def test_the_package_keeps_the_hosts_levels_and_refuses_a_second_500_handler(
    lifted_hosts: dict[str, Path], lift_venvs: dict[str, Path]
) -> None:
    result = run_in_billing(lift_venvs["newest"], GUEST_CHECKS, lifted_hosts)

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["levels"] == [30, 40]
    assert "already handles Exception with own_500" in outcome["refusal"]
