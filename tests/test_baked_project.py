"""Every supported option set bakes into a clean project whose own checks pass."""

import re
from pathlib import Path

from tests.baking import BakedProject, command_env, make_must_succeed

TEMPLATE_RESIDUE = re.compile(r"\{\{|\{%|\{#|cookiecutter", re.IGNORECASE)


def _text_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if b"\0" in data:
        return []
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def test_no_template_syntax_is_left(baked_project: BakedProject) -> None:
    leftovers = [
        f"{relative}:{number}: {line.strip()}"
        for relative in baked_project.files
        for number, line in enumerate(
            _text_lines(baked_project.root / relative), start=1
        )
        if TEMPLATE_RESIDUE.search(line)
    ]
    assert not leftovers, "template syntax left in the baked project:\n" + "\n".join(
        leftovers
    )


def test_lint_passes(installed_project: BakedProject, tools_bin: Path) -> None:
    make_must_succeed(installed_project.root, "lint", env=command_env(tools_bin))


def test_own_test_suite_passes(
    installed_project: BakedProject, database_env: dict, tools_bin: Path
) -> None:
    test_env = {k: v for k, v in database_env.items() if k == "TEST_DATABASE_URL"}
    make_must_succeed(
        installed_project.root, "test", env=command_env(tools_bin, **test_env)
    )


def test_migrate_and_seed_can_run_again(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    make_must_succeed(installed_project.root, "migrate", "seed", env=seeded_env)
