"""Write a run into the docs: the Markdown table, the chart of ratios and the raw numbers."""

import json
import os
import platform
import subprocess
from pathlib import Path

from benchmarks import report


def machine(project: Path, wrk_version: str) -> dict:
    probe = "import platform, sentry_sdk; print(platform.python_version(), sentry_sdk.VERSION)"
    python = project / ".venv" / "bin" / "python"
    python_version, sdk_version = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": python_version,
        "sentry_sdk": sdk_version,
        "wrk": wrk_version,
    }


def write_docs(docs_dir: Path, record: dict, table: str) -> None:
    raw_dir = docs_dir / "benchmarks" / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    stamp = record["when"].replace(":", "").replace("+0000", "Z")
    (raw_dir / f"{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    machine_line = (
        "{cores} cores of {cpu}, {os}; Python {python}, sentry-sdk {sentry_sdk}, wrk {wrk}"
    ).format(**record["machine"])
    settings = record["settings"]
    report.draw_chart(
        record["summary"],
        docs_dir / "benchmarks" / "ratios.png",
        "Throughput with Sentry relative to no DSN "
        f"({record['when'][:10]}, {record['machine']['cores']} cores, "
        f"Python {record['machine']['python']}, sentry-sdk {record['machine']['sentry_sdk']})",
    )
    starts = record["start_seconds"]
    start_lines = "\n".join(
        f"- {variant}: median {values['median']:.2f} s, slowest {values['max']:.2f} s "
        f"(CPU time of the process: median {values['cpu_median']:.2f} s)"
        for variant, values in starts.items()
    )
    profiler = (
        "\n".join(report.profiler_lines(record["runs"], "sentry-0.1-profiled", "sentry-0.1"))
        or "- not measured in this run"
    )
    text = DOC_TEMPLATE.format(
        profiler_lines=profiler,
        when=record["when"],
        machine=machine_line,
        duration=settings["duration_s"],
        rounds=settings["rounds"],
        connections=settings["connections"],
        table=table,
        start_lines=start_lines,
        envelopes=record["envelopes_received"],
        raw=f"benchmarks/raw/{stamp}.json",
    )
    (docs_dir / "benchmarks.md").write_text(text)
    print(f"wrote {docs_dir / 'benchmarks.md'}")


DOC_TEMPLATE = """\
# What Sentry costs per request

Measured with `make bench` on {when}: {machine}.

The default project is baked, migrated and seeded, then served by uvicorn with one worker in
`ENVIRONMENT=production`; wrk loads it over loopback with {connections} connections, {duration} s
per measurement, {rounds} rounds, the order of the variants rotated every round. Variants:

- **no-dsn**: `SENTRY_DSN` empty, the SDK is not initialised;
- **sentry-0.1**: the production settings (errors, user, tags, breadcrumbs, tracing at 0.1),
  sending to a local sink in another process that accepts every envelope;
- **sentry-1.0**: the same with every request traced;
- **sentry-0.1-profiled**: the production settings in a process that runs the continuous
  profiler (by default one process in ten does); its extra server CPU per request over
  sentry-0.1 is what profiling costs;
- **ceiling**: a bare Starlette JSON endpoint, what this machine serves at most.

Endpoints: `GET /health`, `GET /api/v1/users/me` (bearer token, one database read) and
`POST /api/v1/checkout` (a new order per request, each with its own `Idempotency-Key`).
Profiling is off in every other variant (`SENTRY_PROFILE_SESSION_SAMPLE_RATE=0`).

Cells give the median of the rounds and, in brackets, the lowest and highest. Ratios compare each
round with the no-DSN measurement of the same round.

{table}

![Throughput relative to no DSN](benchmarks/ratios.png)

Dashed lines: the targets, 0.90x for health checks, 0.85x for the other endpoints (p99 at most
1.3x).

What the continuous profiler costs, in server CPU time of the profiled process over its wrk
runs (the median of its rounds against the median of sentry-0.1's):

{profiler_lines}

Process start to the first 200 on `/health`:

{start_lines}

Instructions per request, counted by callgrind and so unmoved by other work on the machine:
[benchmarks/instructions.md](benchmarks/instructions.md) (`make bench-instructions`).
Against the most used starter's own backend, on the same PostgreSQL:
[benchmarks/starter.md](benchmarks/starter.md).

The sink received {envelopes} envelopes. Raw numbers: [{raw}]({raw}); the other files in
`benchmarks/raw/` are other runs. On a machine shared with other work the ratios of two runs can
differ by 0.1 to 0.2, so compare runs made on a quiet machine, or several.
"""
