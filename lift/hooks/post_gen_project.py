"""Drop the modules the app has no library for, then say how to wire the package.

Cookiecutter renders this file with Jinja and runs it inside the new folder; ANSWERS_JSON
holds the answers and cookiecutter.json's private `_unneeded_files`: "option=value" -> files
that answer makes unnecessary.
"""

import json
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""


def remove_unneeded_files(root, answers):
    removed = []
    for answer, names in answers.get("_unneeded_files", {}).items():
        option, value = answer.split("=", 1)
        if answers.get(option) == value:
            for name in names:
                path = Path(root) / name
                if path.exists():
                    path.unlink()
                    removed.append(path)
    return removed


def main():
    answers = json.loads(ANSWERS_JSON)
    remove_unneeded_files(Path.cwd(), answers)
    print(
        f"\nWrote {Path.cwd()} ({answers['package_name']}.observability).\n"
        "Next: add sentry-sdk[fastapi]>=2.40,<3 to the app's dependencies and wire it as\n"
        "its README.md shows (init first, then instrument_app).\n"
    )


if __name__ == "__main__":
    main()
