"""Drive cruft and git on scratch copies of the template and the projects made from it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from uv import find_uv_bin

from harness.baking import TEMPLATE_DIR, command_env, write_cookiecutter_config
from harness.processes import run_with_output

CRUFT = Path(sys.executable).parent / "cruft"
GIT_IDENTITY = ("-c", "user.name=Template Tests", "-c", "user.email=tests@example.com")
# The generated workflow's step that runs `cruft check`.
CI_STEP = "Compare with the template"


def git(directory: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, "-c", "commit.gpgsign=false", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def run_cruft(directory: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return run_with_output(str(CRUFT), *args, cwd=directory, env=env)


def template_repository(destination: Path) -> str:
    """Copy the template's files, committed or not, into a new repository; return the commit."""
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "Template as tested")
    return git(destination, "rev-parse", "HEAD")


def create_project(tmp_path: Path, template: Path, commit: str, env: dict) -> Path:
    """`cruft create` from `commit`, then the generated files as the project's first commit."""
    created = run_cruft(
        tmp_path,
        "create",
        str(template),
        "--checkout",
        commit,
        "--no-input",
        "--config-file",
        str(write_cookiecutter_config(tmp_path)),
        "--output-dir",
        str(tmp_path / "projects"),
        env=env,
    )
    assert created.returncode == 0, created.stdout
    (project,) = (tmp_path / "projects").iterdir()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == commit
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Generated")
    return project


def package_of(project: Path) -> str:
    state = json.loads((project / ".cruft.json").read_text())
    return state["context"]["cookiecutter"]["package_name"]


def edit(path: Path, anchor: str, replacement: str) -> None:
    """Replace the one occurrence of `anchor` in `path`."""
    text = path.read_text()
    assert text.count(anchor) == 1, f"{path.name}: expected {anchor!r} exactly once"
    path.write_text(text.replace(anchor, replacement))


def left_behind(project: Path) -> list[str]:
    """Reject and backup files a failed patch leaves, outside the virtualenv."""
    return [
        str(path.relative_to(project))
        for pattern in ("*.rej", "*.orig")
        for path in project.rglob(pattern)
        if ".venv" not in path.relative_to(project).parts
    ]


def ci_step_script(project: Path) -> str:
    workflow = yaml.safe_load((project / ".github/workflows/ci.yaml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (step,) = [step for step in steps if step.get("name") == CI_STEP]
    return step["run"]


def run_ci_step(project: Path, env: dict) -> subprocess.CompletedProcess:
    """The workflow's template check, run the way GitHub Actions runs a `run:` step."""
    script = ci_step_script(project)
    return run_with_output(
        "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script, cwd=project, env=env
    )


def ci_env(tools_bin: Path) -> dict:
    """The project's command environment, with uvx as setup-uv provides it."""
    uvx = Path(find_uv_bin()).parent / "uvx"
    return command_env(tools_bin, PATH=f"{uvx.parent}:{command_env(tools_bin)['PATH']}")
