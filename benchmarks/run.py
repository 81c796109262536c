"""What Sentry costs on the request path of the baked service, measured side by side.

Bakes the default project, migrates and seeds it, starts one uvicorn process (one worker) per
variant and loads each endpoint with wrk over loopback, alternating the variants round by round
so that drift on a shared machine hits them all alike. Writes `docs/benchmarks.md`, a chart of
the ratios and the raw numbers of the run.

    python -m benchmarks.run [--duration 10] [--rounds 3] [--connections 32]
"""

import argparse
import datetime
import json
import os
import secrets
import statistics
import subprocess
import uuid
from pathlib import Path

from cookiecutter.main import cookiecutter
from uv import find_uv_bin

from benchmarks import publish, report, services
from harness.accounts import verify_address
from harness.processes import free_port, stop_process

TEMPLATE_DIR = services.BENCHMARKS_DIR.parent
LOAD_SCRIPT = services.BENCHMARKS_DIR / "load.lua"
PASSWORD = "benchmark password"
# PYTHONDONTWRITEBYTECODE would make every start compile the whole app again.
ISOLATED_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)

# Environment of each variant on top of the common one; SENTRY_DSN is filled in with the sink.
VARIANTS = {
    "no-dsn": {"SENTRY_DSN": ""},
    "sentry-0.1": {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "0.1"},
    "sentry-1.0": {"SENTRY_DSN": "sink", "SENTRY_TRACES_SAMPLE_RATE": "1.0"},
    # The production settings in the one process of ten that runs the continuous profiler.
    "sentry-0.1-profiled": {
        "SENTRY_DSN": "sink",
        "SENTRY_TRACES_SAMPLE_RATE": "0.1",
        "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "1.0",
    },
}
ENDPOINTS = {
    "health": {"method": "GET", "path": "/health"},
    "users-me": {"method": "GET", "path": "/api/v1/users/me", "auth": True},
    "checkout": {
        "method": "POST",
        "path": "/api/v1/checkout",
        "auth": True,
        "fresh_key": True,
    },
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--starts", type=int, default=5, help="process starts to time per variant")
    parser.add_argument("--work-dir", type=Path, default=TEMPLATE_DIR / ".bench")
    parser.add_argument("--docs-dir", type=Path, default=TEMPLATE_DIR / "docs")
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(ENDPOINTS))
    parser.add_argument("--no-docs", action="store_true", help="print the table, write nothing")
    return parser.parse_args()


def ensure_wrk() -> str:
    services.ensure_debian_package("wrk")
    # wrk prints its version in the usage text and exits non-zero.
    usage = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return usage.stdout.split()[1]


def base_env(work_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED_VARIABLES}
    uv_only = work_dir / "uv-only"
    uv_only.mkdir(parents=True, exist_ok=True)
    if not (uv_only / "uv").exists():
        (uv_only / "uv").symlink_to(find_uv_bin())
    env["PATH"] = os.pathsep.join([str(uv_only), env.get("PATH", "")])
    env.update(
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_hex(32),
        # Production refuses the console backend; nothing listens there, so emails fail at once.
        EMAIL_BACKEND="smtp",
        SMTP_PORT=str(free_port()),
        DATABASE_URL=f"sqlite+aiosqlite:///{work_dir / 'bench.db'}",
        ACCESS_TOKEN_EXPIRE_MINUTES="720",
        # One process either profiles or not; keep chance out of the comparison.
        SENTRY_PROFILE_SESSION_SAMPLE_RATE="0",
    )
    return env


