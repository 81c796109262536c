"""Instructions a running HTTP server process spends per request, counted by callgrind.

The server command runs under callgrind with counting off; once `--ready-path` answers 200,
`--warm-up` requests go uncounted, then counting is switched on for `--requests` sequential
requests over one keep-alive connection, and `--drain` seconds after them so that a background
thread (an SDK's transport) sends what they queued. The count covers the whole server process,
all its threads: the HTTP server's parsing and the app, the SDK and its transport thread. A
database server, or anything else in another process, is not counted.

A bearer token comes from outside: sign in first, then pass it as a header. A baked template,
installed, migrated and seeded (Sentry off here; give SENTRY_DSN a sink's DSN to count it on):

    python -m benchmarks.server_instructions --cwd orders-service \\
        --command '.venv/bin/uvicorn orders_service.main:app --host 127.0.0.1 --port {port}' \\
        --env ENVIRONMENT=production --env SECRET_KEY=... --env SENTRY_DSN= \\
        --path /api/v1/users/me --header "Authorization: Bearer $TOKEN"

Any other service is measured the same way once it runs: its command, directory, environment,
a path that answers 200 when it is ready, and the path to count.
"""

import argparse
import http.client
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.services import CALLGRIND, ensure_debian_package, wait_until_healthy
from harness.processes import free_port, stop_process


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", required=True, help="server command; {port} is replaced")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="directory to run it in")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--path", required=True, help="the path every counted request gets")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    parser.add_argument("--ready-path", default="/health")
    parser.add_argument("--ready-timeout", type=float, default=600, help="seconds")
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--drain", type=float, default=2, help="seconds counted after the last")
    parser.add_argument("--json-out", type=Path)
    return parser.parse_args()


def send_requests(port: int, path: str, headers: dict[str, str], count: int) -> None:
    """`count` sequential GETs over one keep-alive connection; any status but 200 aborts."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        for _ in range(count):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                sys.exit(f"GET {path} answered {response.status}, not 200")
    finally:
        connection.close()


def set_instrumentation(pid: int, on: bool) -> None:
    switch = ["callgrind_control", "-i", "on" if on else "off", str(pid)]
    subprocess.run(switch, check=True, stdout=subprocess.DEVNULL)


def log_tail(out_dir: str, lines: int = 20) -> str:
    return "\n".join((Path(out_dir) / "server.log").read_text().splitlines()[-lines:])


def counted_instructions(out_dir: Path) -> int:
    """The `totals:` lines of callgrind's files (`summary:` stays 0 when counting is toggled)."""
    return sum(
        int(line.split()[1])
        for out_file in out_dir.glob("callgrind.out*")
        for line in out_file.read_text(errors="replace").splitlines()
        if line.startswith("totals:")
    )


def main() -> None:
    args = parse_args()
    ensure_debian_package("valgrind")
    extra_env = dict(item.split("=", 1) for item in args.env)
    headers = dict(
        (name.strip(), value.strip()) for name, value in (h.split(":", 1) for h in args.header)
    )
    port = free_port()
    with tempfile.TemporaryDirectory() as out_dir:
        out_file = Path(out_dir) / "callgrind.out"
        command = [
            *CALLGRIND,
            f"--callgrind-out-file={out_file}",
            *shlex.split(args.command.replace("{port}", str(port))),
        ]
        with open(Path(out_dir) / "server.log", "w") as log:
            server = subprocess.Popen(
                command, cwd=args.cwd, env={**os.environ, **extra_env}, stdout=log, stderr=log
            )
        try:
            try:
                wait_until_healthy(
                    port, server, poll=0.5, path=args.ready_path, timeout=args.ready_timeout
                )
            except RuntimeError as error:
                sys.exit(f"{error}; its output ends with:\n{log_tail(out_dir)}")
            send_requests(port, args.path, headers, args.warm_up)
            set_instrumentation(server.pid, on=True)
            send_requests(port, args.path, headers, args.requests)
            time.sleep(args.drain)
            set_instrumentation(server.pid, on=False)
        finally:
            stop_process(server, signal.SIGINT, timeout=60)
        instructions = counted_instructions(Path(out_dir))
    result = {
        "path": args.path,
        "requests": args.requests,
        "instructions": instructions,
        "instructions_per_request": round(instructions / args.requests),
        "command": args.command,
        "env_keys": sorted(extra_env),
    }
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
