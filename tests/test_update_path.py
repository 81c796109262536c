"""A project made with cruft takes a later template commit next to its own edits.

The template as it is on disk becomes the first commit of a scratch git repository; a
project is created from that commit with `cruft create`, edited and given data as a user
would, then the template gets a second commit (a model column with its migration, a
changed file, a new setting) and `cruft update` brings it into the project.
"""

import json
import re
import shutil
import sqlite3
import sys
import tomllib
from pathlib import Path

import pytest

from harness.baking import (
    BakedProject,
    bake,
    command_env,
    make_must_succeed,
    shared_mypy_cache,
    template_version,
    write_cookiecutter_config,
)
from harness.cruft_projects import (
    ci_env,
    create_project,
    edit,
    git,
    left_behind,
    package_of,
    run_ci_step,
    run_cruft,
    template_repository,
)
from harness.option_sets import OPTION_SETS
from harness.processes import run_with_output

SLUG_DIR = "{{cookiecutter.project_slug}}"
PACKAGE_DIR = f"{SLUG_DIR}/{{{{cookiecutter.package_name}}}}"
MOVED_ON_WARNING = "::warning title=Template update available::"
MIGRATION_REVISION = re.compile(r'^revision: str = "(?P<id>[^"]+)"', re.MULTILINE)
MIGRATION_PARENT = re.compile(r'^down_revision: [^=]+= "(?P<id>[^"]+)"', re.MULTILINE)

# The project's tests of what the update and the user's edits touch: the new route, the changed
# model and its migration, the health route, the new setting and its documented variable.
TOUCHED_TESTS = (
    "tests/test_status.py",
    "tests/test_checkout.py",
    "tests/test_migrations.py",
    "tests/test_health.py",
    "tests/test_config.py",
    "tests/test_config_names.py",
)

pytestmark = pytest.mark.xdist_group("update_path")


def migration_head(versions: Path) -> str:
    revisions, parents = set(), set()
    for migration in versions.glob("*.py"):
        text = migration.read_text()
        revisions.update(m["id"] for m in MIGRATION_REVISION.finditer(text))
        parents.update(m["id"] for m in MIGRATION_PARENT.finditer(text))
    (head,) = revisions - parents
    return head


def add_product_description(template: Path) -> str:
    """A template change to a model, shipped with its migration; returns the revision."""
    edit(
        template / PACKAGE_DIR / "checkout/models.py",
        "    price_cents: Mapped[int]\n",
        "    price_cents: Mapped[int]\n"
        "    description: Mapped[str | None] = mapped_column(String(500))\n",
    )
    versions = template / SLUG_DIR / "migrations/versions"
    parent = migration_head(versions)
    revision = f"{int(parent.split('_')[0]) + 1:04d}"
    (versions / f"{revision}_product_description.py").write_text(
        f'''"""product description

Revision ID: {revision}
Revises: {parent}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "{revision}"
down_revision: str | None = "{parent}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("products", sa.Column("description", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("description")
'''
    )
    return revision


def change_template(template: Path, next_version: str) -> str:
    """Commit a new template version in the scratch repository; return its migration."""
    revision = add_product_description(template)
    edit(
        template / PACKAGE_DIR / "health/router.py",
        '"""Answer while the process is alive."""',
        '"""Answer while the process is alive, without touching the database."""',
    )
    recipient_limit = '    email_rate_limit_per_recipient: RateLimit = "5/hour;20/day"\n'
    edit(
        template / PACKAGE_DIR / "core/config/email.py",
        recipient_limit,
        f'{recipient_limit}    support_email: str = "support@example.com"\n',
    )
    example = template / SLUG_DIR / ".env.example"
    example.write_text(example.read_text() + "# SUPPORT_EMAIL=support@example.com\n")
    edit(
        template / "cookiecutter.json",
        f'"_template_version": "{template_version()}"',
        f'"_template_version": "{next_version}"',
    )
    git(template, "add", "--all")
    git(template, "commit", "--quiet", "--message", "Template change")
    return revision


