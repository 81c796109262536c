"""Bad answers stop generation with one line naming the field, and leave nothing behind."""

import json
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from harness.baking import TEMPLATE_DIR, bake
from harness.hook_scripts import default_answers, load_hook, run_rendered_hook

BAD_ANSWERS = [
    pytest.param(
        {"project_name": "   ", "project_slug": "orders"},
        "project_name",
        id="blank-name",
    ),
    pytest.param({"project_slug": "My Svc"}, "project_slug", id="slug-with-space"),
    pytest.param({"project_slug": "orders--api"}, "project_slug", id="slug-double-hyphen"),
    pytest.param({"project_slug": "2fa-service"}, "project_slug", id="slug-leading-digit"),
    pytest.param({"package_name": "Orders"}, "package_name", id="package-uppercase"),
    pytest.param({"package_name": "orders-api"}, "package_name", id="package-hyphen"),
    pytest.param({"package_name": "class"}, "package_name", id="package-keyword"),
    pytest.param({"package_name": "json"}, "package_name", id="package-shadows-stdlib"),
    pytest.param({"package_name": "sentry_sdk"}, "package_name", id="package-shadows-dependency"),
    pytest.param({"author_email": "jane.example.com"}, "author_email", id="email"),
    pytest.param({"version": "first"}, "version", id="version"),
    pytest.param({"project_name": "Caf\u00e9"}, "project_name", id="name-not-ascii"),
    pytest.param({"package_name": "p" * 31}, "package_name", id="package-too-long"),
    pytest.param({"description": " padded"}, "description", id="description-padded"),
    pytest.param({"author_name": 'Jane "JD" Doe'}, "author_name", id="author-quote"),
]


def assert_refused(capfd: pytest.CaptureFixture, field: str, output_dir: Path) -> None:
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert lines[0].startswith(f"error: {field} "), lines[0]
    assert list(output_dir.iterdir()) == [], "a refused bake left files behind"


@pytest.mark.parametrize(("answers", "field"), BAD_ANSWERS)
def test_bad_answer_is_refused(
    answers: dict,
    field: str,
    tmp_path: Path,
    config_file: Path,
    capfd: pytest.CaptureFixture,
) -> None:
    output_dir = tmp_path / "output"
    output_dir.mkdir()
    with pytest.raises(FailedHookException):
        bake(output_dir, config_file, **answers)
    assert_refused(capfd, field, output_dir)


@pytest.mark.parametrize(("field", "value"), [("python_version", "3.10"), ("database", "mysql")])
def test_unknown_choice_in_replay_file_is_refused(
    field: str,
    value: str,
    tmp_path: Path,
    config_file: Path,
    capfd: pytest.CaptureFixture,
) -> None:
    # Cookiecutter rejects unknown choices given on the command line itself; an edited
    # replay file is how one reaches the hook.
    replay_file = tmp_path / "edited.json"
    replay_file.write_text(json.dumps({"cookiecutter": {**default_answers(), field: value}}))
    output_dir = tmp_path / "output"
    output_dir.mkdir()
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE_DIR),
            replay=str(replay_file),
            output_dir=str(output_dir),
            config_file=str(config_file),
        )
    assert_refused(capfd, field, output_dir)


@pytest.mark.parametrize("field", ["project_name", "project_slug", "author_name"])
def test_answers_with_quotes_and_backslashes_reach_the_hook_intact(
    field: str, tmp_path: Path
) -> None:
    tricky = 'Bob\'s "API" \\ \'\'\' """ {x}\nv2'
    refused = run_rendered_hook("pre_gen_project", {**default_answers(), field: tricky}, tmp_path)

    assert refused.returncode == 1
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"error: {field} {tricky!r} must"), line


@pytest.fixture(scope="module")
def find_problem():
    return load_hook("pre_gen_project").find_problem


def test_defaults_are_accepted(find_problem) -> None:
    assert find_problem(default_answers()) is None


def test_package_named_app_is_accepted(find_problem) -> None:
    assert find_problem({**default_answers(), "package_name": "app"}) is None


def test_options_the_template_lacks_are_not_checked(find_problem) -> None:
    assert find_problem({}) is None


def test_incompatible_options_are_refused_together(find_problem) -> None:
    answers = default_answers()
    problem = find_problem({**answers, "task_queue": "celery", "database": "sqlite"})
    assert problem.startswith("task_queue=celery with database=sqlite is not supported")
    assert find_problem({**answers, "task_queue": "celery", "database": "postgresql"}) is None
