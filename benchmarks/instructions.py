"""What Sentry costs per request, in CPU instructions: a measure that a busy machine does not move.

Throughput on a shared machine drifts by 10 to 20 percent between runs. Instructions counted by
callgrind do not: the same code, inputs and environment give the same count, whatever else the
machine is doing. The app is driven in-process (`drive_app.py`), so the count covers the app, the
SDK and its background thread, and leaves out uvicorn's HTTP parsing and the access log.

callgrind counts only the measured requests (start-up and sign-up run uninstrumented). Each
variant runs twice, with a short and a long series of requests, and the difference divided by
the extra requests is the cost of one request: what switching the count on and off costs
cancels out. Sampled transactions are chosen at random, so at a rate of 0.1 the count still
varies by about 2%.

Besides the template's own setups, the same baked app is measured with Sentry set up as others
set it up (`benchmarks/entries/`), and on PostgreSQL when a server answers at `--postgres`.

    python -m benchmarks.instructions [--requests 400] [--endpoints users-me health checkout]
        [--variants no-dsn sentry-0.1 ...]
    python -m benchmarks.instructions --publish docs/benchmarks/raw/instructions-DATE.json
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import drive_app, publish, report, run, services

ENTRIES_DIR = services.BENCHMARKS_DIR / "entries"
# Name: the entry module (None: the baked project's own), environment, database, description.
VARIANTS = {
    "no-dsn": (None, {"SENTRY_DSN": ""}, "sqlite", "the template, no DSN"),
    "sentry-0.0": (
        None,
        {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0"},
        "sqlite",
        "the template, no transaction sampled",
    ),
    "sentry-0.1": (
        None,
        {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0.1"},
        "sqlite",
        "the template at its production settings",
    ),
    "sentry-1.0": (
        None,
        {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "1.0"},
        "sqlite",
        "the template, every request traced",
    ),
    "sdk-minimal": (
        "sdk_minimal",
        {"SENTRY_DSN": "sink"},
        "sqlite",
        "`sentry_sdk.init(dsn, traces_sample_rate=0.1)`",
    ),
    "sdk-stream": (
        "sdk_stream",
        {"SENTRY_DSN": "sink"},
        "sqlite",
        'sdk-minimal with `trace_lifecycle="stream"` (span streaming)',
    ),
    "guide-sampled": (
        "guide_sampled",
        {"SENTRY_DSN": "sink"},
        "sqlite",
        "first guide: 10% traced, 10% of those profiled",
    ),
    "guide-traces-all": (
        "guide_traces_all",
        {"SENTRY_DSN": "sink"},
        "sqlite",
        "second guide: FastAPI and Starlette integrations, every request traced",
    ),
    "starter": (
        "starter",
        {"SENTRY_DSN": "sink"},
        "sqlite",
        "`sentry_sdk.init(dsn, enable_tracing=True)`",
    ),
    "pg-no-dsn": (None, {"SENTRY_DSN": ""}, "postgresql", "PostgreSQL, no DSN"),
    "pg-sentry-0.1": (
        None,
        {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0.1"},
        "postgresql",
        "PostgreSQL, production settings",
    ),
}
# The setups of others that the template's production settings are compared with.
OTHERS = ("sdk-minimal", "guide-sampled", "guide-traces-all", "starter")
SHORT_SERIES = 48
_COLLECTED = re.compile(r"Collected : (\d+)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=400, help="extra requests of the long series"
    )
    parser.add_argument(
        "--endpoints",
        nargs="+",
        choices=drive_app.ENDPOINTS,
        default=list(drive_app.ENDPOINTS),
        metavar="ENDPOINT",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        metavar="VARIANT",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="server for the PostgreSQL variants; its own database is created and dropped",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        help="raw counts of an earlier run (docs/benchmarks/raw/instructions-*.json) to "
        "publish alongside, for the endpoints and variants not measured again",
    )
    parser.add_argument(
        "--publish",
        type=Path,
        help="write the docs from the raw counts of an earlier run, measuring nothing",
    )
    parser.add_argument("--work-dir", type=Path, default=run.TEMPLATE_DIR / ".bench")
    parser.add_argument("--docs-dir", type=Path, default=run.TEMPLATE_DIR / "docs")
    parser.add_argument("--no-docs", action="store_true", help="print the table, write nothing")
    return parser.parse_args()


def count_instructions(project: Path, module: str, env: dict, endpoint: str, requests: int) -> int:
    """Instructions callgrind counts while the process serves `requests` requests."""
    python = project / ".venv" / "bin" / "python"
    env = own_sqlite_database(env, requests)
    command = [
        *services.CALLGRIND,
        "--callgrind-out-file=/dev/null",
        str(python),
        str(services.BENCHMARKS_DIR / "drive_app.py"),
        module,
        endpoint,
        str(requests),
        "--callgrind",
    ]
    finished = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    match = _COLLECTED.search(finished.stderr)
    if finished.returncode != 0 or match is None:
        raise RuntimeError(
            f"{module} {endpoint} with {requests} requests failed:\n{finished.stderr[-2000:]}"
        )
    return int(match.group(1))


def own_sqlite_database(env: dict, series: int) -> dict:
    """A copy of the SQLite database for one series: two series writing one file lock it."""
    prefix = "sqlite+aiosqlite:///"
    if not env["DATABASE_URL"].startswith(prefix):
        return env
    source = Path(env["DATABASE_URL"].removeprefix(prefix))
    copy = source.with_name(f"{source.stem}-{series}{source.suffix}")
    shutil.copyfile(source, copy)
    return {**env, "DATABASE_URL": prefix + str(copy)}


def per_request(project: Path, module: str, env: dict, endpoint: str, extra: int) -> int:
    # Both series of a variant at once: callgrind counts the same on a busy machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        short, long = pool.map(
            lambda requests: count_instructions(project, module, env, endpoint, requests),
            (SHORT_SERIES, SHORT_SERIES + extra),
        )
    return round((long - short) / extra)


def markdown_table(counts: dict[str, dict[str, int]]) -> str:
    """One row per endpoint and variant; a PostgreSQL variant is compared with pg-no-dsn."""
    lines = [
        "| endpoint | variant | instructions per request | no DSN / variant |",
        "|---|---|---|---|",
    ]
    for endpoint, by_variant in counts.items():
        for variant, instructions in by_variant.items():
            baseline = by_variant.get(baseline_of(variant))
            ratio = (
                "-"
                if baseline is None or variant == baseline_of(variant)
                else f"{baseline / instructions:.2f}x"
            )
            lines.append(f"| {endpoint} | {variant} | {instructions / 1e6:.2f} M | {ratio} |")
    return "\n".join(lines)


def with_previous(
    previous: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """The counts of this run, completed by those of an earlier one, in the order of VARIANTS."""
    merged = {}
    for endpoint in dict.fromkeys([*previous, *counts]):
        both = {**previous.get(endpoint, {}), **counts.get(endpoint, {})}
        merged[endpoint] = {v: both[v] for v in VARIANTS if v in both}
    return merged


def baseline_of(variant: str) -> str:
    return "pg-no-dsn" if variant.startswith("pg-") else "no-dsn"


def cheaper_than_others(counts: dict[str, dict[str, int]]) -> list[str]:
    """Lines saying, per endpoint, whether the template beats every other setup measured."""
    lines = []
    for endpoint, by_variant in counts.items():
        template = by_variant.get("sentry-0.1")
        others = {v: by_variant[v] for v in OTHERS if v in by_variant}
        if template is None or not others:
            continue
        cheapest = min(others, key=others.__getitem__)
        verdict = "cheaper" if template < others[cheapest] else "NOT cheaper"
        lines.append(
            f"- {endpoint}: the template ({template / 1e6:.2f} M) is {verdict} than every "
            f"other setup; the cheapest of them is {cheapest} ({others[cheapest] / 1e6:.2f} M)"
        )
    return lines


def floor_lines(counts: dict[str, dict[str, int]]) -> list[str]:
    """Per endpoint, what Sentry adds to every request, and to the average one at 0.1."""
    lines = []
    for endpoint, by_variant in counts.items():
        baseline, unsampled = by_variant.get("no-dsn"), by_variant.get("sentry-0.0")
        sampled = by_variant.get("sentry-0.1")
        if baseline is None or unsampled is None or sampled is None:
            continue
        lines.append(
            f"- {endpoint}: +{(unsampled - baseline) / 1e6:.2f} M on every request with no "
            f"transaction sampled (no DSN / sentry-0.0 = {baseline / unsampled:.2f}x), "
            f"+{(sampled - baseline) / 1e6:.2f} M on average at 0.1 "
            f"({baseline / sampled:.2f}x)"
        )
    return lines


def postgres_project(args: argparse.Namespace, env: dict) -> tuple[Path, str]:
    """The project baked for PostgreSQL, migrated and seeded into a database of its own."""
    database = f"bench_instructions_{os.getpid()}"
    admin = args.postgres
    for sql in (
        f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
        f"CREATE DATABASE {database}",
    ):
        subprocess.run(["psql", admin, "-qc", sql], check=True)
    url = admin.rsplit("/", 1)[0] + f"/{database}"
    env["DATABASE_URL"] = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    project = run.prepare_project(
        args.work_dir / "postgresql", env, extra_context={"database": "postgresql"}
    )
    return project, database


def drop_database(args: argparse.Namespace, database: str) -> None:
    subprocess.run(
        [
            "psql",
            args.postgres,
            "-qc",
            f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
        ],
        check=True,
    )


def main() -> None:
    args = parse_args()
    if args.publish:
        raw = json.loads(args.publish.read_text())
        counts = raw.pop("counts")
        print(markdown_table(counts))
        write_docs(args.docs_dir, counts, raw.pop("requests_per_series", 400), raw)
        return
    args.work_dir = args.work_dir.resolve()
    extra = args.requests - args.requests % 8 or 8  # the driver runs eight workers
    services.ensure_debian_package("valgrind")
    env = run.base_env(args.work_dir)
    projects = {"sqlite": (run.prepare_project(args.work_dir, env), env)}
    database = None
    if any(VARIANTS[v][2] == "postgresql" for v in args.variants):
        pg_env = dict(env)
        project, database = postgres_project(args, pg_env)
        projects["postgresql"] = (project, pg_env)
    counts: dict[str, dict[str, int]] = {}
    try:
        with services.envelope_sink() as (dsn, _):
            for endpoint in args.endpoints:
                counts[endpoint] = {}
                for variant in args.variants:
                    entry, overrides, db, _ = VARIANTS[variant]
                    project, db_env = projects[db]
                    package = run.package_name(project)
                    variant_env = {
                        **db_env,
                        "BENCH_PACKAGE": package,
                        "PYTHONPATH": str(ENTRIES_DIR),
                        **{k: dsn if v == "sink" else v for k, v in overrides.items()},
                    }
                    module = entry or f"{package}.main"
                    counts[endpoint][variant] = per_request(
                        project, module, variant_env, endpoint, extra
                    )
                    print(
                        f"{endpoint:9s} {variant:13s} {counts[endpoint][variant]:>10,} "
                        "instructions/request",
                        flush=True,
                    )
    finally:
        if database:
            drop_database(args, database)
    if args.previous:
        counts = with_previous(json.loads(args.previous.read_text())["counts"], counts)
    print(markdown_table(counts))
    print("\n".join(cheaper_than_others(counts)))
    if not args.no_docs:
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        versions = publish.machine(projects["sqlite"][0], wrk_version="")
        write_docs(args.docs_dir, counts, extra, {"when": when, **versions})


def write_docs(
    docs_dir: Path, counts: dict[str, dict[str, int]], extra: int, run_info: dict
) -> None:
    """The table, the verdicts, the chart and the raw counts; `run_info` has when and versions."""
    when = run_info["when"]
    versions = {k: v for k, v in run_info.items() if k != "when"}
    target = docs_dir / "benchmarks" / "instructions.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    variants = "\n".join(
        f"- **{name}**: {VARIANTS[name][3]}"
        for name in dict.fromkeys(v for by in counts.values() for v in by)
    )
    chart = target.parent / "instructions.png"
    report.draw_instruction_chart(
        counts,
        chart,
        f"Instructions per request ({when[:10]}, Python {versions['python']}, "
        f"sentry-sdk {versions['sentry_sdk']})",
    )
    raw = target.parent / "raw" / f"instructions-{when[:10]}.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(
        json.dumps(
            {"when": when, **versions, "requests_per_series": extra, "counts": counts},
            indent=2,
        )
    )
    target.write_text(
        DOC_TEMPLATE.format(
            when=when,
            extra=extra,
            table=markdown_table(counts),
            verdicts="\n".join(cheaper_than_others(counts)),
            floors="\n".join(floor_lines(counts)) or "- not measured in this run",
            variants=variants,
            chart=chart.name,
            **versions,
        )
    )
    print(f"wrote {target} and {chart}")


DOC_TEMPLATE = """\
# What Sentry costs per request, in instructions

