"""Refuse answers the generated service could not be built from.

Cookiecutter renders this file with Jinja before running it, so ANSWERS_JSON holds
every answer. Only answers that exist are checked: a rule for an option the template
does not (yet) offer is simply never applied.
"""

import json
import keyword
import re
import sys

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

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

# option -> allowed values
CHOICES = {
    "python_version": ("3.11", "3.12", "3.13"),
    "database": ("sqlite", "postgresql"),
    "task_queue": ("background", "celery"),
    "docker": ("yes", "no"),
    "ci": ("github", "none"),
}

# (answers that cannot be combined, what to do instead)
INCOMPATIBLE = [
    (
        {"task_queue": "celery", "database": "sqlite"},
        "celery workers need a database server: choose database=postgresql",
    ),
]


# Names land in Python and TOML strings and in lines of at most 100 characters; past these
# lengths, or with these characters, the generated code would not be valid or formatted.
MAX_LENGTH = {
    "project_name": 60,
    "project_slug": 40,
    "package_name": 30,
    "description": 90,
}
UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')


def text_problem(value, limit):
    if not value.strip():
        return "must not be blank"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    if UNQUOTABLE.search(value):
        return "must not contain double quotes, backslashes or control characters"
    return None


def project_name_problem(value):
    return text_problem(value, MAX_LENGTH["project_name"])


def description_problem(value):
    return text_problem(value, MAX_LENGTH["description"])


def author_name_problem(value):
    return text_problem(value, 100)


def project_slug_problem(value):
    if len(value) > MAX_LENGTH["project_slug"]:
        return f"must be at most {MAX_LENGTH['project_slug']} characters"
    if not SLUG.fullmatch(value):
        return "must be lowercase letters, digits and single hyphens, starting with a letter"
    return None


def package_name_problem(value):
    if len(value) > MAX_LENGTH["package_name"]:
        return f"must be at most {MAX_LENGTH['package_name']} characters"
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


def find_problem(answers):
    """Return a one-line description of the first bad answer, or None."""
    for field, check in FIELD_CHECKS.items():
        if field in answers:
            problem = check(str(answers[field]))
            if problem:
                return f"{field} {str(answers[field])!r} {problem}"
    for field, allowed in CHOICES.items():
        if field in answers and answers[field] not in allowed:
            return f"{field} {answers[field]!r} must be one of {', '.join(allowed)}"
    for combination, advice in INCOMPATIBLE:
        if all(answers.get(field) == value for field, value in combination.items()):
            chosen = " with ".join(f"{k}={v}" for k, v in combination.items())
            return f"{chosen} is not supported; {advice}"
    return None


def main():
    problem = find_problem(json.loads(ANSWERS_JSON))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
