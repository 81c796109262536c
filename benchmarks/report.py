"""Turn the raw runs into ratios, a Markdown table and a chart."""

import statistics
from pathlib import Path

BASELINE = "no-dsn"
CEILING = "ceiling"
# What the product aims for with Sentry on at production settings, per endpoint.
THROUGHPUT_TARGETS = {"health": 0.90, "users-me": 0.85, "checkout": 0.85}
P99_LIMIT = 1.3


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(runs: list[dict]) -> list[dict]:
    """One row per endpoint and variant; ratios pair each run with no-DSN of the same round."""
    baseline = {(run["endpoint"], run["round"]): run for run in runs if run["variant"] == BASELINE}
    rows: dict[tuple[str, str], dict] = {}
    for run in runs:
        row = rows.setdefault(
            (run["endpoint"], run["variant"]),
            {"endpoint": run["endpoint"], "variant": run["variant"], "runs": []},
        )
        row["runs"].append(run)
    summary = []
    for (endpoint, variant), row in rows.items():
        own = row["runs"]
        paired = [(run, baseline.get((endpoint, run["round"]))) for run in own]
        paired = [(run, base) for run, base in paired if base is not None]
        summary.append(
            {
                "endpoint": endpoint,
                "variant": variant,
                "rps": _spread([run["rps"] for run in own]),
                "p50_ms": _spread([run["p50_ms"] for run in own]),
                "p99_ms": _spread([run["p99_ms"] for run in own]),
                "cpu_us": _spread([run["cpu_us_per_request"] for run in own]),
                "rps_ratio": _spread([run["rps"] / base["rps"] for run, base in paired])
                if paired
                else None,
                "p99_ratio": _spread([run["p99_ms"] / base["p99_ms"] for run, base in paired])
                if paired
                else None,
                "failed": sum(run["failed"] for run in own),
            }
        )
    return summary


def profiler_lines(runs: list[dict], variant: str, compared_with: str) -> list[str]:
    """Per endpoint, the CPU time `variant` spent beyond `compared_with` for as many requests."""
    lines = []
    for endpoint in dict.fromkeys(run["endpoint"] for run in runs):
        own = [r for r in runs if r["endpoint"] == endpoint and r["variant"] == variant]
        other = [r for r in runs if r["endpoint"] == endpoint and r["variant"] == compared_with]
        if not own or not other:
            continue
        requests = sum(r["requests"] for r in own)
        cpu_seconds = sum(r["cpu_us_per_request"] * r["requests"] for r in own) / 1e6
        per_request = statistics.median(r["cpu_us_per_request"] for r in own)
        other_per_request = statistics.median(r["cpu_us_per_request"] for r in other)
        extra_seconds = (per_request - other_per_request) * requests / 1e6
        lines.append(
            f"- {endpoint}: {cpu_seconds:.1f} CPU s for {requests} requests, "
            f"{extra_seconds:+.1f} s against {compared_with} for as many "
            f"({per_request - other_per_request:+.0f} µs, "
            f"{per_request / other_per_request - 1:+.0%} per request)"
        )
    return lines


def _range(spread: dict | None, digits: int, suffix: str = "") -> str:
    if spread is None:
        return "-"
    median, low, high = (f"{spread[key]:.{digits}f}" for key in ("median", "min", "max"))
    return f"{median}{suffix} ({low}–{high})"


def markdown_table(summary: list[dict]) -> str:
    header = (
        "| endpoint | variant | requests/s | p50 ms | p99 ms | throughput vs no DSN "
        "| p99 vs no DSN | server CPU µs/request | failed |"
    )
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for row in summary:
        comparable = row["variant"] != BASELINE
        lines.append(
            f"| {row['endpoint']} | {row['variant']} | {_range(row['rps'], 0)} "
            f"| {_range(row['p50_ms'], 1)} | {_range(row['p99_ms'], 1)} "
            f"| {_range(row['rps_ratio'], 2, 'x') if comparable else '-'} "
            f"| {_range(row['p99_ratio'], 2, 'x') if comparable else '-'} "
            f"| {_range(row['cpu_us'], 0)} | {row['failed']} |"
        )
    return "\n".join(lines)


def draw_chart(summary: list[dict], path: Path, title: str) -> None:
    """Bars of throughput relative to no DSN, with the run-to-run range as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        row for row in summary if row["rps_ratio"] and row["variant"] not in (BASELINE, CEILING)
    ]
    endpoints = list(dict.fromkeys(row["endpoint"] for row in rows))
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    width = 0.8 / max(len(variants), 1)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    for index, variant in enumerate(variants):
        xs, heights, below, above = [], [], [], []
        for position, endpoint in enumerate(endpoints):
            match = [r for r in rows if r["endpoint"] == endpoint and r["variant"] == variant]
            if not match:
                continue
            ratio = match[0]["rps_ratio"]
            xs.append(position + (index - (len(variants) - 1) / 2) * width)
            heights.append(ratio["median"])
            below.append(ratio["median"] - ratio["min"])
            above.append(ratio["max"] - ratio["median"])
        bars = axes.bar(xs, heights, width, yerr=[below, above], capsize=3, label=variant)
        axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)
    for position, endpoint in enumerate(endpoints):
        target = THROUGHPUT_TARGETS.get(endpoint)
        if target:
            axes.hlines(
                target,
                position - 0.45,
                position + 0.45,
                colors="black",
                linestyles="dashed",
            )
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xticks(range(len(endpoints)), endpoints)
    axes.set_ylabel("requests/s relative to no DSN")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def draw_instruction_chart(counts: dict[str, dict[str, int]], path: Path, title: str) -> None:
    """Bars of millions of instructions per request, one group per endpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    endpoints = list(counts)
    variants = list(dict.fromkeys(v for by in counts.values() for v in by))
    width = 0.85 / max(len(variants), 1)
    figure, axes = plt.subplots(figsize=(11, 5), dpi=100)
    for index, variant in enumerate(variants):
        xs, heights = [], []
        for position, endpoint in enumerate(endpoints):
            if variant in counts[endpoint]:
                xs.append(position + (index - (len(variants) - 1) / 2) * width)
                heights.append(counts[endpoint][variant] / 1e6)
        bars = axes.bar(xs, heights, width, label=variant)
        axes.bar_label(bars, fmt="%.1f", padding=2, fontsize=6)
    axes.set_xticks(range(len(endpoints)), endpoints)
    axes.set_ylabel("million instructions per request (lower is better)")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, ncols=2)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
