"""Latency of a write burst: many connections placing orders, then signing up, at once.

Run from the repository root: `make bench-burst` (or `.venv/bin/python -m benchmarks.write_burst
--label latest`). For each database it bakes the project, installs, migrates and seeds it, serves
it with uvicorn (one worker), signs up one user per connection, then runs the burst of checkouts
and the burst of sign-ups. It counts the answers by status, checks that every order the service
confirmed is in the database, and writes the raw numbers to `docs/benchmarks/raw/` and the table
of every labelled run to `docs/benchmarks/write-burst.md`. `--template` measures another copy of
the template (for example an older commit, exported with `git archive`).
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter
from uv import find_uv_bin

from harness import databases
from harness.accounts import verify_address
from harness.baking import (
    TEMPLATE_DIR,
    BakedProject,
    command_env,
    replayed_answers,
    run_make,
    write_cookiecutter_config,
)
from harness.processes import free_port
from harness.running_service import service_process
from harness.write_burst import (
    UNTHROTTLED,
    connection_auths,
    run_burst,
    stored_order_ids,
)

DOCS = TEMPLATE_DIR / "docs" / "benchmarks"
RAW = DOCS / "raw"
REPORT = DOCS / "write-burst.md"
RAW_PREFIX = "write-burst-"
USERS = 8
ERROR_ID = re.compile(r',"error_id":"[0-9a-f]+"')
COLUMNS = (
    "requests",
    "per_second",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "2xx",
    "4xx",
    "503",
    "5xx",
    "transport_failures",
    "lost_orders",
)


def prepare_project(
    template: Path, workdir: Path, database: str, extra_env: dict
) -> tuple[BakedProject, dict, str | None]:
    """Bake, install, migrate and seed; returns the project, its environment, its PG database."""
    tools_bin = workdir / "tools-bin"
    tools_bin.mkdir()
    (tools_bin / "uv").symlink_to(find_uv_bin())
    config = write_cookiecutter_config(workdir)
    root = cookiecutter(
        str(template),
        no_input=True,
        extra_context={"database": database},
        output_dir=str(workdir / "output"),
        config_file=str(config),
    )
    project = BakedProject(Path(root), replayed_answers(config), ())
    pg_name = None
    if database == "postgresql":
        pg_name = databases.unique_name("write_burst")
        url = databases.create(pg_name)
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'app.db'}"
    env = command_env(
        tools_bin,
        DATABASE_URL=url,
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        # Production refuses the console backend; nothing listens there, so emails fail at once.
        EMAIL_BACKEND="smtp",
        SMTP_PORT=str(free_port()),
        **UNTHROTTLED,
        **extra_env,
    )
    for target in ("install", "migrate", "seed"):
        result = run_make(project.root, target, env=env)
        if result.returncode != 0:
            sys.exit(f"make {target} failed:\n{result.stdout}")
    return project, env, pg_name


def measure(
    template: Path, database: str, *, connections: int, seconds: float, extra_env: dict
) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="write-burst-") as workdir:
        project, env, pg_name = prepare_project(template, Path(workdir), database, extra_env)
        try:
            with service_process(project, env) as service:
                auths = connection_auths(
                    service.url,
                    users=USERS,
                    connections=connections,
                    verify=lambda email: verify_address(project.root, env, email),
                )
                rows = []
                for kind in ("checkout", "signup"):
                    print(f"{database}: {kind} burst", flush=True)
                    result = run_burst(
                        service.url,
                        kind,
                        connections=connections,
                        seconds=seconds,
                        auths=auths if kind == "checkout" else None,
                    )
                    row = {"database": database, **result.summary()}
                    if kind == "checkout":
                        stored = stored_order_ids(env["DATABASE_URL"])
                        row["lost_orders"] = len(result.order_ids - stored)
                    else:
                        row["lost_orders"] = 0
                    row["server_errors"] = sorted(set(result.server_errors))[:5]
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                service.stop()
        finally:
            if pg_name:
                databases.drop(pg_name)
    return rows


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def write_report() -> None:
    runs = [json.loads(path.read_text()) for path in sorted(RAW.glob(f"{RAW_PREFIX}*.json"))]
    runs.sort(key=lambda run: run["measured_at"])
    lines = [
        "# Write burst",
        "",
        "Measured with `make bench-burst` (`benchmarks/write_burst.py`): the project is baked for",
        "each database, migrated and seeded, and served by uvicorn with one worker in",
        f"`ENVIRONMENT=production`, without a DSN. {USERS} users are signed up first. Then",
        "every connection (each using one of the users) places orders (`POST /api/v1/checkout`,",
        "a new `Idempotency-Key` each)",
        "one after the other until the time is up; then the same with sign-ups",
        "(`POST /api/v1/auth/register`, a new account each; hashing the password makes these",
        "CPU-bound). The client is httpx in one asyncio process on the same machine, so the",
        "figures are lower than wrk would give; compare runs with each other, not with",
        "[benchmarks.md](../benchmarks.md). `lost orders` counts orders the service confirmed",
        "(2xx) that are not in the database afterwards. Latency percentiles cover every answer,",
        "including errors. On a shared machine the latency of two runs differs by tens of",
        "percent with the load of other work; the error and lost-order columns do not.",
        "A database restart under load and the cost of a pool pre-ping are",
        "measured apart: [database-faults.md](database-faults.md).",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run['label']}",
            "",
            (
                f"{run['description']} Measured on {run['measured_at']}: {run['machine']}; "
                f"{run['connections']} connections, {run['seconds']:.0f} s per burst."
            ),
            "",
            "| database | burst | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " |",
            "|---|---|" + "---|" * len(COLUMNS),
        ]
        for row in run["rows"]:
            cells = [row["database"], row["kind"], *(cell(row[c]) for c in COLUMNS)]
            lines.append("| " + " | ".join(cells) + " |")
        errors = sorted({ERROR_ID.sub("", e) for row in run["rows"] for e in row["server_errors"]})
        if errors:
            lines += ["", "Server errors seen (bodies, without their error ids):", ""]
            lines += [f"- `{error}`" for error in errors]
        lines.append("")
    REPORT.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="latest", help="the run's name in the report")
    parser.add_argument("--description", default="", help="what was measured, one sentence")
    parser.add_argument("--template", type=Path, default=TEMPLATE_DIR)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each burst")
    parser.add_argument(
        "--databases",
        nargs="+",
        default=["sqlite", "postgresql"],
        choices=["sqlite", "postgresql"],
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service, e.g. DATABASE_POOL_PRE_PING=true (repeatable)",
    )
    arguments = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in arguments.env)
    if "postgresql" in arguments.databases and (reason := databases.unreachable_reason()):
        sys.exit(f"PostgreSQL at {databases.HOST}:{databases.PORT} is needed: {reason}")
    rows = []
    for database in arguments.databases:
        rows += measure(
            arguments.template,
            database,
            connections=arguments.connections,
            seconds=arguments.seconds,
            extra_env=extra_env,
        )
    RAW.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in arguments.label.lower())
    run = {
        "label": arguments.label,
        "description": arguments.description,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}",
        "connections": arguments.connections,
        "seconds": arguments.seconds,
        "settings": extra_env,
        "rows": rows,
    }
    (RAW / f"{RAW_PREFIX}{slug}.json").write_text(json.dumps(run, indent=2) + "\n")
    write_report()
    print(f"wrote {REPORT.relative_to(TEMPLATE_DIR)}")


if __name__ == "__main__":
    main()
