"""Bugsink, a self-hosted Sentry-protocol server, installed in its own venv and run for a test.

It gets its own virtual environment because it pulls in Django: sharing one with the service
would make the SDK enable its Django integration there.
"""

import contextlib
import json
import os
import secrets
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from uv import find_uv_bin

from harness.processes import free_port, stop_process
from harness.running_service import ServiceFailedError

REQUIREMENT = "bugsink>=2.6,<3"
STARTUP_TIMEOUT = 60
KEPT_ENVELOPES = 1000


def install(venv: Path, env: dict) -> None:
    """Create `venv` and install Bugsink into it with uv."""
    uv = find_uv_bin()
    for command in (
        [uv, "venv", "--quiet", "--python", "python3", str(venv)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            REQUIREMENT,
        ],
    ):
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)


class Bugsink:
    """One Bugsink instance with its own databases in `directory`, and its REST API."""

    def __init__(self, venv: Path, directory: Path) -> None:
        self.venv = venv
        self.directory = directory
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self._env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(directory),
            "PYTHONPATH": str(directory),
        }

    def manage(self, *arguments: str, **env: str) -> str:
        result = subprocess.run(
            [str(self.venv / "bin" / "bugsink-manage"), *arguments],
            cwd=self.directory,
            env={**self._env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceFailedError(f"bugsink-manage {' '.join(arguments)}:\n{result.stderr}")
        return result.stdout

    def prepare(self) -> None:
        """Write the configuration, create the databases, a user and an API token."""
        subprocess.run(
            [
                str(self.venv / "bin" / "bugsink-create-conf"),
                "--template=local",
                "--host=127.0.0.1",
                f"--port={self.port}",
            ],
            cwd=self.directory,
            env=self._env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        with (self.directory / "bugsink_conf.py").open("a") as conf:
            # Keep the raw envelopes, to check what left the service byte for byte.
            conf.write(f'\nBUGSINK["KEEP_ENVELOPES"] = {KEPT_ENVELOPES}\n')
        self.manage("migrate", "--verbosity=0")
        self.manage("migrate", "snappea", "--database=snappea", "--verbosity=0")
        self.manage(
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME="admin",
            DJANGO_SUPERUSER_EMAIL="admin@example.com",
            DJANGO_SUPERUSER_PASSWORD=secrets.token_urlsafe(16),
        )
        self.token = self.manage("create_auth_token").strip()

    @contextlib.contextmanager
    def serving(self) -> Iterator["Bugsink"]:
        """Serve with gunicorn until the block ends; show its log when the block fails."""
        command = [
            str(self.venv / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "bugsink.wsgi",
        ]
        with tempfile.TemporaryFile(mode="w+") as log:
            process = subprocess.Popen(
                command, cwd=self.directory, env=self._env, stdout=log, stderr=log
            )
            try:
                self._wait_until_ready(process)
                yield self
            except Exception as error:
                log.seek(0)
                raise ServiceFailedError(f"{error}\n--- bugsink log ---\n{log.read()}") from error
            finally:
                stop_process(process)

    def _wait_until_ready(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceFailedError(f"bugsink exited with {process.returncode}")
            ready_url = f"{self.base_url}/health/ready"
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(ready_url, timeout=2),
            ):
                return
            time.sleep(0.2)
        raise ServiceFailedError(f"bugsink did not answer within {STARTUP_TIMEOUT}s")

    def api(self, path: str, body: dict | None = None, **query: str) -> dict:
        """Call the canonical REST API: GET, or POST when there is a body."""
        url = f"{self.base_url}/api/canonical/0/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self._request(url, body)

    def _request(self, url: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def create_project(self, name: str) -> dict:
        """A new team and project; the answer carries the project's `id` and `dsn`."""
        team = self.api("teams/", {"name": f"{name} team"})
        created = self.api("projects/", {"name": name, "team": team["id"]})
        return self.api(f"projects/{created['id']}/")

    def issues(self, project_id: int) -> list[dict]:
        return self._all("issues/", project=str(project_id))

    def events(self, issue_id: str) -> list[dict]:
        """Every event of an issue, with its full `data` as the SDK sent it."""
        return [self.api(f"events/{e['id']}/") for e in self._all("events/", issue=issue_id)]

    def kept_envelopes(self) -> list[bytes]:
        """The raw envelopes as received, decompressed."""
        with contextlib.closing(sqlite3.connect(self.directory / "db.sqlite3")) as db:
            return [bytes(row[0]) for row in db.execute("SELECT data FROM ingest_envelope")]

    def _all(self, path: str, **query: str) -> list[dict]:
        page = self.api(path, **query)
        results = list(page["results"])
        while page.get("next"):
            page = self._request(page["next"])
            results.extend(page["results"])
        return results
