"""Trim the generated project to the chosen options and give it its own .env.

Cookiecutter renders this file with Jinja and runs it inside the new project; ANSWERS_JSON
holds every answer and cookiecutter.json's private keys, `_unneeded_paths` among them: the
manifest of what each "option=value" answer makes unnecessary.
Every step is safe to repeat: re-generating over an existing project (--replay,
--overwrite-if-exists) keeps its .env and skips paths already gone. `cruft update`
runs this hook in the two scratch renders it compares: their .env files differ (each
has its own key), so the project's pyproject.toml lists .env in `[tool.cruft] skip`;
what is removed depends on the answers alone, so it never differs.
"""

import json
import os
import re
import secrets
import shutil
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

SECRET_KEY_LINE = re.compile(r"^SECRET_KEY=.*$", re.MULTILINE)


def remove_unneeded_paths(root, answers):
    """Delete what the answers do not need; return the paths actually removed.

    Paths may name answers as {package_name}; entries for options the template does not
    offer are never applied.
    """
    removed = []
    for answer, paths in answers.get("_unneeded_paths", {}).items():
        option, value = answer.split("=", 1)
        if option not in answers or answers[option] != value:
            continue
        for relative in paths:
            path = Path(root) / relative.format(**answers)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            else:
                continue
            removed.append(path)
    return removed


def write_env_file(root):
    """Create .env from .env.example with a fresh SECRET_KEY, unless .env exists."""
    env_file, example = Path(root) / ".env", Path(root) / ".env.example"
    if env_file.exists() or not example.exists():
        return False
    secret_line = f"SECRET_KEY={secrets.token_urlsafe(48)}"
    text, count = SECRET_KEY_LINE.subn(lambda _: secret_line, example.read_text())
    if not count:
        text = f"{text.rstrip()}\n{secret_line}\n"
    env_file.write_text(text)
    env_file.chmod(0o600)
    return True


def project_location(root, answers):
    """How the user reaches the project from the directory cookiecutter ran in."""
    launched_from = os.environ.get("PWD")
    output_dir = answers.get("_output_dir")
    if launched_from and output_dir and Path(launched_from) == Path(output_dir):
        return Path(root).name
    return str(root)


def print_next_steps(root, answers):
    print(
        f"\nCreated {answers.get('project_name', Path(root).name)}. Next:\n"
        f"  cd {project_location(root, answers)} && make install migrate seed dev"
        "   # http://127.0.0.1:8000, docs at /docs\n"
        "  make test\n"
    )


def main():
    answers = json.loads(ANSWERS_JSON)
    root = Path.cwd()
    remove_unneeded_paths(root, answers)
    write_env_file(root)
    print_next_steps(root, answers)


if __name__ == "__main__":
    main()
