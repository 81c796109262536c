"""CPU time of one log record with Sentry logs off, on, and on without the service's scrubbing.

Run by a baked project's Python, from that project's directory, with the template on the path:

    PYTHONPATH=<template> .venv/bin/python -m benchmarks.log_records [RECORDS] [ROUNDS]

Sentry is on in every variant, sending through the SDK's own transport to an envelope sink on
loopback (a process of its own). Each record is an INFO line with two arguments and two extra
fields, written as JSON to stdout as in production (send stdout to /dev/null). Process time
counts every thread, the SDK's batching and sending included; rounds alternate the variants,
and the median of each is printed (to stderr).
"""

import importlib
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness.processes import free_port

SINK = Path(__file__).resolve().parent / "envelope_sink.py"


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    (entry,) = Path.cwd().glob("*/main.py")
    observability = importlib.import_module(f"{entry.parent.name}.observability")
    sentry_module = importlib.import_module(f"{entry.parent.name}.observability.sentry")
    scrubbing_before_send_log = sentry_module.make_before_send_log

    import sentry_sdk

    port = free_port()
    sink = subprocess.Popen([sys.executable, str(SINK), str(port)], stdout=subprocess.DEVNULL)
    time.sleep(1)
    logger = logging.getLogger(f"{entry.parent.name}.checkout.service")

    def cost(variant: str) -> float:
        sentry_module.make_before_send_log = (
            scrubbing_before_send_log
            if variant != "on-unscrubbed"
            else lambda **_: lambda log, hint: log
        )
        options = observability.SentryOptions(
            dsn=f"http://key@127.0.0.1:{port}/1",
            environment="production",
            release="bench",
            logs=variant != "off",
        )
        observability.init_sentry(options)
        observability.configure_logging(json_lines=True, level="INFO")
        with sentry_sdk.isolation_scope():
            sentry_sdk.set_user({"id": "42", "username": "ada"})
            started = time.process_time()
            for number in range(records):
                logger.info(
                    "Order %s paid with discount %s",
                    number,
                    "WELCOME10",
                    extra={"order_id": number, "total_cents": 1800},
                )
            sentry_sdk.flush()
            spent = time.process_time() - started
        sentry_sdk.get_client().close()
        return spent / records * 1e6

    variants = ("off", "on", "on-unscrubbed")
    costs: dict[str, list[float]] = {variant: [] for variant in variants}
    try:
        for _ in range(rounds):
            for variant in variants:
                costs[variant].append(cost(variant))
    finally:
        sink.terminate()
    for variant, values in costs.items():
        print(
            f"Sentry logs {variant:14s} {statistics.median(values):6.1f} us CPU per record "
            f"(rounds: {', '.join(f'{v:.1f}' for v in values)})",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
