"""Refuse answers the lifted package could not be built from, and never write over a folder.

Cookiecutter renders this file with Jinja and runs it inside the folder it is about to fill;
a refusal removes that folder again unless it was there before. OFFERED_JSON holds
cookiecutter.json's options, each with its list of choices.
"""

import json
import keyword
import os
import re
import sys

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
OFFERED_JSON = r"""{{ _cookiecutter | default({}) | tojson }}"""

DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def find_problem(answers, existing_entries, offered):
    """Return a one-line description of the first reason to stop, or None."""
    name = str(answers.get("package_name", ""))
    if not DOTTED_NAME.fullmatch(name):
        return f"package_name {name!r} must be an import name such as myapp or myapp.core"
    if any(keyword.iskeyword(part) for part in name.split(".")):
        return f"package_name {name!r} contains a Python keyword"
    for field, allowed in offered.items():
        if field.startswith("_") or not isinstance(allowed, list):
            continue
        if answers.get(field) not in allowed:
            return f"{field} {answers.get(field)!r} must be one of {', '.join(allowed)}"
    if existing_entries:
        return (
            f"{os.getcwd()} already exists and is not empty; move it aside to lift a fresh "
            "copy, then compare the two"
        )
    return None


def main():
    problem = find_problem(json.loads(ANSWERS_JSON), os.listdir("."), json.loads(OFFERED_JSON))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
