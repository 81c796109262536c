"""Existing apps (in tests/lift_apps/) given the observability package by the one command.

Each app is copied, gets `<package>/observability/` from `cookiecutter <template> --directory
lift`, and an entry module written from the package's own README, with only the changes the
README asks for (its identify function, where its key comes from). The apps' dependencies live
in one virtualenv per tested sentry-sdk version, built with uv once per run.
"""

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from filelock import FileLock
from uv import find_uv_bin

from harness.baking import TEMPLATE_DIR, write_cookiecutter_config

APPS_DIR = TEMPLATE_DIR / "tests" / "lift_apps"
OBSERVABILITY = (
    TEMPLATE_DIR
    / "{{cookiecutter.project_slug}}"
    / "{{cookiecutter.package_name}}"
    / "observability"
)
APP_REQUIREMENTS = (
    "fastapi>=0.110,<1",
    "uvicorn>=0.30,<1",
    "sqlmodel>=0.0.16,<0.1",
    "sqlalchemy[asyncio]>=2.0.36,<2.1",
    "aiosqlite>=0.20,<1",
    "pyjwt>=2.8,<3",
    "python-jose[cryptography]>=3.4,<4",
    "itsdangerous>=2.1,<3",
    "httpx>=0.27,<1",
    "pytest>=8,<10",
)


def minimum_sentry_sdk() -> str:
    """The lowest SDK the package declares, read from its source."""
    source = (OBSERVABILITY / "safeguards.py").read_text()
    numbers = re.search(r"MINIMUM_SENTRY_SDK = \((\d+), (\d+), (\d+)\)", source)
    assert numbers, "safeguards.py no longer declares MINIMUM_SENTRY_SDK"
    return ".".join(numbers.groups())


def sdk_requirements() -> dict[str, str]:
    return {
        "lowest": f"sentry-sdk=={minimum_sentry_sdk()}",
        "newest": "sentry-sdk>=2,<3",
    }


