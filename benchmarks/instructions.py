"""What Sentry costs per request, in CPU instructions: a measure that a busy machine does not move.

Throughput on a shared machine drifts by 10 to 20 percent between runs. Instructions counted by
callgrind do not: the same code, inputs and environment give the same count, whatever else the
machine is doing. The app is driven in-process (`drive_app.py`), so the count covers the app, the
SDK and its background thread, and leaves out uvicorn's HTTP parsing and the access log.

Each variant runs twice, with a short and a long series of requests, and the difference divided
by the extra requests is the cost of one request: start-up and import cost cancel out. Sampled
transactions are chosen at random, so at a rate of 0.1 the count still varies by about 2%.

    python -m benchmarks.instructions [--requests 800] [--endpoints users-me health]
"""

import argparse
import datetime
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import publish, run, services

# Path, and whether the request carries a bearer token.
ENDPOINTS = {"health": ("/health", False), "users-me": ("/api/v1/users/me", True)}
VARIANTS = {
    "no-dsn": {"SENTRY_DSN": ""},
    "sentry-0.0": {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0"},
    "sentry-0.1": {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0.1"},
    "sentry-1.0": {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "1.0"},
}
SHORT_SERIES = 96
_COLLECTED = re.compile(r"Collected : (\d+)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=800, help="extra requests of the long series"
    )
    parser.add_argument(
        "--endpoints",
        nargs="+",
        choices=ENDPOINTS,
        default=list(ENDPOINTS),
        metavar="ENDPOINT",
    )
    parser.add_argument("--work-dir", type=Path, default=run.TEMPLATE_DIR / ".bench")
    parser.add_argument("--docs-dir", type=Path, default=run.TEMPLATE_DIR / "docs")
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table, write nothing"
    )
    return parser.parse_args()


def count_instructions(project: Path, env: dict, endpoint: str, requests: int) -> int:
    """Instructions callgrind counts for a whole process serving `requests` requests."""
    python = project / ".venv" / "bin" / "python"
    path, bearer = ENDPOINTS[endpoint]
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        str(python),
        str(services.BENCHMARKS_DIR / "drive_app.py"),
        f"{run.package_name(project)}.main",
        path,
        str(requests),
        *(["bearer"] if bearer else []),
    ]
    finished = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    match = _COLLECTED.search(finished.stderr)
    if finished.returncode != 0 or match is None:
        raise RuntimeError(
            f"{endpoint} with {requests} requests failed:\n{finished.stderr[-2000:]}"
        )
    return int(match.group(1))


def per_request(project: Path, env: dict, endpoint: str, extra: int) -> int:
    # Both series of a variant at once: callgrind counts the same on a busy machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        short, long = pool.map(
            lambda requests: count_instructions(project, env, endpoint, requests),
            (SHORT_SERIES, SHORT_SERIES + extra),
        )
    return round((long - short) / extra)


def markdown_table(counts: dict[str, dict[str, int]]) -> str:
    lines = [
        "| endpoint | variant | instructions per request | vs no DSN |",
        "|---|---|---|---|",
    ]
    for endpoint, by_variant in counts.items():
        baseline = by_variant["no-dsn"]
        for variant, instructions in by_variant.items():
            ratio = "-" if variant == "no-dsn" else f"{baseline / instructions:.2f}x"
            lines.append(
                f"| {endpoint} | {variant} | {instructions / 1e6:.2f} M | {ratio} |"
            )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    extra = args.requests - args.requests % 8 or 8  # the driver runs eight workers
    services.ensure_debian_package("valgrind")
    env = run.base_env(args.work_dir)
    project = run.prepare_project(args.work_dir, env)
    counts: dict[str, dict[str, int]] = {}
    with services.envelope_sink() as (dsn, _):
        for endpoint in args.endpoints:
            counts[endpoint] = {}
            for variant, overrides in VARIANTS.items():
                variant_env = {
                    **env,
                    **{k: dsn if v == "sink" else v for k, v in overrides.items()},
                }
                counts[endpoint][variant] = per_request(
                    project, variant_env, endpoint, extra
                )
                print(
                    f"{endpoint:9s} {variant:11s} {counts[endpoint][variant]:>10,} "
                    "instructions/request",
                    flush=True,
                )
    table = markdown_table(counts)
    print(table)
    if not args.no_docs:
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        target = args.docs_dir / "benchmarks" / "instructions.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        versions = publish.machine(project, wrk_version="")
        target.write_text(
            DOC_TEMPLATE.format(when=when, extra=extra, table=table, **versions)
        )
        print(f"wrote {target}")


DOC_TEMPLATE = """\
# What Sentry costs per request, in instructions

Measured with `make bench-instructions` on {when} (Python {python}, sentry-sdk
{sentry_sdk}). callgrind counts the instructions of the
baked default project serving requests in-process (no uvicorn, no network), {extra} requests per
measurement after start-up and warm-up, each in a task of its own as uvicorn runs them. The
variants are those of [the throughput benchmark](../benchmarks.md), plus **sentry-0.0**: Sentry
on with no transaction sampled, which isolates the cost every request pays.

Unlike requests per second, these counts do not depend on what else the machine is doing; at a
rate of 0.1, which requests are sampled is left to chance and moves the count by about 2%.

{table}
"""


if __name__ == "__main__":
    main()