def prepare_project(work_dir: Path, env: dict, extra_context: dict | None = None) -> Path:
    """Bake the default project, install it, and give it a fresh migrated, seeded database."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "cookiecutter-config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(work_dir / 'replay'))}\n")
    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(work_dir),
            overwrite_if_exists=True,
            config_file=str(config),
            extra_context=extra_context,
        )
    )
    (work_dir / "bench.db").unlink(missing_ok=True)
    for target in ("install", "migrate", "seed"):
        subprocess.run(["make", "--no-print-directory", target], cwd=project, env=env, check=True)
    # Deployments start from compiled bytecode (pip and image builds compile; uv does not).
    python = str(project / ".venv" / "bin" / "python")
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            ".venv/lib",
            package_name(project),
        ],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return project


def package_name(project: Path) -> str:
    (main,) = project.glob("*/main.py")
    return main.parent.name


def variant_env(env: dict, variant: str, dsn: str) -> dict:
    overrides = {k: dsn if v == "sink" else v for k, v in VARIANTS[variant].items()}
    return {**env, **overrides}


def time_starts(project: Path, env: dict, dsn: str, count: int) -> dict:
    app = f"{package_name(project)}.main:app"
    starts = {}
    for variant in ("no-dsn", "sentry-0.1"):
        wall, cpu = [], []
        for _ in range(count):
            port = free_port()
            command = services.uvicorn_command(project, app, port)
            seconds = services.measure_start(
                command, cwd=project, env=variant_env(env, variant, dsn), port=port
            )
            wall.append(seconds[0])
            cpu.append(seconds[1])
        starts[variant] = {
            "median": statistics.median(wall),
            "max": max(wall),
            "cpu_median": statistics.median(cpu),
        }
        print(f"start to first 200 on /health, {variant}: {starts[variant]}", flush=True)
    return starts


def sign_in(base_url: str, project: Path, env: dict) -> str:
    email = f"bench_{uuid.uuid4().hex[:8]}@example.com"
    user = {"email": email, "username": email.split("@")[0], "password": PASSWORD}
    services.request_json(base_url, "POST", "/api/v1/auth/register", json=user)
    verify_address(project, env, email)
    token = services.request_json(
        base_url,
        "POST",
        "/api/v1/auth/login",
        form={"username": email, "password": PASSWORD},
    )
    return token["access_token"]


def wrk(server: services.Server, endpoint: dict, args, seconds: int) -> dict:
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint["method"],
        "BENCH_PATH": endpoint["path"],
        "BENCH_BODY": endpoint.get("body", ""),
        "BENCH_TOKEN": endpoint.get("token", ""),
        "BENCH_FRESH_KEY": "1" if endpoint.get("fresh_key") else "0",
        "BENCH_RUN_ID": uuid.uuid4().hex[:12],
    }
    command = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(LOAD_SCRIPT), server.base_url]
    cpu_before = services.cpu_seconds(server.process)
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    cpu_used = services.cpu_seconds(server.process) - cpu_before
    result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    failed = sum(result[key] for key in result if key.endswith("errors") or key == "non_2xx")
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "requests": result["requests"],
        "cpu_us_per_request": cpu_used / max(result["requests"], 1) * 1e6,
        "failed": failed + result["timeouts"],
    }


def measure(servers: dict, endpoints: dict, args) -> list[dict]:
    plan = [(name, variant) for name in endpoints for variant in servers if variant != "ceiling"]
    plan.insert(1, ("health", "ceiling"))
    for name, variant in plan:
        wrk(servers[variant], endpoints[name], args, args.warmup)
    runs = []
    for round_number in range(args.rounds):
        for name, endpoint in endpoints.items():
            variants = [v for v in servers if v != "ceiling" or name == "health"]
            shift = round_number % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                result = wrk(servers[variant], endpoint, args, args.duration)
                runs.append(
                    {
                        "round": round_number,
                        "endpoint": name,
                        "variant": variant,
                        **result,
                    }
                )
                print(
                    f"round {round_number + 1}/{args.rounds} {name:9} {variant:11} "
                    f"{result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                    f"p99 {result['p99_ms']:6.1f} ms  "
                    f"cpu {result['cpu_us_per_request']:5.0f} us/req  failed {result['failed']}",
                    flush=True,
                )
    return runs


def start_servers(project: Path, env: dict, dsn: str) -> dict[str, services.Server]:
    """One service process per variant, and the ceiling app; stops them all if one fails."""
    app = f"{package_name(project)}.main:app"
    servers: dict[str, services.Server] = {}
    try:
        for variant in VARIANTS:
            port = free_port()
            command = services.uvicorn_command(project, app, port)
            servers[variant] = services.start_server(
                variant,
                command,
                cwd=project,
                env=variant_env(env, variant, dsn),
                port=port,
            )
        port = free_port()
        command = services.uvicorn_command(
            project, "ceiling:app", port, app_dir=services.BENCHMARKS_DIR
        )
        servers["ceiling"] = services.start_server(
            "ceiling", command, cwd=project, env=env, port=port
        )
    except RuntimeError:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: dict[str, services.Server]) -> None:
    for server in servers.values():
        stop_process(server.process)


def prepare_requests(endpoints: dict, base_url: str, project: Path, env: dict) -> None:
    """A signed-in user's token for the endpoints that need one, and a cart for checkout."""
    token = sign_in(base_url, project, env)
    products = services.request_json(base_url, "GET", "/api/v1/products")
    for endpoint in endpoints.values():
        if endpoint.get("auth"):
            endpoint["token"] = token
    if "checkout" in endpoints:
        cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}]}
        endpoints["checkout"]["body"] = json.dumps({**cart, "payment_token": "tok_bench"})


def main() -> None:
    args = parse_args()
    wrk_version = ensure_wrk()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(args.work_dir.resolve())
    project = prepare_project(args.work_dir.resolve(), env)
    endpoints = {name: dict(ENDPOINTS[name]) for name in args.endpoints}

    with services.envelope_sink() as (dsn, envelopes):
        starts = time_starts(project, env, dsn, args.starts)
        servers = start_servers(project, env, dsn)
        try:
            prepare_requests(endpoints, servers["no-dsn"].base_url, project, env)
            runs = measure(servers, endpoints, args)
        finally:
            stop_servers(servers)

    summary = report.summarise(runs)
    table = report.markdown_table(summary)
    print(table)
    print(f"envelopes the sink received: {envelopes}")
    if args.no_docs:
        return
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": publish.machine(project, wrk_version),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "wrk_threads": 1,
        },
        "start_seconds": starts,
        "envelopes_received": envelopes[0] if envelopes else None,
        "runs": runs,
        "summary": summary,
    }
    publish.write_docs(args.docs_dir, record, table)


if __name__ == "__main__":
    main()