def build_venvs(directory: Path, env: dict) -> dict[str, Path]:
    """One virtualenv per SDK version, built in parallel and once per run; name -> python."""
    uv = find_uv_bin()

    def build(name: str, sdk: str) -> Path:
        venv = directory / name
        python = venv / "bin" / "python"
        with FileLock(f"{venv}.lock"):
            if not (venv / ".installed").exists():
                shutil.rmtree(venv, ignore_errors=True)
                commands = [
                    [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                    [
                        uv,
                        "pip",
                        "install",
                        "--quiet",
                        "--python",
                        str(python),
                        *APP_REQUIREMENTS,
                        sdk,
                    ],
                ]
                for command in commands:
                    subprocess.run(
                        command,
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                        timeout=600,
                    )
                (venv / ".installed").touch()
        return python

    with ThreadPoolExecutor() as pool:
        futures = {name: pool.submit(build, name, sdk) for name, sdk in sdk_requirements().items()}
        return {name: future.result() for name, future in futures.items()}


def lift_command(
    output_dir: Path, config_file: Path, *answers: str, template: str | None = None
) -> list[str]:
    """The one command a user runs, with answers given on the command line."""
    return [
        sys.executable,
        "-m",
        "cookiecutter",
        template or str(TEMPLATE_DIR),
        "--directory",
        "lift",
        "--no-input",
        "--config-file",
        str(config_file),
        "-o",
        str(output_dir),
        *answers,
    ]


def lift(
    output_dir: Path,
    *answers: str,
    extra: tuple[str, ...] = (),
    template: str | None = None,
) -> subprocess.CompletedProcess:
    """Run the one command; its config, clones and replays go to a directory of their own."""
    with tempfile.TemporaryDirectory() as directory:
        config = write_cookiecutter_config(Path(directory))
        return subprocess.run(
            [*lift_command(output_dir, config, *answers, template=template), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def guide_entry_module(readme: str) -> str:
    """The complete entry module of the README's "Start Sentry" step."""
    section = readme.split("### 2. Start Sentry", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the guide lost its entry module"
    return match.group(1)


@dataclass(frozen=True)
class Host:
    """An app written elsewhere, and what the tests do to it."""

    name: str
    package: str
    sqlalchemy: str
    # (what the guide's entry module says, what this app says instead)
    wiring_changes: tuple[tuple[str, str], ...]
    sign_in: Callable[[httpx.Client], dict]
    forged: dict
    expected_user: Callable[[httpx.Client], str]
    failing: tuple[str, str]
    public_failing: str
    handled: tuple[str, list[str]]
    background: tuple[str, str]
    env: Callable[[Path], dict] = field(default=lambda tmp: {})
    uvicorn_args: tuple[str, ...] = ()

    @property
    def has_database(self) -> bool:
        return self.sqlalchemy == "yes"

    def prepare(self, workdir: Path) -> Path:
        """Copy the app, lift the package into it, write its entry module from the guide."""
        root = workdir / self.name
        shutil.copytree(APPS_DIR / self.name, root)
        result = lift(
            root / self.package,
            f"package_name={self.package}",
            f"sqlalchemy={self.sqlalchemy}",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        readme = (root / self.package / "observability" / "README.md").read_text()
        entry = guide_entry_module(readme)
        for guide_says, app_says in self.wiring_changes:
            assert guide_says in entry, f"the guide no longer says {guide_says!r}"
            entry = entry.replace(guide_says, app_says)
        (root / self.package / "main.py").write_text(entry)
        return root


def _bearer(path: str, body: dict | None = None, params: dict | None = None):
    def sign_in(client: httpx.Client) -> dict:
        response = client.post(path, json=body, params=params)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return sign_in


def _session_sign_in(client: httpx.Client) -> dict:
    response = client.post("/shop/login", json={"user_id": 3, "password": "hunter2-pass"})
    assert response.status_code == 200, response.text
    assert client.cookies.get("session")
    return {}


def forged_jwt(claims: dict, key: bytes = b"not-the-apps-key") -> str:
    """A well-formed HS256 token signed with a key the app does not have."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = encode(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{encode(signature)}"


BILLING_USER = "7d0c1a52-3f6e-4a8e-9a53-0c9d1a7e2b11"
FORGED_JWT = forged_jwt({"sub": "1", "aud": ["fastapi-users:auth"], "exp": int(time.time()) + 3600})
FORGED_SESSION = "eyJ1c2VyX2lkIjogMX0=.ZZZZZZ.forgedsignatureforgedsignat"

HOSTS = {
    "notes": Host(
        name="notes",
        package="notes_app",
        sqlalchemy="yes",
        wiring_changes=(),
        sign_in=_bearer("/api/v1/token", {"user_id": 5, "password": "hunter2-pass"}),
        forged={"Authorization": f"Bearer {FORGED_JWT}"},
        expected_user=lambda client: "5",
        failing=("/api/v1/notes/import", "RuntimeError"),
        public_failing="/api/v1/stats",
        handled=("/api/v1/notes/archive", ["handled", "archive", "timeout"]),
        background=("/api/v1/notes/reindex", "LookupError"),
        env=lambda tmp: {"NOTES_DATABASE_URL": f"sqlite:///{tmp / 'notes.db'}"},
    ),
    "shop": Host(
        name="shop",
        package="shop_app",
        sqlalchemy="yes",
        wiring_changes=(
            ("import pyjwt_bearer", "import session_cookie"),
            ("import SECRET_KEY, app", "import SESSION_SECRET, app"),
            ("pyjwt_bearer(SECRET_KEY)", "session_cookie(SESSION_SECRET)"),
        ),
        sign_in=_session_sign_in,
        forged={"Cookie": f"session={FORGED_SESSION}"},
        expected_user=lambda client: "3",
        failing=("/shop/checkout", "ZeroDivisionError"),
        public_failing="/shop/featured",
        handled=("/shop/restock", ["handled", "warehouse", "refused"]),
        background=("/shop/receipts", "TimeoutError"),
        env=lambda tmp: {"SHOP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'shop.db'}"},
    ),
    "billing": Host(
        name="billing",
        package="billing_app",
        sqlalchemy="no",
        wiring_changes=(
            ("import pyjwt_bearer", "import fastapi_users_bearer"),
            ("import SECRET_KEY, app", "import JWT_SECRET, app"),
            ("pyjwt_bearer(SECRET_KEY)", "fastapi_users_bearer(JWT_SECRET)"),
        ),
        sign_in=_bearer("/v2/auth/jwt/login", params={"user_id": BILLING_USER}),
        forged={"Authorization": f"Bearer {FORGED_JWT}"},
        expected_user=lambda client: BILLING_USER,
        failing=("/v2/invoices", "KeyError"),
        public_failing="/v2/plans",
        handled=("/v2/invoices/sync", ["handled", "ledger", "unreachable"]),
        background=("/v2/invoices/email", "ValueError"),
        uvicorn_args=("--no-access-log",),
    ),
}


def json_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return lines
