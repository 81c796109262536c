"""The observability package lifted into apps this template did not generate.

`cookiecutter <template> --directory lift` writes the package from the same files as the baked
project's `observability/`. Three apps of other shapes (tests/lift_apps/) get it that way, are
wired as its README says, run under uvicorn on the lowest supported and the newest sentry-sdk,
and are checked at an envelope sink.
"""

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.baking import TEMPLATE_DIR, bake, write_cookiecutter_config
from tests.error_servers import EnvelopeSink
from tests.lifting import HOSTS, Host, build_venvs, json_lines, lift
from tests.running_service import free_port, stop_process

pytestmark = pytest.mark.xdist_group("lift")

SECRET_PASSWORD = "lifted-passphrase-Zq81"
CARD_NUMBER = "4111111111111111"
STARTUP_TIMEOUT = 120


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize(
    "options",
    [{}, {"database": "postgresql", "task_queue": "celery"}],
    ids=["background", "celery"],
)
def test_lifted_package_is_the_baked_projects_observability(
    tmp_path: Path, options: dict
) -> None:
    config = write_cookiecutter_config(tmp_path)
    project = bake(tmp_path / "baked", config, package_name="ledger", **options)
    task_queue = options.get("task_queue", "background")

    result = lift(
        tmp_path / "host" / "ledger",
        "package_name=ledger",
        "sqlalchemy=yes",
        f"task_queue={task_queue}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    baked = tree(project / "ledger" / "observability")
    lifted = tree(tmp_path / "host" / "ledger" / "observability")
    assert lifted == baked
    assert ("CeleryIntegration" in lifted["sentry.py"].decode()) == (
        task_queue == "celery"
    )


def test_lifting_without_sqlalchemy_leaves_out_the_sql_module(tmp_path: Path) -> None:
    result = lift(tmp_path / "svc", "package_name=svc.core", "sqlalchemy=no")

    assert result.returncode == 0, result.stdout + result.stderr
    package = tmp_path / "svc" / "observability"
    assert not (package / "sql.py").exists()
    assert all(
        "sqlalchemy" not in path.read_text().lower()
        for path in package.glob("*.py")
        if path.name != "sql.py"
    ), "a module other than sql.py still mentions SQLAlchemy"
    assert "from svc.core.observability import" in (package / "README.md").read_text()


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (
            ("package_name=my-app",),
            "error: package_name 'my-app' must be an import name",
        ),
        (
            ("package_name=app.class",),
            "error: package_name 'app.class' contains a Python",
        ),
        # Cookiecutter itself refuses a choice it does not offer, before any hook runs.
        (
            ("package_name=app", "sqlalchemy=maybe"),
            "variable sqlalchemy, but the choices",
        ),
        (("package_name=app", "task_queue=rq"), "variable task_queue, but the choices"),
    ],
)
def test_a_bad_answer_stops_with_one_line_and_leaves_nothing(
    tmp_path: Path, answers: tuple[str, ...], reason: str
) -> None:
    output = tmp_path / "app"
    output.mkdir()

    result = lift(output, *answers)

    assert result.returncode != 0
    assert reason in result.stderr.strip().splitlines()[-1], result.stderr
    assert list(output.iterdir()) == []


def test_an_existing_package_is_never_overwritten(tmp_path: Path) -> None:
    output = tmp_path / "app"
    assert lift(output, "package_name=app").returncode == 0
    sentry_py = output / "observability" / "sentry.py"
    sentry_py.write_text("# the host's own edits\n")

    refused = lift(output, "package_name=app")
    forced = lift(output, "package_name=app", extra=("--overwrite-if-exists",))

    assert refused.returncode != 0
    assert "already exists" in refused.stdout + refused.stderr
    assert forced.returncode != 0
    assert "already exists and is not empty" in forced.stderr
    assert sentry_py.read_text() == "# the host's own edits\n"


def test_a_git_clone_of_the_template_lifts_the_same_files(tmp_path: Path) -> None:
    """`gh:` clones the repository: the symlink under lift/ must survive git."""
    head = subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode != 0:
        pytest.skip("the template is not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(TEMPLATE_DIR), str(clone)],
        check=True,
        timeout=120,
    )
    subprocess.run(
        ["git", "-C", str(clone), "checkout", "--quiet", head.stdout.strip()],
        check=True,
        timeout=120,
    )

    from_clone = lift(
        tmp_path / "a" / "app", "package_name=app", template=f"git+file://{clone}"
    )
    from_tree = lift(tmp_path / "b" / "app", "package_name=app")

    assert from_clone.returncode == 0, from_clone.stdout + from_clone.stderr
    assert from_tree.returncode == 0, from_tree.stdout + from_tree.stderr
    cloned = tree(tmp_path / "a" / "app" / "observability")
    assert set(cloned) == set(tree(tmp_path / "b" / "app" / "observability"))
    assert b"def init_sentry" in cloned["sentry.py"]


# --- the three apps, running ---------------------------------------------------------


