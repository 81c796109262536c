"""Bake the template and drive the baked project's Makefile."""

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from filelock import FileLock

from harness.processes import run_with_output

TEMPLATE_DIR = Path(__file__).resolve().parent.parent

# Variables a developer's shell may carry that would leak into the baked project.
ISOLATED_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "ENVIRONMENT",
    "SECRET_KEY",
    "SENTRY_DSN",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


@dataclass(frozen=True)
class BakedProject:
    root: Path
    answers: dict = field(repr=False)
    files: tuple = field(repr=False)

    @property
    def package(self) -> str:
        return self.answers["package_name"]

    def bin(self, name: str) -> Path:
        return self.root / ".venv" / "bin" / name


def write_cookiecutter_config(directory: Path) -> Path:
    """A user config that keeps replay files and clones out of the home directory."""
    config = directory / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(directory / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(directory / 'replay'))}\n"
    )
    return config


def bake(output_dir: Path, config_file: Path, *, overwrite: bool = False, **options) -> Path:
    """Generate a project with the template's defaults overridden by `options`."""
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context=options,
        output_dir=str(output_dir),
        config_file=str(config_file),
        overwrite_if_exists=overwrite,
    )
    return Path(project)


def replayed_answers(config_file: Path) -> dict:
    """The answers of the last bake made with this config, as cookiecutter stored them."""
    replay_dir = config_file.parent / "replay"
    (replay_file,) = replay_dir.glob("*.json")
    return json.loads(replay_file.read_text())["cookiecutter"]


def command_env(tools_bin: Path, **variables: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED_VARIABLES}
    env["PATH"] = os.pathsep.join([str(tools_bin), env.get("PATH", "")])
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(variables)
    return env


def run_make(project: Path, *targets: str, env: dict, timeout: float = 900):
    """Run make in the baked project; stdout and stderr come back interleaved."""
    return run_with_output(
        "make", "--no-print-directory", *targets, cwd=project, env=env, timeout=timeout
    )


def make_must_succeed(project: Path, *targets: str, env: dict) -> str:
    """Run make and return its output; fail the test with that output if make fails."""
    result = run_make(project, *targets, env=env)
    if result.returncode != 0:
        command = " ".join(["make", *targets])
        pytest.fail(f"{command} exited {result.returncode}:\n{result.stdout}", pytrace=False)
    return result.stdout


@contextmanager
def shared_mypy_cache(shared_dir: Path, python_version: str) -> Iterator[dict[str, str]]:
    """The variables that point mypy at the cache every bake of the run shares on one Python.

    mypy checks each cached module against its source's hash, so a bake starts from what the
    bakes before it checked: mostly the installed packages, which are most of mypy's work. The
    cache of one Python version is an SQLite database that takes one writer at a time.
    """
    with FileLock(shared_dir / f"mypy-cache-{python_version}.lock"):
        yield {"MYPY_CACHE_DIR": str(shared_dir / "mypy-cache")}


def template_version() -> str:
    """The version a bake is made from, `_template_version` in cookiecutter.json."""
    return json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_template_version"]


def own_sqlite_database(project: BakedProject, tools_bin: Path, directory: Path) -> dict:
    """The env of a fresh, migrated and seeded SQLite database in `directory`."""
    env = command_env(tools_bin, DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'app.db'}")
    make_must_succeed(project.root, "migrate", "seed", env=env)
    return env


def env_file_value(project: Path, name: str) -> str:
    """The one value `name` has in the project's .env."""
    [value] = re.findall(rf"^{name}=(.+)$", (project / ".env").read_text(), re.MULTILINE)
    return value
