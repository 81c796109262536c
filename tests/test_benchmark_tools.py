"""The benchmark's own pieces: the envelope sink, the ratios it reports and the server count."""

import http.client
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from benchmarks import instructions, report, services


def test_the_sink_acknowledges_every_envelope_on_one_connection():
    with services.envelope_sink() as (dsn, received):
        url = urllib.parse.urlsplit(dsn)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        statuses = []
        for body in (b"{}\n{}\n", b"x" * 70_000, b""):
            connection.request("POST", "/api/1/envelope/", body=body)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()

    assert statuses == [200, 200, 200]
    assert received == [3]


def run(round_number: int, variant: str, rps: float, p99_ms: float) -> dict:
    return {
        "round": round_number,
        "endpoint": "health",
        "variant": variant,
        "rps": rps,
        "p50_ms": p99_ms / 4,
        "p99_ms": p99_ms,
        "cpu_us_per_request": 1e6 / rps,
        "failed": 0,
    }


def test_each_round_is_compared_with_no_dsn_of_the_same_round():
    runs = [
        run(0, "no-dsn", 100, 10),
        run(0, "sentry-0.1", 50, 20),
        run(1, "sentry-0.1", 180, 12),
        run(1, "no-dsn", 200, 10),
    ]

    (baseline, sentry) = report.summarise(runs)

    assert baseline["variant"] == "no-dsn"
    assert sentry["rps_ratio"] == pytest.approx({"median": 0.7, "min": 0.5, "max": 0.9})
    assert sentry["p99_ratio"]["max"] == pytest.approx(2.0)
    table = report.markdown_table([baseline, sentry])
    assert "| health | sentry-0.1 | 115 (50–180) |" in table
    assert "| 0.70x (0.50–0.90) |" in table


def test_instruction_counts_are_compared_with_no_dsn():
    counts = {"health": {"no-dsn": 900_000, "sentry-0.1": 1_000_000}}

    table = instructions.markdown_table(counts)

    assert "| health | no-dsn | 0.90 M | - |" in table
    assert "| health | sentry-0.1 | 1.00 M | 0.90x |" in table


def test_postgresql_variants_are_compared_with_postgresql_without_dsn():
    counts = {
        "users-me": {
            "no-dsn": 2_000_000,
            "sentry-0.1": 2_500_000,
            "starter": 5_000_000,
            "pg-no-dsn": 3_000_000,
            "pg-sentry-0.1": 4_000_000,
        }
    }

    table = instructions.markdown_table(counts)
    (verdict,) = instructions.cheaper_than_others(counts)

    assert "| users-me | pg-no-dsn | 3.00 M | - |" in table
    assert "| users-me | pg-sentry-0.1 | 4.00 M | 0.75x |" in table
    assert "| users-me | starter | 5.00 M | 0.40x |" in table
    assert "is cheaper than every other setup" in verdict
    counts["users-me"]["sdk-minimal"] = 2_400_000
    (verdict,) = instructions.cheaper_than_others(counts)
    assert "NOT cheaper" in verdict
    assert "sdk-minimal (2.40 M)" in verdict


def test_the_profilers_cost_is_its_extra_cpu_time_for_as_many_requests():
    runs = [
        {**run(0, "sentry-0.1", 100, 10), "requests": 1000, "cpu_us_per_request": 100},
        {
            **run(0, "sentry-0.1-profiled", 100, 10),
            "requests": 1000,
            "cpu_us_per_request": 150,
        },
        {
            **run(1, "sentry-0.1-profiled", 100, 10),
            "requests": 3000,
            "cpu_us_per_request": 110,
        },
    ]

    (line,) = report.profiler_lines(runs, "sentry-0.1-profiled", "sentry-0.1")

    assert line == (
        "- health: 0.5 CPU s for 4000 requests, +0.1 s against sentry-0.1 for as many "
        "(+30 µs, +30% per request)"
    )


def test_what_sentry_adds_to_every_request_and_to_the_average_one():
    counts = {
        "users-me": {
            "no-dsn": 2_000_000,
            "sentry-0.0": 2_500_000,
            "sentry-0.1": 3_000_000,
        },
        "health": {"no-dsn": 500_000},
    }

    (line,) = instructions.floor_lines(counts)

    assert line == (
        "- users-me: +0.50 M on every request with no transaction sampled "
        "(no DSN / sentry-0.0 = 0.80x), +1.00 M on average at 0.1 (0.67x)"
    )


def count_server_instructions(
    directory: Path, path: str, requests: int
) -> subprocess.CompletedProcess:
    """server_instructions run on Python's own file server of `directory`."""
    server = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.server_instructions",
            *("--command", server, "--cwd", str(directory), "--ready-path", "/"),
            *("--path", path, "--warm-up", "5", "--requests", str(requests), "--drain", "0"),
        ],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_server_instructions_counts_the_requests_and_not_the_start(tmp_path):
    (tmp_path / "index.html").write_text("<p>counted</p>\n")

    per_request = {}
    for requests in (20, 40):
        result = count_server_instructions(tmp_path, "/", requests)
        assert result.returncode == 0, result.stderr
        per_request[requests] = json.loads(result.stdout)["instructions_per_request"]

    # The interpreter's start costs millions of instructions: counted once, it would make
    # 20 requests look far dearer each than 40.
    assert per_request[20] > 10_000
    assert per_request[20] == pytest.approx(per_request[40], rel=0.25)


def test_server_instructions_stops_at_the_first_answer_that_is_not_200(tmp_path):
    (tmp_path / "index.html").write_text("<p>ready</p>\n")

    result = count_server_instructions(tmp_path, "/missing", 5)

    assert result.returncode != 0
    assert "GET /missing answered 404, not 200" in result.stderr
