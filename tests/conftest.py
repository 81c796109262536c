"""Fixtures for the template's tests.

Each option set is baked and installed once per run, even under pytest-xdist: the
first worker to need it does the work under a file lock in a directory all workers
share and leaves a record the others read. `--dist loadgroup` keeps each option
set's tests on one worker, so the other worker bakes the next set meanwhile.
"""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cookiecutter.exceptions import CookiecutterException
from filelock import FileLock
from jinja2 import TemplateError
from uv import find_uv_bin

from harness import bugsink, databases
from harness.baking import (
    BakedProject,
    bake,
    command_env,
    make_must_succeed,
    replayed_answers,
    run_make,
    write_cookiecutter_config,
)
from harness.interpreters import find_python
from harness.lifting import HOSTS, build_venvs
from harness.option_sets import OPTION_SETS

PYTHON_VERSIONS = json.loads((Path(__file__).parent.parent / "cookiecutter.json").read_text())[
    "python_version"
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test needing a bake on every option set, or on those its marker names.

    Without the marker a test joins its option set's xdist group; with it, the test keeps the
    group its module chose, so slow modules can run beside the bakes of other workers.
    """
    if "option_set" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("option_sets")
    names = marker.args if marker else OPTION_SETS
    if unknown := set(names) - set(OPTION_SETS):
        raise pytest.UsageError(f"{metafunc.function.__name__}: no option sets {unknown}")
    metafunc.parametrize(
        "option_set",
        [
            pytest.param(name, id=name, marks=() if marker else pytest.mark.xdist_group(name))
            for name in names
        ],
        scope="session",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, then the rest in file order.

    `--dist loadgroup --no-loadscope-reorder` hands out groups in this order, so a worker is
    never left alone at the end of the run with a test of several minutes.
    """
    items.sort(key=lambda item: item.get_closest_marker("starts_first") is None)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A cookiecutter config for one test, so replay files stay out of the home directory."""
    return write_cookiecutter_config(tmp_path)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every xdist worker of this run sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def tools_bin(shared_dir: Path) -> Path:
    """uv and the offered Python versions, put first on PATH for the baked Makefiles."""
    directory = shared_dir / "tools-bin"
    with FileLock(f"{directory}.lock"):
        if not (directory / "uv").exists():
            directory.mkdir(exist_ok=True)
            (directory / "uv").symlink_to(find_uv_bin())
            for version in PYTHON_VERSIONS:
                if interpreter := find_python(version):
                    (directory / f"python{version}").symlink_to(interpreter)
    return directory


def _once_per_run(record: Path, produce) -> dict:
    """Run `produce` in the first worker that asks; everyone gets its JSON record."""
    record.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{record}.lock"):
        if not record.exists():
            record.write_text(json.dumps(produce()))
    data = json.loads(record.read_text())
    if data.get("failure"):
        pytest.fail(data["failure"], pytrace=False)
    return data


@pytest.fixture(scope="session")
def baked_project(option_set: str, shared_dir: Path) -> BakedProject:
    """The option set generated with cookiecutter's Python API, once per run."""
    workdir = shared_dir / "bakes" / option_set

    def bake_option_set() -> dict:
        config = write_cookiecutter_config(workdir)
        try:
            root = bake(workdir / "output", config, **OPTION_SETS[option_set])
        except (CookiecutterException, TemplateError, OSError) as error:
            return {"failure": f"baking {option_set!r} failed: {error!r}"}
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        return {"root": str(root), "answers": replayed_answers(config), "files": files}

    data = _once_per_run(workdir / "baked.json", bake_option_set)
    return BakedProject(Path(data["root"]), data["answers"], tuple(data["files"]))


@pytest.fixture(scope="session")
def installed_project(baked_project: BakedProject, tools_bin: Path) -> BakedProject:
    """The baked project after its own `make install`."""

    version = baked_project.answers["python_version"]
    if not (tools_bin / f"python{version}").exists():
        message = f"no Python {version} on this machine for the {baked_project.root.name} bake"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)

    def install() -> dict:
        result = run_make(baked_project.root, "install", env=command_env(tools_bin))
        if result.returncode != 0:
            return {"failure": f"make install failed:\n{result.stdout}"}
        return {}

    _once_per_run(baked_project.root.parent / "installed.json", install)
    return baked_project


def _require_postgres() -> None:
    reason = databases.unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"PostgreSQL must answer at {databases.HOST}:{databases.PORT} when CI is set: {reason}",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL is unreachable: {reason}")


@pytest.fixture(scope="session")
def database_env(
    baked_project: BakedProject, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """DATABASE_URL (and for PostgreSQL TEST_DATABASE_URL) naming fresh, empty databases."""
    if baked_project.answers["database"] != "postgresql":
        path = tmp_path_factory.mktemp("sqlite") / "app.db"
        yield {"DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
        return
    _require_postgres()
    names = [databases.unique_name(f"{baked_project.package}_{use}") for use in ("app", "test")]
    try:
        app_url, test_url = (databases.create(name) for name in names)
        yield {"DATABASE_URL": app_url, "TEST_DATABASE_URL": test_url}
    finally:
        for name in names:
            databases.drop(name)


@pytest.fixture(scope="session")
def seeded_env(installed_project: BakedProject, database_env: dict, tools_bin: Path) -> dict:
    """Environment for commands against a database that `make migrate seed` has filled."""
    env = command_env(tools_bin, **database_env)
    make_must_succeed(installed_project.root, "migrate", env=env)
    make_must_succeed(installed_project.root, "seed", env=env)
    return env


@pytest.fixture(scope="session")
def bugsink_venv(shared_dir: Path, tools_bin: Path) -> Path:
    """A virtualenv with Bugsink, built once per run."""
    venv = shared_dir / "bugsink" / "venv"

    def install() -> dict:
        try:
            bugsink.install(venv, command_env(tools_bin))
        except subprocess.CalledProcessError as error:
            return {"failure": f"installing Bugsink failed:\n{error.stderr}"}
        return {}

    _once_per_run(venv.parent / "installed.json", install)
    return venv


@pytest.fixture
def bugsink_server(bugsink_venv: Path, tmp_path: Path) -> Iterator[bugsink.Bugsink]:
    """A fresh Bugsink with empty databases, serving on a free loopback port."""
    directory = tmp_path / "bugsink"
    directory.mkdir()
    server = bugsink.Bugsink(bugsink_venv, directory)
    server.prepare()
    with server.serving():
        yield server


@pytest.fixture(scope="session")
def lift_venvs(shared_dir: Path, tools_bin: Path) -> dict[str, Path]:
    """Virtualenvs for the lifted apps, one per sentry-sdk version tested; name -> python."""
    return build_venvs(shared_dir / "lift-venvs", command_env(tools_bin))


@pytest.fixture(scope="session")
def lifted_hosts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each app of tests/lift_apps/, given the observability package by the lift command."""
    workdir = tmp_path_factory.mktemp("lift-hosts")
    return {name: host.prepare(workdir) for name, host in HOSTS.items()}
