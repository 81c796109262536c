"""Every combination of options bakes, or is refused for a stated reason, and lints clean.

The option sets in option_sets.py are installed, type-checked and tested in full; this
covers all the others cheaply: what they render, not what they run.
"""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException

from harness.baking import TEMPLATE_DIR, BakedProject, bake, write_cookiecutter_config
from harness.residue import template_residue

OPTIONS = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
CHOICES = {
    name: values
    for name, values in OPTIONS.items()
    if isinstance(values, list) and not name.startswith("_")
}
COMBINATIONS = [
    dict(zip(CHOICES, values, strict=True)) for values in itertools.product(*CHOICES.values())
]
REFUSED = [rule["answers"] for rule in OPTIONS["_incompatible"]]
# "option=value" -> paths that answer removes; each exists exactly when the answer differs.
UNNEEDED_PATHS = OPTIONS["_unneeded_paths"]
TOOLS = Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("combinations")


def combination_id(answers: dict) -> str:
    return "-".join(str(value) for value in answers.values())


def is_refused(answers: dict) -> bool:
    return any(all(answers[k] == v for k, v in rule.items()) for rule in REFUSED)


def run_tool(*command: str, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


# Per session, not per module: the worker may run other modules' tests between these, and a
# module fixture would then be baked all over again.
@pytest.fixture(scope="session")
def bakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | None]:
    """Each combination baked once; None where the template refuses it."""
    results: dict[str, Path | None] = {}
    for answers in COMBINATIONS:
        workdir = tmp_path_factory.mktemp(combination_id(answers))
        config = write_cookiecutter_config(workdir)
        try:
            results[combination_id(answers)] = bake(workdir / "output", config, **answers)
        except FailedHookException:
            results[combination_id(answers)] = None
    return results


@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_combination_bakes_clean_or_is_refused(
    answers: dict, bakes: dict[str, Path | None]
) -> None:
    root = bakes[combination_id(answers)]
    if is_refused(answers):
        assert root is None, "this combination should have been refused"
        return
    assert root is not None, "the template refused a supported combination"

    files = tuple(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    leftovers = list(template_residue(BakedProject(root, answers, files)))
    assert not leftovers, "template syntax left behind:\n" + "\n".join(leftovers)
    package = root.name.replace("-", "_")
    for answer, paths in UNNEEDED_PATHS.items():
        option, value = answer.split("=", 1)
        for path in paths:
            exists = (root / path.format(package_name=package)).exists()
            assert exists == (answers[option] != value), f"{path} with {option}={answers[option]}"

    run_tool(str(TOOLS / "ruff"), "check", "--no-cache", ".", cwd=root)
    run_tool(str(TOOLS / "ruff"), "format", "--check", "--no-cache", ".", cwd=root)
    for document in [
        *root.glob("compose.yaml"),
        *root.glob(".github/workflows/*.yaml"),
    ]:
        assert yaml.safe_load(document.read_text()), f"{document.name} is empty"
    if (root / "Dockerfile").exists():
        run_tool(str(TOOLS / "hadolint"), "Dockerfile", cwd=root)
