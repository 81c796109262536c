"""Every bake ships a uv.lock that uv accepts as it is, and installs exactly that lock.

The locks live in templates/locks/ (`make locks` writes them). uv runs offline where it only
checks a lock, so a check never resolves anything.
"""

import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from packaging.utils import canonicalize_name

from harness.baking import (
    TEMPLATE_DIR,
    BakedProject,
    bake,
    command_env,
    make_must_succeed,
    run_make,
    shared_mypy_cache,
    write_cookiecutter_config,
)
from harness.lockfiles import error_line, frozen, locked_pins
from harness.option_sets import OPTION_SETS
from harness.processes import run_with_output
from tools import locks

PYTHON_VERSIONS = locks.CHOICES["python_version"]
# The versions the option sets are baked with, and so installed, linted and tested.
BAKED_PYTHON_VERSIONS = {
    answers.get("python_version", PYTHON_VERSIONS[0]) for answers in OPTION_SETS.values()
}
STALE_LOCK = (
    "{lock} no longer matches the baked pyproject.toml: run `make locks` at the template root"
)
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def combination_id(answers: dict) -> str:
    return locks.lock_file(answers).stem


@pytest.mark.parametrize("answers", locks.combinations(), ids=combination_id)
def test_shipped_lock_matches_its_pyproject(answers: dict, tmp_path: Path, tools_bin: Path) -> None:
    stored = locks.lock_file(answers)
    config = write_cookiecutter_config(tmp_path)
    try:
        project = bake(tmp_path / "output", config, **answers, **locks.QUIET_ANSWERS)
    except FailedHookException:
        assert not stored.exists(), f"{stored.name} is kept for answers the template refuses"
        return
    assert stored.exists(), f"no {stored.name}: run `make locks` at the template root"
    checked = run_with_output(
        "uv", "lock", "--check", "--offline", cwd=project, env=command_env(tools_bin)
    )
    if checked.returncode != 0:
        pytest.fail(STALE_LOCK.format(lock=stored.name), pytrace=False)
    slug, version = project.name, locks.CHOICES["version"]
    shipped = (project / "uv.lock").read_text()
    assert locks.to_template_form(shipped, slug, version) == stored.read_text()


def test_an_edited_dependency_range_stops_the_install(tmp_path: Path, tools_bin: Path) -> None:
    project = bake(tmp_path / "output", write_cookiecutter_config(tmp_path), **locks.QUIET_ANSWERS)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"fastapi>=0.121,<1"', '"fastapi>=0.121,<0.200"')
    )
    env = command_env(tools_bin, UV_OFFLINE="1")

    checked = run_with_output("uv", "lock", "--check", cwd=project, env=env)
    assert checked.returncode != 0, checked.stdout
    installed = run_make(project, "install", env=env)
    assert installed.returncode != 0, installed.stdout
    reason = error_line(installed.stdout)
    print(reason)
    assert "uv.lock" in reason
    assert "needs to be updated" in reason
    assert not (project / ".venv" / "bin" / "fastapi").exists()


