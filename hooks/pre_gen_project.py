"""Refuse answers the generated service could not be built from.

Cookiecutter renders this file with Jinja before running it, so ANSWERS_JSON holds
every answer, and with them cookiecutter.json's private keys: `_incompatible` is where the
option rules live. The allowed choices are cookiecutter.json's lists, as OFFERED_JSON
holds them on a fresh run; a replayed run passes answers there instead, so the hook reads
the lists from the template's own cookiecutter.json. Only answers that exist are checked:
a rule for an option the template does not (yet) offer is simply never applied.
"""

import json
import keyword
import os
import re
import sys
import unicodedata
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
OFFERED_JSON = r"""{{ _cookiecutter | default({}) | tojson }}"""

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# The name and description are written into Python strings and docstrings: printable ASCII
# (ruff refuses look-alike characters in source) without double quotes or backslashes.
SOURCE_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")
SOURCE_TEXT_RULE = "must be printable ASCII without double quotes or backslashes"

# Longest values whose generated lines stay within the project's 100-character line limit.
MAX_LENGTH = {
    "project_name": 50,
    "project_slug": 30,
    "package_name": 30,
    "description": 90,
    "author_name": 100,
    "author_email": 100,
    "version": 20,
}

# packaging.version.VERSION_PATTERN, embedded because `packaging` may not be
# importable by the interpreter that runs cookiecutter.
VERSION_PATTERN = r"""
    v?
    (?:
        (?:(?P<epoch>[0-9]+)!)?                           # epoch
        (?P<release>[0-9]+(?:\.[0-9]+)*)                  # release segment
        (?P<pre>                                          # pre-release
            [-_\.]?
            (?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)
            [-_\.]?
            (?P<pre_n>[0-9]+)?
        )?
        (?P<post>                                         # post release
            (?:-(?P<post_n1>[0-9]+))
            |
            (?:
                [-_\.]?
                (?P<post_l>post|rev|r)
                [-_\.]?
                (?P<post_n2>[0-9]+)?
            )
        )?
        (?P<dev>                                          # dev release
            [-_\.]?
            (?P<dev_l>dev)
            [-_\.]?
            (?P<dev_n>[0-9]+)?
        )?
    )
    (?:\+(?P<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?       # local version
"""
VERSION = re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)

# Top-level names the generated project imports or ships next to its package;
# a package with one of these names would shadow it.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        "aiosmtplib",
        "aiosqlite",
        "alembic",
        "asyncpg",
        "celery",
        "email_validator",
        "fastapi",
        "httpx",
        "jose",
        "migrations",
        "multipart",
        "pwdlib",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "redis",
        "sentry_sdk",
        "sqlalchemy",
        "starlette",
        "tests",
        "uvicorn",
    }
)


def project_name_problem(value):
    if not value.strip():
        return "must not be blank"
    if not SOURCE_TEXT.fullmatch(value):
        return SOURCE_TEXT_RULE
    return None


def description_problem(value):
    if not value.strip():
        return "must not be blank"
    if not SOURCE_TEXT.fullmatch(value):
        return SOURCE_TEXT_RULE
    if value != value.strip():
        return "must not start or end with spaces"
    return None


def author_name_problem(value):
    if '"' in value or "\\" in value:
        return "must not contain double quotes or backslashes"
    if any(unicodedata.category(char).startswith("C") for char in value):
        return "must be one line of printable characters"
    return None


def project_slug_problem(value):
    if not SLUG.fullmatch(value):
        return "must be lowercase letters, digits and single hyphens, starting with a letter"
    return None


def package_name_problem(value):
    if not PACKAGE.fullmatch(value):
        return "must be a lowercase Python identifier (letters, digits, underscores)"
    if keyword.iskeyword(value):
        return "is a Python keyword"
    if value in sys.stdlib_module_names:
        return "would shadow the standard library module of the same name"
    if value in RESERVED_PACKAGE_NAMES:
        return "would shadow a dependency or folder of the generated project"
    return None


def author_email_problem(value):
    if not EMAIL.fullmatch(value):
        return "does not look like an email address"
    return None


def version_problem(value):
    if not VERSION.fullmatch(value):
        return "is not a PEP 440 version (e.g. 0.1.0)"
    if any(len(number) > 18 for number in re.findall(r"[0-9]+", value)):
        return "has a number too large for packaging tools (over 18 digits)"
    return None


FIELD_CHECKS = {
    "project_name": project_name_problem,
    "project_slug": project_slug_problem,
    "package_name": package_name_problem,
    "description": description_problem,
    "author_name": author_name_problem,
    "author_email": author_email_problem,
    "version": version_problem,
}


def field_problem(field, value):
    if len(value) > MAX_LENGTH[field]:
        return f"must be at most {MAX_LENGTH[field]} characters"
    return FIELD_CHECKS[field](value)


def offered_choices(answers, offered):
    """option -> allowed values, from cookiecutter.json's lists."""
    if not any(isinstance(values, list) for values in offered.values()) and "_repo_dir" in answers:
        # A replayed run passes the answers where the lists were: read the template's file.
        template = Path(os.environ.get("PWD", "."), answers["_repo_dir"], "cookiecutter.json")
        offered = json.loads(template.read_text()) if template.is_file() else {}
    return {
        field: values
        for field, values in offered.items()
        if isinstance(values, list) and not field.startswith("_")
    }


def find_problem(answers, choices=None):
    """Return a one-line description of the first bad answer, or None."""
    for field in FIELD_CHECKS:
        if field in answers:
            problem = field_problem(field, str(answers[field]))
            if problem:
                return f"{field} {str(answers[field])!r} {problem}"
    for field, allowed in (choices or {}).items():
        if field in answers and answers[field] not in allowed:
            return f"{field} {answers[field]!r} must be one of {', '.join(allowed)}"
    for rule in answers.get("_incompatible", []):
        if all(answers.get(field) == value for field, value in rule["answers"].items()):
            chosen = " with ".join(f"{k}={v}" for k, v in rule["answers"].items())
            return f"{chosen} is not supported; {rule['advice']}"
    return None


def main():
    answers = json.loads(ANSWERS_JSON)
    problem = find_problem(answers, offered_choices(answers, json.loads(OFFERED_JSON)))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
