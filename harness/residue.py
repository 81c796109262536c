"""Template syntax a bake must not keep, in file names or in text."""

import re
from collections.abc import Iterator
from pathlib import Path

from harness.baking import BakedProject

# A variable left unrendered: Jinja's delimiters, or `cookiecutter.` on its own. The word alone
# may stay: the observability guide names the command that lifts the package.
TEMPLATE_RESIDUE = re.compile(r"\{\{|\{%|\{#|cookiecutter\.", re.IGNORECASE)
# GitHub Actions expressions are meant to reach the generated workflows.
ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _text_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if b"\0" in data:
        return []
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def template_residue(project: BakedProject) -> Iterator[str]:
    for relative in project.files:
        if TEMPLATE_RESIDUE.search(relative):
            yield f"{relative}: in the file name"
        in_workflow = relative.startswith(".github/")
        for number, line in enumerate(_text_lines(project.root / relative), start=1):
            checked = ACTIONS_EXPRESSION.sub("", line) if in_workflow else line
            if TEMPLATE_RESIDUE.search(checked):
                yield f"{relative}:{number}: {line.strip()}"
