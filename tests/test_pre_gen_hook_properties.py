"""Any answer set is refused with one line and nothing on disk, or bakes a project that lints.

The hook itself runs on many generated answer sets; every accepted one is baked and checked with
ruff, and a few are type-checked too (mypy is the slow part).
"""

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.baking import BakedProject, bake, shared_mypy_cache, write_cookiecutter_config
from harness.hook_scripts import default_answers, load_hook, offered_options, run_rendered_hook

DEFAULTS = default_answers()
OFFERED = offered_options()
PRE_GEN = load_hook("pre_gen_project")
CHECKED_FIELDS = (*tuple(PRE_GEN.FIELD_CHECKS), "python_version", "database")
RUFF = Path(sys.executable).with_name("ruff")

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=70)


def good_or_any(*good: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(good), ANY_TEXT)


FIELDS = {
    "project_name": good_or_any("Orders Service", "Bob's API & Co.", "x", "N" * 50),
    "project_slug": st.one_of(
        st.from_regex(r"[a-z][a-z0-9]{0,34}(-[a-z0-9]{1,4}){0,2}", fullmatch=True),
        ANY_TEXT,
    ),
    "package_name": st.one_of(
        st.from_regex(r"[a-z_][a-z0-9_]{0,34}", fullmatch=True),
        st.sampled_from(["json", "class", "sentry_sdk", "app", "tests"]),
        ANY_TEXT,
    ),
    "description": good_or_any("Sells things.", "Orders, payments & {braces} 'quoted'"),
    "author_name": good_or_any("Zoë Ødegaard", "O'Brien", ""),
    "author_email": st.one_of(st.emails(), ANY_TEXT),
    "version": good_or_any("0.1.0", "1.0.0rc1", "2!1.0.post3.dev4+local.7"),
    "python_version": st.sampled_from(["3.11", "3.12", "3.13", "3.10"]),
    "database": st.sampled_from(["sqlite", "postgresql", "mysql"]),
}
ANSWER_SETS = st.fixed_dictionaries({}, optional=FIELDS).map(lambda chosen: {**DEFAULTS, **chosen})

EXTREMES = {
    **DEFAULTS,
    "project_name": "N" * 50,
    "project_slug": "s" * 30,
    "package_name": "p" * 30,
    "description": "d" * 90,
    "version": "1" * 18 + ".0",
    "database": "postgresql",
}
SHORTEST = {**DEFAULTS, "project_name": "x", "project_slug": "s", "package_name": "p"}


def bake_answers(answers: dict, workdir: Path) -> Path:
    config = write_cookiecutter_config(workdir)
    options = {field: answers[field] for field in FIELDS}
    return bake(workdir / "output", config, **options)


def run(command: list[str], cwd: Path, **env: str) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def assert_lints(project: Path) -> None:
    tomllib.loads((project / "pyproject.toml").read_text())
    run([str(RUFF), "check", "--no-cache", "."], project)
    run([str(RUFF), "format", "--check", "--no-cache", "."], project)


@settings(
    max_examples=int(os.environ.get("HOOK_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(answers=ANSWER_SETS)
@example(answers=EXTREMES)
@example(answers=SHORTEST)
def test_answers_are_refused_in_one_line_or_bake_a_clean_project(answers: dict) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        result = run_rendered_hook("pre_gen_project", answers, workdir)
        if result.returncode != 0:
            assert result.returncode == 1
            lines = result.stderr.splitlines()
            assert len(lines) == 1, f"expected one line on stderr, got {lines}"
            assert lines[0].startswith(tuple(f"error: {f} " for f in CHECKED_FIELDS)), lines[0]
            assert list(workdir.iterdir()) == [], "a refused answer set left files behind"
            return
        assert result.stderr == ""
        assert_lints(bake_answers(answers, workdir))


# mypy parses with the interpreter it runs on, the default bake's (3.11): newer syntax, such as
# the type parameters baked for python_version 3.12+, needs that newer interpreter.
ACCEPTED = ANSWER_SETS.map(lambda answers: {**answers, "python_version": "3.11"}).filter(
    lambda answers: PRE_GEN.find_problem(answers, PRE_GEN.offered_choices(answers, OFFERED)) is None
)


@pytest.mark.option_sets("default")
@settings(
    max_examples=int(os.environ.get("HOOK_TYPECHECK_EXAMPLES", "2")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(answers=ACCEPTED)
@example(answers=EXTREMES)
def test_accepted_answers_bake_a_project_that_type_checks(
    answers: dict, installed_project: BakedProject, shared_dir: Path
) -> None:
    # The default bake's environment has every dependency; its mypy checks the new project.
    with tempfile.TemporaryDirectory() as directory:
        project = bake_answers(answers, Path(directory))
        with shared_mypy_cache(shared_dir, answers["python_version"]) as mypy_env:
            run([str(installed_project.bin("mypy"))], project, **mypy_env)
