"""The template's version, its upgrade notes and its released migrations agree."""

import hashlib
import json
import re

from harness.baking import TEMPLATE_DIR, template_version

CHANGELOG_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\]", re.MULTILINE)
MIGRATIONS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "migrations" / "versions"
# Version -> migration file -> sha256, as released. A release adds its new migrations here.
RELEASED_MIGRATIONS = json.loads((TEMPLATE_DIR / "tests" / "released_migrations.json").read_text())


def changelog_versions() -> list[str]:
    changelog = (TEMPLATE_DIR / "CHANGELOG.md").read_text()
    return [match["version"] for match in CHANGELOG_HEADING.finditer(changelog)]


def test_changelog_starts_with_unreleased_then_the_current_version() -> None:
    versions = changelog_versions()

    assert versions[:2] == ["Unreleased", template_version()]
    assert len(set(versions)) == len(versions), f"a version appears twice: {versions}"


def test_every_released_version_is_in_the_changelog() -> None:
    assert set(RELEASED_MIGRATIONS) <= set(changelog_versions())


def test_released_migrations_are_never_edited() -> None:
    """A schema change after a release is a new migration, never an edit of a released one."""
    changed = [
        f"{name} (released in {version})"
        for version, files in RELEASED_MIGRATIONS.items()
        for name, digest in files.items()
        if not (MIGRATIONS / name).is_file()
        or hashlib.sha256((MIGRATIONS / name).read_bytes()).hexdigest() != digest
    ]
    assert not changed, "released migrations were edited or removed: " + ", ".join(changed)
