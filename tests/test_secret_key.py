"""A default bake started with no .env and no environment signs with no publicly known key."""

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from harness.baking import BakedProject
from harness.running_service import service_process

pytestmark = pytest.mark.option_sets("default")


def tokens_of_known_keys(project: BakedProject) -> dict[str, str]:
    """Access tokens for user 1 that anyone could make with each key the bake calls known."""
    script = (
        "from datetime import timedelta\n"
        f"from {project.package}.core.config import Settings\n"
        f"from {project.package}.core.config.keys import PUBLICLY_KNOWN_SECRET_KEYS\n"
        f"from {project.package}.core.security import TokenKeys, create_access_token\n"
        "names = Settings(_env_file=None)\n"
        "for key in PUBLICLY_KNOWN_SECRET_KEYS:\n"
        "    keys = TokenKeys.create([key], issuer=names.token_issuer,\n"
        "                            audience=names.token_audience)\n"
        "    token = create_access_token(subject=1, keys=keys, expires_in=timedelta(minutes=5))\n"
        "    print(key, token)\n"
    )
    made = subprocess.run(
        [str(project.bin("python")), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
        cwd=project.root.parent,
    )
    return dict(line.rsplit(" ", 1) for line in made.stdout.splitlines())


def keys_printed_in_the_lift_apps() -> set[str]:
    """The default signing keys of the example apps in this repository: public too."""
    apps = Path(__file__).parent / "lift_apps"
    defaults = r'os\.environ\.get\("\w*SECRET\w*", "([^"]+)"\)'
    return {key for path in apps.rglob("*.py") for key in re.findall(defaults, path.read_text())}


def bare_env(**variables: str) -> dict:
    """No setting of the service at all: what a checkout without .env starts with."""
    return {"PATH": os.environ["PATH"], **variables}


def test_without_configuration_development_signs_with_a_key_of_its_own(
    installed_project: BakedProject, tmp_path: Path
) -> None:
    forged = tokens_of_known_keys(installed_project)
    assert {"change-me", "previous-secret-key"} <= forged.keys()
    printed = keys_printed_in_the_lift_apps()
    assert printed, "the pattern finds the example apps' keys"
    assert printed <= forged.keys()

    with service_process(installed_project, bare_env(), cwd=tmp_path) as service:
        answers = [
            httpx.get(
                f"{service.url}/api/v1/users/me",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).status_code
            for token in forged.values()
        ]
        output = service.output()

    assert answers == [401] * len(forged)
    notices = [line for line in output.splitlines() if "SECRET_KEY is not set" in line]
    assert len(notices) == 1, output


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_without_a_key_other_environments_refuse_to_start(
    installed_project: BakedProject, tmp_path: Path, environment: str
) -> None:
    started = subprocess.run(
        [
            str(installed_project.bin("uvicorn")),
            f"{installed_project.package}.main:app",
        ],
        cwd=tmp_path,
        env=bare_env(ENVIRONMENT=environment, EMAIL_BACKEND="smtp"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    print(started.stderr)
    assert started.returncode != 0
    assert started.stderr.strip().splitlines() == [
        "Invalid configuration:",
        (
            f"  SECRET_KEY: must be set in the {environment} environment; make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        ),
    ]
