"""Take the README's screenshot: a checkout's trace as Spotlight shows it.

Bakes the default project into `.screenshot/`, runs its `make errors INBOX=spotlight`, serves
it with Spotlight and Sentry logs on and no DSN, and walks a user through sign-up, a checkout
and a receipt email, traced by a client with the Sentry SDK as a front end would be
(`checkout_journey.py`), so that the checkout and its email are one trace. Headless Chromium
(Debian's package, installed when missing), driven by playwright-core from the npm registry,
opens that trace in Spotlight's UI and saves the picture:

    python -m tools.screenshot [--output docs/spotlight-checkout-trace.png]
"""

import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks import run, services
from harness.processes import free_port, stop_process

TOOLS_DIR = Path(__file__).resolve().parent

PLAYWRIGHT = "playwright-core@1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=run.TEMPLATE_DIR / ".screenshot")
    parser.add_argument(
        "--output",
        type=Path,
        default=run.TEMPLATE_DIR / "docs" / "spotlight-checkout-trace.png",
    )
    return parser.parse_args()


def install_browser_driver(work_dir: Path) -> Path:
    """playwright-core in `work_dir/browser`, once; Chromium from Debian's packages."""
    services.ensure_debian_package("chromium")
    directory = work_dir / "browser"
    if not (directory / "node_modules" / "playwright-core").exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(directory),
                "--no-audit",
                "--no-fund",
                PLAYWRIGHT,
            ],
            check=True,
        )
    return directory


def start_spotlight(project: Path, env: dict) -> str:
    """The baked project's own `make errors INBOX=spotlight`; returns SENTRY_SPOTLIGHT."""
    port = free_port()
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "errors",
            "INBOX=spotlight",
            f"ERRORS_PORT={port}",
        ],
        cwd=project,
        env=env,
        check=True,
    )
    [url] = re.findall(r"^SENTRY_SPOTLIGHT=(.+)$", (project / ".env").read_text(), re.MULTILINE)
    return url


def walk_through_a_checkout(project: Path, base_url: str, spotlight: str) -> str:
    """The checkout of `checkout_journey.py`, run by the project's Python; its trace id."""
    journey = subprocess.run(
        [
            str(project / ".venv" / "bin" / "python"),
            str(TOOLS_DIR / "checkout_journey.py"),
            base_url,
            spotlight,
            str(project / ".venv" / "bin" / project.name),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return journey.stdout.split()[-1]


def main() -> None:
    args = parse_args()
    if not shutil.which("npm"):
        raise SystemExit("error: the screenshot needs Node.js 20 or newer with npm on PATH")
    env = {**run.base_env(args.work_dir), "ENVIRONMENT": "development"}
    project = run.prepare_project(args.work_dir, env)
    browser = install_browser_driver(args.work_dir)
    spotlight = start_spotlight(project, env)
    port = free_port()
    service_env = {**env, "SENTRY_SPOTLIGHT": spotlight, "SENTRY_LOGS": "true"}
    command = services.uvicorn_command(project, f"{run.package_name(project)}.main:app", port)
    try:
        server = services.start_server("service", command, cwd=project, env=service_env, port=port)
        try:
            trace_id = walk_through_a_checkout(project, server.base_url, spotlight)
            time.sleep(1)  # the email is sent after its response
        finally:
            stop_process(server.process)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        # Node resolves playwright-core next to the script: run a copy in that directory.
        script = browser / "screenshot_trace.mjs"
        shutil.copyfile(TOOLS_DIR / "screenshot_trace.mjs", script)
        subprocess.run(
            [
                "node",
                str(script),
                spotlight.removesuffix("/stream"),
                trace_id,
                str(args.output.resolve()),
                shutil.which("chromium") or "/usr/bin/chromium",
            ],
            cwd=browser,
            check=True,
        )
    finally:
        subprocess.run(
            ["make", "--no-print-directory", "errors-stop"],
            cwd=project,
            env=env,
            check=False,
        )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