Measured with `make bench-instructions` on {when} (Python {python}, sentry-sdk
{sentry_sdk}). callgrind counts the instructions of the baked project serving requests
in-process (no uvicorn, no network), {extra} requests per measurement after start-up, sign-up
and warm-up, each in a task of its own as uvicorn runs them. The same app, built by the same
factory, is measured with Sentry set up in several ways:

{variants}

The template's variants run its own entry module (`main.py`); the others initialise Sentry as
written, then build the app with the factory. The continuous profiler is off in every variant
(callgrind slows the process down fifty-fold, which stretches the profiler's sampling clock);
what it costs is measured in CPU seconds in [the throughput benchmark](../benchmarks.md).
guide-sampled's transaction profiler (`profiles_sample_rate`) is left on, as the guide writes it.

Unlike requests per second, these counts do not depend on what else the machine is doing; at a
rate of 0.1, which requests are sampled is left to chance and moves the count by about 2%.

{table}

{verdicts}

What Sentry adds to a request of the template, with its production settings:

{floors}

Most of what every request pays is the SDK's own request handling (a scope per request, the
FastAPI and Starlette integrations' wrappers), which the template keeps; the average at 0.1
adds the sampled transactions, which the SDK builds and sends. The probes skip the SDK's
per-request scope and transaction (`UninstrumentedProbes`), but not the wrappers that the
Starlette and FastAPI integrations put on every middleware and route handler class: those are
most of what health still pays.

sdk-stream is the SDK's span streaming (`trace_lifecycle="stream"`) on top of sdk-minimal. The
template stays with transactions: its own spans and the SQL spans use the transaction API, which
under span streaming hands out spans that record nothing; `before_send_span` cannot drop a span
as `before_send_transaction` drops a trace; and Bugsink, the self-hosted server the delivery
tests send to, refuses span items as it refuses transactions, so no test could show them
delivered.

![Instructions per request]({chart})
"""


if __name__ == "__main__":
    main()