def make_user_edits(project: Path, package: str) -> None:
    """A new route with its test, and a changed setting, committed in the project."""
    status = project / package / "status"
    status.mkdir()
    (status / "__init__.py").write_text("")
    (status / "router.py").write_text(
        "from fastapi import APIRouter\n\n"
        'router = APIRouter(tags=["status"])\n\n\n'
        '@router.get("/status")\n'
        "async def service_status() -> dict[str, str]:\n"
        '    """Name the team that runs the service."""\n'
        '    return {"team": "payments"}\n'
    )
    (project / "tests/test_status.py").write_text(
        "import httpx\n\n\n"
        "async def test_status_names_the_team(client: httpx.AsyncClient) -> None:\n"
        '    response = await client.get("/status")\n\n'
        "    assert response.status_code == 200\n"
        '    assert response.json() == {"team": "payments"}\n'
    )
    app = project / package / "app.py"
    # Sorted as ruff wants it: just before the first import from the users domain.
    users_import = next(
        f"{line}\n"
        for line in app.read_text().splitlines()
        if line.startswith(f"from {package}.users.")
    )
    edit(
        app,
        users_import,
        f"from {package}.status.router import router as status_router\n{users_import}",
    )
    edit(
        app,
        "    app.include_router(health_router)\n",
        "    app.include_router(health_router)\n    app.include_router(status_router)\n",
    )
    edit(
        project / package / "core/config/email.py",
        'email_sender: str = "no-reply@example.com"',
        'email_sender: str = "orders@shop.example.com"',
    )
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Our own route and sender")


def table_rows(database: Path, table: str, columns: str = "*") -> list[sqlite3.Row]:
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        query = f"SELECT {columns} FROM {table} ORDER BY id"  # noqa: S608 (names from the test)
        return connection.execute(query).fetchall()


@pytest.mark.starts_first
def test_update_brings_template_changes_next_to_user_edits(
    tmp_path: Path, tools_bin: Path, shared_dir: Path
) -> None:
    env = command_env(tools_bin)
    template = tmp_path / "template"
    project = create_project(tmp_path, template, template_repository(template), env)
    package = package_of(project)

    make_must_succeed(project, "install", "migrate", "seed", env=env)
    database = project / "app.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO products (sku, name, price_cents, currency, is_active)"
            " VALUES ('OUR-1', 'Our own product', 4200, 'EUR', 1)"
        )
    products, discount_codes = (
        table_rows(database, "products"),
        table_rows(database, "discount_codes"),
    )
    with (project / ".env").open("a") as dotenv:
        dotenv.write("PAYMENT_TIMEOUT_SECONDS=3\n")
    dotenv_before = (project / ".env").read_text()
    make_user_edits(project, package)

    major, minor, _ = template_version().split(".", 2)
    next_version = f"{major}.{int(minor) + 1}.0"
    revision = change_template(template, next_version)
    new_commit = git(template, "rev-parse", "HEAD")

    assert run_cruft(project, "check", env=env).returncode != 0
    moved_on = run_ci_step(project, ci_env(tools_bin))
    assert moved_on.returncode == 0, moved_on.stdout
    assert MOVED_ON_WARNING in moved_on.stdout

    updated = run_cruft(project, "update", "-y", env=env)
    assert updated.returncode == 0, updated.stdout
    assert not left_behind(project), updated.stdout
    assert not git(project, "diff", "--name-only", "--diff-filter=U"), updated.stdout

    source = project / package
    assert (source / "status/router.py").exists()
    assert "app.include_router(status_router)" in (source / "app.py").read_text()
    email_settings = (source / "core/config/email.py").read_text()
    assert 'email_sender: str = "orders@shop.example.com"' in email_settings
    assert 'support_email: str = "support@example.com"' in email_settings
    assert "description: Mapped[str | None]" in (source / "checkout/models.py").read_text()
    assert "without touching the database" in (source / "health/router.py").read_text()
    assert "SUPPORT_EMAIL" in (project / ".env.example").read_text()
    assert (project / ".env").read_text() == dotenv_before
    assert f"version {next_version}." in (project / "README.md").read_text()
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == new_commit
    assert state["context"]["cookiecutter"]["_template_version"] == next_version

    make_must_succeed(project, "migrate", env=env)
    with sqlite3.connect(database) as connection:
        (current,) = connection.execute("SELECT version_num FROM alembic_version")
        columns = [row[1] for row in connection.execute("PRAGMA table_info(products)")]
    assert current == (revision,)
    assert "description" in columns
    kept_columns = ", ".join(products[0].keys())
    assert table_rows(database, "products", kept_columns) == products
    assert table_rows(database, "discount_codes") == discount_codes
    assert any(row["sku"] == "OUR-1" for row in products)

    python_version = state["context"]["cookiecutter"]["python_version"]
    with shared_mypy_cache(shared_dir, python_version) as mypy_env:
        make_must_succeed(project, "lint", env={**env, **mypy_env})
    # The tests of what the update and the user's edits touched; the whole suite of an
    # unchanged bake runs in test_baked_project.py.
    tests = run_with_output(str(project / ".venv/bin/pytest"), *TOUCHED_TESTS, cwd=project, env=env)
    assert tests.returncode == 0, tests.stdout
    checked = run_cruft(project, "check", env=env)
    assert checked.returncode == 0, checked.stdout
    up_to_date = run_ci_step(project, ci_env(tools_bin))
    assert up_to_date.returncode == 0, up_to_date.stdout
    assert "::warning" not in up_to_date.stdout


