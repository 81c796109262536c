"""A local error inbox: Bugsink, a Sentry-protocol server, running next to the service.

`make errors` runs this script. It installs Bugsink into `.error-inbox/venv` (its own virtual
environment: Bugsink is a Django app, and the SDK would enable its Django integration if they
shared one), creates its databases and an admin login, starts it in the background, creates a
project and writes that project's DSN into `.env`. Running it again reuses all of that.
`make errors-stop` stops the server. Only the standard library is used here.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import local_inbox

INBOX = local_inbox.PROJECT_ROOT / ".error-inbox"
VENV = INBOX / "venv"
STATE = INBOX / "state.json"
PROJECT_NAME = "{{ cookiecutter.project_slug }}"
REQUIREMENT = "bugsink>=2.6,<3"
STARTUP_SECONDS = 60


def run(*command: str | Path, **env: str) -> str:
    """Run a command in the inbox directory; stop with its output when it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=INBOX,
        env={**os.environ, "PYTHONPATH": str(INBOX), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def install() -> None:
    """Bugsink into its own virtual environment, with uv when it is installed."""
    if (VENV / "bin" / "gunicorn").exists():
        return
    print("Installing Bugsink into .error-inbox/venv ...", flush=True)
    python = VENV / "bin" / "python"
    uv = shutil.which("uv")
    if uv:
        run(uv, "venv", "--quiet", "--python", sys.executable, VENV)
        run(uv, "pip", "install", "--quiet", "--python", python, REQUIREMENT)
    else:
        run(sys.executable, "-m", "venv", VENV)
        run(python, "-m", "pip", "install", "--quiet", REQUIREMENT)


def configure(port: int | None) -> dict[str, Any]:
    """Configuration, databases, an admin login and an API token, made once."""
    if STATE.exists():
        state: dict[str, Any] = json.loads(STATE.read_text())
        if port and port != state["port"]:
            print(f"The inbox already uses port {state['port']}; delete .error-inbox to move it.")
        return state
    port = port or local_inbox.free_port()
    bin_dir = VENV / "bin"
    run(bin_dir / "bugsink-create-conf", "--template=local", "--host=127.0.0.1", f"--port={port}")
    run(bin_dir / "bugsink-manage", "migrate", "--verbosity=0")
    run(bin_dir / "bugsink-manage", "migrate", "snappea", "--database=snappea", "--verbosity=0")
    password = secrets.token_urlsafe(12)
    run(
        bin_dir / "bugsink-manage",
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
        DJANGO_SUPERUSER_PASSWORD=password,
    )
    token = run(bin_dir / "bugsink-manage", "create_auth_token").strip()
    state = {"port": port, "password": password, "token": token}
    STATE.write_text(json.dumps(state))
    STATE.chmod(0o600)
    return state


def is_ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health/ready", timeout=2):
            return True
    except OSError:
        return False


def start(base_url: str, port: int) -> None:
    """Start gunicorn in the background unless the inbox already answers."""
    local_inbox.start(
        [str(VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "bugsink.wsgi"],
        home=INBOX,
        env={**os.environ, "PYTHONPATH": str(INBOX)},
        ready=lambda: is_ready(base_url),
        name="the inbox",
        startup_seconds=STARTUP_SECONDS,
    )


def api(base_url: str, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{base_url}/api/canonical/0/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def project_dsn(base_url: str, token: str) -> str:
    """The DSN of this service's project, created on the first run."""
    projects = api(base_url, token, "projects/")["results"]
    project = next((p for p in projects if p["name"] == PROJECT_NAME), None)
    if project is None:
        team = api(base_url, token, "teams/", {"name": PROJECT_NAME})
        created = api(base_url, token, "projects/", {"name": PROJECT_NAME, "team": team["id"]})
        project = api(base_url, token, f"projects/{created['id']}/")
    dsn: str = project["dsn"]
    return dsn


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a local error inbox for this service.")
    parser.add_argument("--port", type=int, help="port for the first run (default: a free one)")
    parser.add_argument("--stop", action="store_true", help="stop the inbox")
    arguments = parser.parse_args()
    if arguments.stop:
        local_inbox.stop(INBOX, "the error inbox")
        return
    INBOX.mkdir(exist_ok=True)
    install()
    state = configure(arguments.port)
    base_url = f"http://127.0.0.1:{state['port']}"
    start(base_url, state["port"])
    local_inbox.write_setting("SENTRY_DSN", project_dsn(base_url, state["token"]))
    print(
        f"""
Error inbox: {base_url}  (user admin, password {state["password"]})
SENTRY_DSN is set in .env. Restart the service (make dev), then make it fail on purpose:
  curl http://127.0.0.1:8000/debug/sentry
and open the project {PROJECT_NAME} in the inbox. Stop the inbox with: make errors-stop"""
    )


if __name__ == "__main__":
    main()
