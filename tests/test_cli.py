"""The command line a user types: answers as key=value, then --replay."""

import os
import subprocess
import sys
from pathlib import Path

from harness.baking import TEMPLATE_DIR


def run_cookiecutter(config_file: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COOKIECUTTER_CONFIG"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(TEMPLATE_DIR),
            "--config-file",
            str(config_file),
            *list(arguments),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_key_value_answers_then_replay(tmp_path: Path, config_file: Path) -> None:
    first = run_cookiecutter(
        config_file,
        "--no-input",
        "-o",
        str(tmp_path / "first"),
        "database=postgresql",
        "project_name=Billing API",
    )
    assert first.returncode == 0, first.stdout + first.stderr
    project = tmp_path / "first" / "billing-api"
    assert (project / "billing_api" / "main.py").is_file()
    assert "asyncpg" in (project / "pyproject.toml").read_text()
    assert "cd billing-api" in first.stdout or str(project) in first.stdout

    replayed = run_cookiecutter(config_file, "--replay", "-o", str(tmp_path / "replayed"))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = tmp_path / "replayed" / "billing-api"
    assert (again / "pyproject.toml").read_text() == (project / "pyproject.toml").read_text()
    assert sorted(p.relative_to(again) for p in again.rglob("*")) == sorted(
        p.relative_to(project) for p in project.rglob("*")
    )
