"""Latency and memory of the baked service when its error server is off, down, hung or failing.

Run from the repository root: `make bench-delivery` (or `.venv/bin/python -m benchmarks.delivery`).
It bakes the default project into a temporary directory, installs it, then serves it once per
error-server state and sends the same requests to each: an unhandled error (`/debug/sentry`), a
checkout whose payment provider is down (a handled error) and a plain read (`/api/v1/products`).
Every request is traced, so each also sends a transaction. It prints the latency of each kind of
request and the resident memory before and after, side by side, with the ratio to no DSN.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import httpx
from uv import find_uv_bin

from harness.accounts import verify_address
from harness.baking import (
    BakedProject,
    bake,
    command_env,
    replayed_answers,
    run_make,
    write_cookiecutter_config,
)
from harness.delivery import Session, service_env
from harness.error_servers import BlackHole, EnvelopeSink, dsn_for
from harness.processes import free_port
from harness.running_service import service_process

HEALTHY = "answers 200"
MODES: dict[str, Callable[[], AbstractContextManager]] = {
    "no DSN": lambda: nullcontext(None),
    HEALTHY: EnvelopeSink,
    "black-holed": BlackHole,
    "down": lambda: nullcontext(dsn_for(free_port())),
    "answers 500": lambda: EnvelopeSink(status=500),
    "answers 429": lambda: EnvelopeSink(status=429),
}
KINDS = ("unhandled error", "handled error", "plain read")


def prepare_project(workdir: Path) -> tuple[BakedProject, dict]:
    """Bake, install, migrate and seed the default project; returns it and its environment."""
    tools_bin = workdir / "tools-bin"
    tools_bin.mkdir()
    (tools_bin / "uv").symlink_to(find_uv_bin())
    config = write_cookiecutter_config(workdir)
    root = bake(workdir / "output", config)
    project = BakedProject(root, replayed_answers(config), ())
    env = command_env(tools_bin, DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'app.db'}")
    for target in ("install", "migrate", "seed"):
        result = run_make(root, target, env=env)
        if result.returncode != 0:
            sys.exit(f"make {target} failed:\n{result.stdout}")
    return project, env


def dsn_of(server: object) -> str | None:
    if server is None or isinstance(server, str):
        return server
    return server.dsn()


def measure(project: BakedProject, env: dict, dsn: str | None, rounds: int) -> dict:
    """Seconds per request of each kind, and resident memory before and after, in KiB."""
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with (
        service_process(project, service_env(env, dsn)) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        session = Session(client)
        session.sign_up(lambda email: verify_address(project.root, env, email))
        requests = {
            "unhandled error": session.hit_setup_check,
            "handled error": session.check_out,
            "plain read": lambda: client.get("/api/v1/products").raise_for_status(),
        }
        for request in requests.values():
            request()
        memory_before = service.resident_kib()
        for _ in range(rounds):
            for kind, request in requests.items():
                started = time.perf_counter()
                request()
                timings[kind].append(time.perf_counter() - started)
        memory_after = service.resident_kib()
        service.stop()
    return {"timings": timings, "memory": (memory_before, memory_after)}


def report(results: dict[str, dict]) -> None:
    medians = {
        mode: {kind: statistics.median(r["timings"][kind]) * 1000 for kind in KINDS}
        for mode, r in results.items()
    }
    totals = {mode: sum(m.values()) for mode, m in medians.items()}
    columns = [
        *KINDS,
        "all three",
        "vs no DSN",
        "vs healthy",
        "RSS KiB before -> after",
    ]
    print(
        f"\n{'error server':<13}" + "".join(f"{c:>17}" for c in columns[:-1]),
        columns[-1],
    )
    for mode, median in medians.items():
        before, after = results[mode]["memory"]
        cells = [f"{median[kind]:.1f} ms" for kind in KINDS] + [
            f"{totals[mode]:.1f} ms",
            f"x{totals[mode] / totals['no DSN']:.2f}",
            f"x{totals[mode] / totals[HEALTHY]:.2f}",
        ]
        print(f"{mode:<13}" + "".join(f"{c:>17}" for c in cells), f"  {before} -> {after}")
    print(
        "\nMedian latency per request kind; the ratios compare the sum of the three medians"
        " with the same requests with no DSN, and with an error server that answers 200."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="requests of each kind per mode")
    parser.add_argument(
        "--also",
        choices=[mode for mode in MODES if mode not in ("no DSN", HEALTHY)],
        nargs="*",
        help="error server states to measure besides no DSN and a healthy one (default: all)",
    )
    arguments = parser.parse_args()
    modes = {
        mode: factory
        for mode, factory in MODES.items()
        if arguments.also is None or mode in ("no DSN", HEALTHY, *arguments.also)
    }
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as workdir:
        project, env = prepare_project(Path(workdir))
        results = {}
        for mode, server_factory in modes.items():
            with server_factory() as server:
                print(f"measuring: {mode}", flush=True)
                results[mode] = measure(project, env, dsn_of(server), arguments.rounds)
        report(results)


if __name__ == "__main__":
    main()