@dataclass
class RunningHost:
    host: Host
    sdk: str
    url: str
    root: Path
    python: Path
    sink: EnvelopeSink
    process: subprocess.Popen
    log: IO[str]

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def event_for(self, request_id: str, *, count: int = 1) -> list[dict]:
        def matching(sink: EnvelopeSink) -> list[dict]:
            return [
                event
                for event in sink.payloads("event")
                if event.get("tags", {}).get("request_id") == request_id
            ]

        self.sink.wait_for(lambda sink: len(matching(sink)) >= count)
        return matching(self.sink)


@pytest.fixture(scope="module")
def venvs(shared_dir: Path, tools_bin: Path) -> dict[str, Path]:
    from tests.baking import command_env

    return build_venvs(shared_dir / "lift-venvs", command_env(tools_bin))


@pytest.fixture(scope="module")
def prepared_hosts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    workdir = tmp_path_factory.mktemp("lift-hosts")
    return {name: host.prepare(workdir) for name, host in HOSTS.items()}


@pytest.fixture(scope="module")
def running_hosts(
    prepared_hosts: dict[str, Path],
    venvs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, RunningHost]]:
    """Every app on every SDK version, started at once, each sending to its own sink."""
    running: dict[str, RunningHost] = {}
    with contextlib.ExitStack() as stack:
        for name, host in HOSTS.items():
            for sdk, python in venvs.items():
                data = tmp_path_factory.mktemp(f"{name}-{sdk}")
                sink = stack.enter_context(EnvelopeSink())
                port = free_port()
                log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
                env = {
                    **{
                        k: v
                        for k, v in os.environ.items()
                        if not k.startswith("SENTRY")
                    },
                    **host.env(data),
                    "SENTRY_DSN": sink.dsn(),
                    "SENTRY_TRACES_SAMPLE_RATE": "1.0",
                    "ENVIRONMENT": "staging",
                    "LOG_JSON": "true",
                }
                process = subprocess.Popen(
                    [str(python), "-m", "uvicorn", f"{host.package}.main:app"]
                    + ["--host", "127.0.0.1", "--port", str(port), *host.uvicorn_args],
                    cwd=prepared_hosts[name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                stack.callback(stop_process, process)
                running[f"{name}-{sdk}"] = RunningHost(
                    host,
                    sdk,
                    f"http://127.0.0.1:{port}",
                    prepared_hosts[name],
                    python,
                    sink,
                    process,
                    log,
                )
        for service in running.values():
            _wait_until_healthy(service)
        yield running


def _wait_until_healthy(service: RunningHost) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"{service.host.name} exited:\n{service.output()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{service.url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"{service.host.name} did not answer:\n{service.output()}")


SERVICES = [f"{name}-{sdk}" for name in HOSTS for sdk in ("lowest", "newest")]


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest, running_hosts: dict) -> RunningHost:
    return running_hosts[request.param]


def test_an_unhandled_error_names_its_event_user_and_request(
    service: RunningHost,
) -> None:
    host = service.host
    path, exception_type = host.failing
    with service.client() as client:
        auth = host.sign_in(client)
        response = client.post(
            path,
            json={"password": SECRET_PASSWORD, "card": CARD_NUMBER},
            headers=auth,
        )
        user_id = host.expected_user(client)
        credentials = [*auth.values(), client.cookies.get("session") or ""]

    assert response.status_code == 500, response.text
    error_id = response.json()["error_id"]
    request_id = response.headers["X-Request-ID"]
    [event] = service.event_for(request_id)
    assert event["event_id"] == error_id
    assert event["exception"]["values"][-1]["type"] == exception_type
    assert event["user"]["id"] == user_id
    assert event["release"].startswith(f"{host.package}@")
    assert event["transaction"] == path

    if host.has_database:
        crumbs = event["breadcrumbs"]["values"]
        assert any(crumb.get("category") == "query" for crumb in crumbs), crumbs
        service.sink.wait_for(lambda sink: _transaction(sink, request_id) is not None)
        spans = _transaction(service.sink, request_id)["spans"]
        assert any(span["op"] == "db" for span in spans), spans

    lines = json_lines(service.output())
    [error_line] = [line for line in lines if line.get("error_id") == error_id]
    assert error_line["request_id"] == request_id
    access = [line for line in lines if line.get("logger") == "uvicorn.access"]
    if "--no-access-log" in host.uvicorn_args:
        assert access == [], "the host's --no-access-log was overridden"
    else:
        [access_line] = [line for line in access if f"{path} HTTP" in line["message"]]
        assert " 500" in access_line["message"]
        assert access_line["request_id"] == request_id

    raw = service.sink.raw()
    for secret in [SECRET_PASSWORD, CARD_NUMBER, *filter(None, credentials)]:
        assert secret.encode() not in raw, f"{secret[:12]}... left the process"


def _transaction(sink: EnvelopeSink, request_id: str) -> dict | None:
    for transaction in sink.payloads("transaction"):
        if transaction.get("tags", {}).get("request_id") == request_id:
            return transaction
    return None


def test_forged_credentials_give_no_user(service: RunningHost) -> None:
    with service.client() as client:
        response = client.get(service.host.public_failing, headers=service.host.forged)

    assert response.status_code == 500, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["event_id"] == response.json()["error_id"]
    assert "id" not in event.get("user", {})


@pytest.mark.parametrize("sdk", ["lowest", "newest"])
def test_a_route_awaiting_a_failing_task_names_the_tasks_event(
    running_hosts: dict[str, RunningHost], sdk: str
) -> None:
    service = running_hosts[f"shop-{sdk}"]
    with service.client() as client:
        response = client.get("/shop/recommendations")

    assert response.status_code == 500, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["event_id"] == response.json()["error_id"]
    assert event["exception"]["values"][-1]["type"] == "ConnectionResetError"


def test_a_handled_error_is_grouped_by_its_fingerprint(service: RunningHost) -> None:
    path, fingerprint = service.host.handled
    with service.client() as client:
        auth = service.host.sign_in(client)
        responses = [client.post(path, headers=auth) for _ in range(2)]

    assert {response.status_code for response in responses} == {200}
    events = [
        event
        for response in responses
        for event in service.event_for(response.headers["X-Request-ID"])
    ]
    assert [event["fingerprint"] for event in events] == [fingerprint, fingerprint]


def test_a_failing_background_task_is_captured(service: RunningHost) -> None:
    path, exception_type = service.host.background
    with service.client() as client:
        auth = service.host.sign_in(client)
        response = client.post(path, headers=auth)
        user_id = service.host.expected_user(client)

    assert response.status_code == 202, response.text
    [event] = service.event_for(response.headers["X-Request-ID"])
    assert event["exception"]["values"][-1]["type"] == exception_type
    assert event["user"]["id"] == user_id


def test_the_apps_own_tests_pass_with_the_package_wired(
    prepared_hosts: dict[str, Path], venvs: dict[str, Path], tmp_path: Path
) -> None:
    """Each app's tests, with its entry module loaded first: the wired app under test.

    `-s` shows the JSON lines the package's logging writes to stdout.
    """
    runs = {}
    # The newest SDK here; the lowest runs the apps under uvicorn and the start-up check.
    sdk = "newest"
    for name, root in prepared_hosts.items():
        package = HOSTS[name].package
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY")}
        data = tmp_path / f"{name}-{sdk}"
        data.mkdir()
        env.update(HOSTS[name].env(data), PYTHONPATH=str(root))
        runs[f"{name}-{sdk}"] = subprocess.Popen(
            [str(venvs[sdk]), "-m", "pytest", "-q", "-s", "-p", f"{package}.main"]
            + ["-p", "no:cacheprovider", "tests"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for name, run in runs.items():
        output, _ = run.communicate(timeout=180)
        assert run.returncode == 0, f"{name}:\n{output}"
        assert " passed" in output
        # No DSN in tests: nothing to report, and no false alarm about the client.
        assert '"level": "ERROR"' not in output, f"{name}:\n{output}"


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
    prepared_hosts: dict[str, Path], venvs: dict[str, Path], sdk: str
) -> None:
    with EnvelopeSink() as sink:
        result = subprocess.run(
            [str(venvs[sdk]), "-c", SECOND_INIT.replace("SINK_DSN", sink.dsn())],
            cwd=prepared_hosts["billing"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    phases = json.loads(result.stdout.splitlines()[-1])
    for phase, (clean_start, after_second_init) in phases.items():
        assert clean_start == [], phase
        [at_the_call, at_start_up] = after_second_init
        assert "sentry_sdk.init called again at legacy_setup.py:1" in at_the_call, phase
        assert "was replaced (by sentry_sdk.init at legacy_setup.py:1" in at_start_up


def test_an_sdk_older_than_declared_stops_the_start_with_one_line(
    prepared_hosts: dict[str, Path], venvs: dict[str, Path]
) -> None:
    script = (
        "import sentry_sdk; sentry_sdk.VERSION = '2.0.1'\n"
        "from billing_app.observability import SentryOptions, init_sentry\n"
        "init_sentry(SentryOptions(dsn=None, environment='test', release='r'))\n"
    )
    result = subprocess.run(
        [str(venvs["lowest"]), "-c", script],
        cwd=prepared_hosts["billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert (
        "sentry-sdk 2.0.1 is installed; this package needs >=2.40.0,<3"
        in (result.stderr.splitlines()[-1])
    )


def test_an_app_without_sqlalchemy_never_imports_it(
    prepared_hosts: dict[str, Path], venvs: dict[str, Path]
) -> None:
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "import billing_app.main\n"
        "assert 'sqlalchemy' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
    )
    result = subprocess.run(
        [str(venvs["newest"]), "-c", script],
        cwd=prepared_hosts["billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

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
    prepared_hosts: dict[str, Path], venvs: dict[str, Path]
) -> None:
    result = subprocess.run(
        [str(venvs["newest"]), "-c", IDENTITY_CHECKS],
        cwd=prepared_hosts["billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

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
    prepared_hosts: dict[str, Path], venvs: dict[str, Path]
) -> None:
    result = subprocess.run(
        [str(venvs["newest"]), "-c", GUEST_CHECKS],
        cwd=prepared_hosts["billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["levels"] == [30, 40]
    assert "already handles Exception with own_500" in outcome["refusal"]