# python313 differs from default only in answers that never change a lock: no lock of its own.
@pytest.mark.option_sets("default", "postgresql", "celery")
@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
def test_locked_install_on_every_python_version(
    option_set: str,
    python_version: str,
    tmp_path: Path,
    tools_bin: Path,
    shared_dir: Path,
    request: pytest.FixtureRequest,
) -> None:
    """`make install` (uv sync --locked) of each lock installs exactly its pins on its Python.

    On the option set's own version the run's shared install is checked, not made again; that
    project is linted and tested by the other template tests, and python313 runs the suite on
    3.13. The default set is linted here on the versions no option set is baked with.
    """
    answers = {**OPTION_SETS[option_set], "python_version": python_version}
    if not (tools_bin / f"python{python_version}").exists():
        pytest.skip(f"no Python {python_version} on this machine: its lock is only checked")
    env = command_env(tools_bin, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    shared = python_version == OPTION_SETS[option_set].get("python_version", PYTHON_VERSIONS[0])
    if shared:
        project = request.getfixturevalue("installed_project").root
    else:
        project = bake(tmp_path / "output", write_cookiecutter_config(tmp_path), **answers)
        make_must_succeed(project, "install", env=env)
    try:
        version = run_with_output(
            str(project / ".venv/bin/python"), "--version", cwd=project, env=env
        )
        assert version.stdout.startswith(f"Python {python_version}.")
        installed = frozen(project / ".venv/bin/python", env)
        expected = locked_pins(project, env, "--python", python_version)
        assert {name: installed.get(name) for name in expected} == expected
        if option_set == "default" and python_version not in BAKED_PYTHON_VERSIONS:
            with shared_mypy_cache(shared_dir, python_version) as mypy_env:
                make_must_succeed(project, "lint", env={**env, **mypy_env})
    finally:
        if not shared:
            shutil.rmtree(project / ".venv", ignore_errors=True)


def build_stage(dockerfile: str) -> list[tuple[str, str]]:
    """The build stage's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    stage, instructions = None, []
    for line in map(str.strip, joined.splitlines()):
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stage = arguments.split()[-1]
        elif stage == "build":
            instructions.append((keyword.upper(), arguments))
    return instructions


def run_build_stage(project: Path, root: Path, env: dict) -> None:
    """The build stage's ENV, WORKDIR, COPY and RUN, with `root` standing for the image's /.

    The uv the stage copies from its image is the uv on PATH here; cache mounts are dropped.
    """
    env = dict(env)
    workdir = root

    def inside(path: str) -> Path:
        return root / path.lstrip("/") if path.startswith("/") else workdir / path

    for keyword, arguments in build_stage((project / "Dockerfile").read_text()):
        if keyword == "ENV":
            for assignment in shlex.split(arguments):
                name, _, value = assignment.partition("=")
                env[name] = str(inside(value)) if value.startswith("/") else value
        elif keyword == "WORKDIR":
            workdir = inside(arguments)
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY" and "--from=" not in arguments:
            *sources, destination = shlex.split(arguments)
            for source in sources:
                target = inside(destination)
                if destination.endswith("/"):
                    target = target / Path(source).name
                if (project / source).is_dir():
                    shutil.copytree(project / source, target)
                else:
                    shutil.copy2(project / source, target)
        elif keyword == "RUN":
            command = re.sub(r"--mount=\S+\s*", "", arguments)
            result = run_with_output("sh", "-c", command, cwd=workdir, env=env)
            assert result.returncode == 0, f"RUN {command}\n{result.stdout}"
        elif keyword not in ("COPY", "ARG"):
            raise AssertionError(f"the build stage's {keyword} is not run by this test")


@pytest.mark.option_sets("default", "celery")
def test_image_build_stage_installs_exactly_the_lock(
    baked_project: BakedProject, tmp_path: Path, tools_bin: Path
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if baked_project.answers["python_version"] != version:
        pytest.skip(f"the test compares markers for Python {version} only")
    env = command_env(tools_bin, UV_PYTHON=sys.executable)
    run_build_stage(baked_project.root, tmp_path, env)

    venv_python = tmp_path / "opt/venv/bin/python"
    installed = frozen(venv_python, env)
    expected = locked_pins(baked_project.root, env, "--no-dev")
    slug = canonicalize_name(baked_project.root.name)
    assert installed.pop(slug, None) is None, "the service is installed as a link to its source"
    assert installed == expected
    site = next((tmp_path / "opt/venv/lib").glob("python*/site-packages"))
    assert (site / baked_project.package / "__pycache__").is_dir(), "bytecode is not compiled"
    assert any(site.glob(f"{baked_project.package.replace('-', '_')}-*.dist-info"))
    assert not {"pytest", "ruff", "mypy", "pre-commit"} & installed.keys()


@pytest.mark.option_sets("default")
def test_pre_commit_passes_in_a_fresh_bake(
    installed_project: BakedProject, tmp_path: Path, tools_bin: Path, shared_dir: Path
) -> None:
    project = tmp_path / installed_project.root.name
    shutil.copytree(installed_project.root, project, ignore=shutil.ignore_patterns(".venv"))
    env = command_env(tools_bin, PRE_COMMIT_HOME=str(tmp_path / "pre-commit"))
    for command in (("git", "init", "--quiet"), ("git", "add", "--all")):
        assert run_with_output(*command, cwd=project, env=env).returncode == 0
    pre_commit = ("uv", "run", "--locked", "pre-commit", "run", "--all-files")
    with shared_mypy_cache(shared_dir, installed_project.answers["python_version"]) as mypy_env:
        result = run_with_output(*pre_commit, cwd=project, env={**env, **mypy_env})
    print(result.stdout)
    assert result.returncode == 0, result.stdout
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"]
    assert [repo["repo"] for repo in hooks] == ["local"], "a hook repository would be downloaded"


def dependabot_ecosystems(project: Path) -> set[str]:
    config = project / ".github/dependabot.yml"
    if not config.exists():
        return set()
    return {update["package-ecosystem"] for update in yaml.safe_load(config.read_text())["updates"]}


def test_dependency_updates_follow_the_answers(baked_project: BakedProject) -> None:
    expected = set()
    if baked_project.answers["ci"] == "github":
        expected = {"uv", "github-actions"}
        if baked_project.answers["docker"] == "yes":
            expected.add("docker")
    assert dependabot_ecosystems(baked_project.root) == expected


def workflow_actions(root: Path) -> list[str]:
    return [
        line.split("uses:", 1)[1].strip()
        for workflow in root.glob(".github/workflows/*.yaml")
        for line in workflow.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]


@pytest.mark.option_sets("default")
def test_actions_are_pinned_to_commits(baked_project: BakedProject) -> None:
    actions = workflow_actions(baked_project.root) + workflow_actions(TEMPLATE_DIR)
    assert actions
    unpinned = [action for action in actions if not PINNED_ACTION.match(action)]
    assert not unpinned, f"not pinned to a full commit with its version: {unpinned}"


def test_template_tools_lock_matches_its_pyproject(tools_bin: Path) -> None:
    checked = run_with_output(
        "uv", "lock", "--check", "--offline", cwd=TEMPLATE_DIR, env=command_env(tools_bin)
    )
    if checked.returncode != 0:
        pytest.fail(
            "uv.lock of the template no longer matches its pyproject.toml: run `uv lock`",
            pytrace=False,
        )