def test_two_renders_differ_only_in_what_updates_skip(option_set: str, tmp_path: Path) -> None:
    """cruft diffs two renders of the template: the hook must not make them differ elsewhere."""
    renders = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        config = write_cookiecutter_config(tmp_path / name)
        renders.append(bake(tmp_path / name, config, **OPTION_SETS[option_set]))
    trees = [
        {
            str(path.relative_to(root)): path.read_bytes()
            for path in root.rglob("*")
            if path.is_file()
        }
        for root in renders
    ]
    differing = {
        name
        for name in trees[0].keys() | trees[1].keys()
        if trees[0].get(name) != trees[1].get(name)
    }
    pyproject = tomllib.loads((renders[0] / "pyproject.toml").read_text())
    assert differing == {".env"}
    assert ".env" in pyproject["tool"]["cruft"]["skip"]


def test_readme_and_ci_name_the_template(baked_project: BakedProject) -> None:
    """The footer says which version made the project; CI without .cruft.json stays green."""
    readme = (baked_project.root / "README.md").read_text()
    assert readme.rstrip().endswith(f"service template, version {template_version()}.</sub>")
    if (baked_project.root / ".github").exists():
        result = run_ci_step(baked_project.root, command_env(Path(sys.executable).parent))
        assert result.returncode == 0, result.stdout
        assert "No .cruft.json" in result.stdout


def test_a_conflicting_edit_is_left_for_git_to_resolve(tmp_path: Path, tools_bin: Path) -> None:
    """Both sides changed one line: git's conflict markers, never a reject file."""
    env = command_env(tools_bin)
    template = tmp_path / "template"
    project = create_project(tmp_path, template, template_repository(template), env)
    docstring = '"""Answer while the process is alive."""'
    router = Path(package_of(project)) / "health/router.py"
    edit(project / router, docstring, '"""Ours: answer while alive."""')
    git(project, "commit", "--quiet", "--all", "--message", "Our docstring")
    edit(template / PACKAGE_DIR / "health/router.py", docstring, '"""Theirs."""')
    git(template, "commit", "--quiet", "--all", "--message", "Their docstring")

    updated = run_cruft(project, "update", "-y", env=env)

    assert updated.returncode == 0, updated.stdout
    assert git(project, "diff", "--name-only", "--diff-filter=U") == str(router)
    text = (project / router).read_text()
    assert "<<<<<<<" in text
    assert "Ours: answer while alive." in text
    assert "Theirs." in text
    assert not left_behind(project), updated.stdout


@pytest.mark.option_sets("default")
def test_ci_warns_when_the_template_cannot_be_reached(
    baked_project: BakedProject, tools_bin: Path, tmp_path: Path
) -> None:
    workflows = tmp_path / ".github/workflows"
    workflows.mkdir(parents=True)
    shutil.copy(baked_project.root / ".github/workflows/ci.yaml", workflows)
    state = {"template": str(tmp_path / "gone"), "commit": "0" * 40, "context": {}}
    (tmp_path / ".cruft.json").write_text(json.dumps(state))

    result = run_ci_step(tmp_path, ci_env(tools_bin))

    assert result.returncode == 0, result.stdout
    assert "::warning title=Template check failed::" in result.stdout
