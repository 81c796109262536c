"""`cookiecutter <template> --directory lift` writes the observability package into an app.

It is written from the same files as the baked project's `observability/`, asks only what the
package needs, and refuses to overwrite or to leave anything behind on a bad answer.
"""

import subprocess
from pathlib import Path

import pytest

from harness.baking import TEMPLATE_DIR, bake, write_cookiecutter_config
from harness.lifting import lift

pytestmark = pytest.mark.xdist_group("lift")


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize(
    "options",
    [{}, {"database": "postgresql", "task_queue": "celery"}],
    ids=["background", "celery"],
)
def test_lifted_package_is_the_baked_projects_observability(tmp_path: Path, options: dict) -> None:
    config = write_cookiecutter_config(tmp_path)
    project = bake(tmp_path / "baked", config, package_name="ledger", **options)
    task_queue = options.get("task_queue", "background")

    result = lift(
        tmp_path / "host" / "ledger",
        "package_name=ledger",
        "sqlalchemy=yes",
        f"task_queue={task_queue}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    baked = tree(project / "ledger" / "observability")
    lifted = tree(tmp_path / "host" / "ledger" / "observability")
    assert lifted == baked
    assert ("CeleryIntegration" in lifted["sentry.py"].decode()) == (task_queue == "celery")


def test_lifting_without_sqlalchemy_leaves_out_the_sql_module(tmp_path: Path) -> None:
    result = lift(tmp_path / "svc", "package_name=svc.core", "sqlalchemy=no")

    assert result.returncode == 0, result.stdout + result.stderr
    package = tmp_path / "svc" / "observability"
    assert not (package / "sql.py").exists()
    assert all(
        "sqlalchemy" not in path.read_text().lower()
        for path in package.glob("*.py")
        if path.name != "sql.py"
    ), "a module other than sql.py still mentions SQLAlchemy"
    assert "from svc.core.observability import" in (package / "README.md").read_text()


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (
            ("package_name=my-app",),
            "error: package_name 'my-app' must be an import name",
        ),
        (
            ("package_name=app.class",),
            "error: package_name 'app.class' contains a Python",
        ),
        # Cookiecutter itself refuses a choice it does not offer, before any hook runs.
        (
            ("package_name=app", "sqlalchemy=maybe"),
            "variable sqlalchemy, but the choices",
        ),
        (("package_name=app", "task_queue=rq"), "variable task_queue, but the choices"),
    ],
)
def test_a_bad_answer_stops_with_one_line_and_leaves_nothing(
    tmp_path: Path, answers: tuple[str, ...], reason: str
) -> None:
    output = tmp_path / "app"
    output.mkdir()

    result = lift(output, *answers)

    assert result.returncode != 0
    assert reason in result.stderr.strip().splitlines()[-1], result.stderr
    assert list(output.iterdir()) == []


def test_an_existing_package_is_never_overwritten(tmp_path: Path) -> None:
    output = tmp_path / "app"
    assert lift(output, "package_name=app").returncode == 0
    sentry_py = output / "observability" / "sentry.py"
    sentry_py.write_text("# the host's own edits\n")

    refused = lift(output, "package_name=app")
    forced = lift(output, "package_name=app", extra=("--overwrite-if-exists",))

    assert refused.returncode != 0
    assert "already exists" in refused.stdout + refused.stderr
    assert forced.returncode != 0
    assert "already exists and is not empty" in forced.stderr
    assert sentry_py.read_text() == "# the host's own edits\n"


def test_a_git_clone_of_the_template_lifts_the_same_files(tmp_path: Path) -> None:
    """`gh:` clones the repository: the symlink under lift/ must survive git."""
    head = subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode != 0:
        pytest.skip("the template is not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(TEMPLATE_DIR), str(clone)],
        check=True,
        timeout=120,
    )
    subprocess.run(
        ["git", "-C", str(clone), "checkout", "--quiet", head.stdout.strip()],
        check=True,
        timeout=120,
    )

    from_clone = lift(tmp_path / "a" / "app", "package_name=app", template=f"git+file://{clone}")
    from_tree = lift(tmp_path / "b" / "app", "package_name=app")

    assert from_clone.returncode == 0, from_clone.stdout + from_clone.stderr
    assert from_tree.returncode == 0, from_tree.stdout + from_tree.stderr
    cloned = tree(tmp_path / "a" / "app" / "observability")
    assert set(cloned) == set(tree(tmp_path / "b" / "app" / "observability"))
    assert b"def init_sentry" in cloned["sentry.py"]
