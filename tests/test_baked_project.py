"""Every supported option set bakes into a clean project whose own checks pass."""

import re
from pathlib import Path

from harness.baking import BakedProject, command_env, make_must_succeed, shared_mypy_cache
from harness.residue import template_residue

PYTEST_PASSED = re.compile(r"\b[1-9][0-9]* passed\b")


def test_no_template_syntax_is_left(baked_project: BakedProject) -> None:
    leftovers = list(template_residue(baked_project))
    assert not leftovers, "template syntax left behind:\n" + "\n".join(leftovers)


def test_lint_passes(installed_project: BakedProject, tools_bin: Path, shared_dir: Path) -> None:
    python_version = installed_project.answers["python_version"]
    with shared_mypy_cache(shared_dir, python_version) as mypy_env:
        make_must_succeed(installed_project.root, "lint", env=command_env(tools_bin, **mypy_env))


def test_own_test_suite_passes(
    installed_project: BakedProject, database_env: dict, tools_bin: Path
) -> None:
    test_env = {k: v for k, v in database_env.items() if k == "TEST_DATABASE_URL"}
    env = command_env(tools_bin, **test_env)
    output = make_must_succeed(installed_project.root, "test", env=env)
    assert PYTEST_PASSED.search(output), f"make test ran no tests:\n{output}"


def test_migrate_and_seed_can_run_again(installed_project: BakedProject, seeded_env: dict) -> None:
    make_must_succeed(installed_project.root, "migrate", "seed", env=seeded_env)


def test_residue_check_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "{{cookiecutter.x}}.txt").write_text("fine\n")
    (tmp_path / "settings.py").write_text(
        "ok = 1\nname = '{{ cookiecutter.name }}'\nslug = cookiecutter.slug\n"
        "# made with cookiecutter\n"
    )
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0{{")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/ci.yaml").write_text("sha: ${{ github.sha }}\nname: {{ name }}\n")
    files = ("{{cookiecutter.x}}.txt", "settings.py", "logo.png", ".github/ci.yaml")
    assert list(template_residue(BakedProject(tmp_path, {}, files))) == [
        "{{cookiecutter.x}}.txt: in the file name",
        "settings.py:2: name = '{{ cookiecutter.name }}'",
        "settings.py:3: slug = cookiecutter.slug",
        ".github/ci.yaml:2: name: {{ name }}",
    ]
