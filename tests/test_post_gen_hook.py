"""After generation: a private .env that survives re-generation, and only the needed files."""

import re
import stat
from pathlib import Path

import pytest

from harness.baking import bake
from harness.hook_scripts import default_answers, load_hook


def secret_key(project: Path) -> str:
    match = re.search(r"^SECRET_KEY=(.*)$", (project / ".env").read_text(), re.MULTILINE)
    assert match, f"{project / '.env'} has no SECRET_KEY line"
    return match.group(1)


@pytest.fixture(scope="module")
def post_gen():
    return load_hook("post_gen_project")


def test_each_bake_gets_its_own_secret_key(tmp_path: Path, config_file: Path) -> None:
    first = secret_key(bake(tmp_path / "first", config_file))
    second = secret_key(bake(tmp_path / "second", config_file))
    assert first != "change-me"
    assert len(first) >= 64
    assert first != second


def test_env_file_is_readable_by_its_owner_only(tmp_path: Path, config_file: Path) -> None:
    project = bake(tmp_path, config_file)
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600


def test_env_file_keeps_the_other_settings(tmp_path: Path, config_file: Path) -> None:
    project = bake(tmp_path, config_file)
    example = (project / ".env.example").read_text().splitlines()
    env = (project / ".env").read_text().splitlines()
    assert [line for line in env if not line.startswith("SECRET_KEY=")] == [
        line for line in example if not line.startswith("SECRET_KEY=")
    ]


def test_regenerating_over_a_project_keeps_its_env(tmp_path: Path, config_file: Path) -> None:
    project = bake(tmp_path, config_file)
    before = (project / ".env").read_bytes()
    assert bake(tmp_path, config_file, overwrite=True) == project
    assert (project / ".env").read_bytes() == before


def test_next_steps_are_printed(
    tmp_path: Path, config_file: Path, capfd: pytest.CaptureFixture
) -> None:
    bake(tmp_path, config_file)
    out = capfd.readouterr().out
    assert "make install migrate seed dev" in out
    assert "http://127.0.0.1:8000" in out
    assert "make test" in out


def test_manifest_removes_only_what_the_answers_exclude(tmp_path: Path, post_gen) -> None:
    manifest = {
        "database=sqlite": ["{package_name}/postgres_only.py", "deploy/postgres"],
        "database=postgresql": ["sqlite_only.txt"],
    }
    for relative in (
        "shop/postgres_only.py",
        "deploy/postgres/init.sql",
        "sqlite_only.txt",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    answers = {"database": "sqlite", "package_name": "shop", "_unneeded_paths": manifest}

    removed = post_gen.remove_unneeded_paths(tmp_path, answers)

    assert sorted(removed) == [
        tmp_path / "deploy/postgres",
        tmp_path / "shop/postgres_only.py",
    ]
    assert (tmp_path / "sqlite_only.txt").exists()
    assert post_gen.remove_unneeded_paths(tmp_path, answers) == []


def test_manifest_ignores_options_the_template_lacks(tmp_path: Path, post_gen) -> None:
    (tmp_path / "Dockerfile").write_text("")
    manifest = default_answers()["_unneeded_paths"]
    answers = {"database": "sqlite", "package_name": "pkg", "_unneeded_paths": manifest}
    assert post_gen.remove_unneeded_paths(tmp_path, answers) == []
    assert (tmp_path / "Dockerfile").exists()


def test_env_file_gets_a_secret_key_even_if_the_example_lacks_one(tmp_path: Path, post_gen) -> None:
    (tmp_path / ".env.example").write_text("ENVIRONMENT=development\n")
    assert post_gen.write_env_file(tmp_path) is True
    assert (tmp_path / ".env").read_text().startswith("ENVIRONMENT=development\nSECRET_KEY=")


def test_env_file_is_not_written_without_an_example(tmp_path: Path, post_gen) -> None:
    assert post_gen.write_env_file(tmp_path) is False
    assert not (tmp_path / ".env").exists()
