"""Write the uv.lock every bake ships, one per supported database, task queue and Python version.

A bake's uv.lock includes templates/locks/<database>-<task_queue>-py<version>.lock, which is a
real uv lock with the project's own name and version left as cookiecutter placeholders. This
bakes each supported combination, lets uv lock it (keeping the current pins unless --upgrade)
and writes the result back in that form:

    python -m tools.locks             # after changing a dependency of the generated project
    python -m tools.locks --upgrade   # move every pin to the newest allowed version
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from uv import find_uv_bin

from harness.interpreters import find_python

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
LOCK_DIR = TEMPLATE_DIR / "templates" / "locks"
CHOICES = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
LOCKED_OPTIONS = ("database", "task_queue", "python_version")
# Answers that never change a lock: fewer files to render.
QUIET_ANSWERS = {"docker": "no", "ci": "none"}
NAME_PLACEHOLDER = '"{{ cookiecutter.project_slug }}"'
VERSION_PLACEHOLDER = '"{{ cookiecutter.version }}"'
PROJECT_ENTRY = 'name = {name}\nversion = {version}\nsource = {{ editable = "." }}\n'


class LockError(Exception):
    pass


def lock_file(answers: dict) -> Path:
    """Where the lock of these answers is kept."""
    return LOCK_DIR / (
        f"{answers['database']}-{answers['task_queue']}-py{answers['python_version']}.lock"
    )


def combinations() -> list[dict]:
    """Every (database, task_queue, python_version) the choices offer, supported or not."""
    sets = [{}]
    for option in LOCKED_OPTIONS:
        sets = [{**answers, option: value} for answers in sets for value in CHOICES[option]]
    return sets


def project_entry(name: str, version: str) -> str:
    return PROJECT_ENTRY.format(name=name, version=version)


def to_template_form(lock: str, slug: str, version: str) -> str:
    """The lock uv wrote for a bake, with that bake's name and version as placeholders."""
    entry = project_entry(json.dumps(slug), json.dumps(version))
    if lock.count(entry) != 1:
        raise LockError(f"the lock has no single entry for the project {slug} {version}")
    return lock.replace(entry, project_entry(NAME_PLACEHOLDER, VERSION_PLACEHOLDER))


def python_path(version: str) -> str:
    """PATH with an interpreter of `version` first, so uv does not ask a broken shim."""
    interpreter = find_python(version)
    if interpreter is None:
        raise LockError(f"no Python {version} on this machine")
    directory = Path(tempfile.mkdtemp(prefix="locks-python-"))
    (directory / f"python{version}").symlink_to(interpreter)
    return os.pathsep.join([str(directory), os.environ.get("PATH", "")])


def refresh(answers: dict, workdir: Path, *, upgrade: bool) -> bool:
    """Lock one combination in `workdir`; False when the template refuses it."""
    config = workdir / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(workdir / 'replay'))}\n")
    target = lock_file(answers)
    created = not target.exists()
    if created:
        target.write_text("")
    try:
        project = Path(
            cookiecutter(
                str(TEMPLATE_DIR),
                no_input=True,
                extra_context={**answers, **QUIET_ANSWERS},
                output_dir=str(workdir / "output"),
                config_file=str(config),
            )
        )
    except FailedHookException:
        if created:
            target.unlink()
        return False
    lock = project / "uv.lock"
    if not lock.read_text().strip():
        lock.unlink()
    env = {**os.environ, "PATH": python_path(answers["python_version"])}
    env.pop("VIRTUAL_ENV", None)
    command = [find_uv_bin(), "lock", "--quiet", "--python", answers["python_version"]]
    subprocess.run(
        [*command, *(["--upgrade"] if upgrade else [])], cwd=project, env=env, check=True
    )
    replayed = json.loads(next((workdir / "replay").glob("*.json")).read_text())["cookiecutter"]
    target.write_text(
        to_template_form(lock.read_text(), replayed["project_slug"], replayed["version"])
    )
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest allowed versions")
    upgrade = parser.parse_args().upgrade
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for answers in combinations():
        with tempfile.TemporaryDirectory(prefix="locks-") as scratch:
            name = lock_file(answers).name
            try:
                locked = refresh(answers, Path(scratch), upgrade=upgrade)
            except (LockError, subprocess.CalledProcessError) as error:
                sys.exit(f"{name}: {error}")
            print(f"{name}: {'locked' if locked else 'not offered (the template refuses it)'}")


if __name__ == "__main__":
    main()
