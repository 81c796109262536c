"""A local Spotlight: Sentry's sidecar and UI for errors, traces and logs, next to the service.

`make errors INBOX=spotlight` runs this script. It installs Spotlight from the npm registry into
`.spotlight/` with this machine's Node.js (no global install; nothing is fetched when it runs),
starts the sidecar in the background and sets SENTRY_SPOTLIGHT in `.env`. Running it again
reuses all of that. `make errors-stop` stops it. Only the standard library is used here.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import local_inbox

HOME = local_inbox.PROJECT_ROOT / ".spotlight"
BIN = HOME / "node_modules" / ".bin" / "spotlight"
STATE = HOME / "state.json"
MANIFEST = {
    "private": True,
    "description": "Spotlight for this project, installed by make errors INBOX=spotlight",
    "dependencies": {"@spotlightjs/spotlight": "4.11.8"},
    # Spotlight 4.11 answers every request with a 500 under hono 4.13.
    "overrides": {"hono": "4.12.25"},
}
MIN_NODE_MAJOR = 20
# The port the SDK sends to when SENTRY_SPOTLIGHT is just "true".
DEFAULT_PORT = 8969
STARTUP_SECONDS = 30
SERVER_HEADER = "spotlight-by-sentry"


def require_node() -> str:
    """npm's path, once node and npm are known to be there and new enough."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        sys.exit(
            f"error: Spotlight needs Node.js {MIN_NODE_MAJOR} or newer with npm on PATH "
            "(https://nodejs.org); plain `make errors` (Bugsink) needs Python only"
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        sys.exit(f"error: Spotlight needs Node.js {MIN_NODE_MAJOR} or newer; found {version}")
    return npm


def install(npm: str) -> None:
    """Spotlight into .spotlight/node_modules, again only when the pinned version changed."""
    manifest = HOME / "package.json"
    wanted = json.dumps(MANIFEST, indent=2) + "\n"
    if BIN.exists() and manifest.exists() and manifest.read_text() == wanted:
        return
    print("Installing Spotlight into .spotlight ...", flush=True)
    manifest.write_text(wanted)
    result = subprocess.run(
        [npm, "install", "--prefix", str(HOME), "--no-audit", "--no-fund", "--omit=dev"],
        cwd=HOME,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        manifest.unlink()
        sys.exit(f"error: npm install failed:\n{result.stdout}{result.stderr}")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_port(port: int | None) -> int:
    """The port of earlier runs; else the one asked for, Spotlight's own, or any free one."""
    if STATE.exists():
        chosen: int = json.loads(STATE.read_text())["port"]
        if port and port != chosen:
            print(f"Spotlight already uses port {chosen}; delete .spotlight/state.json to move it.")
        return chosen
    chosen = port or (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else local_inbox.free_port())
    STATE.write_text(json.dumps({"port": chosen}))
    return chosen


def is_ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
            return bool(response.headers.get("X-Powered-By") == SERVER_HEADER)
    except OSError:
        return False


def start(base_url: str, port: int) -> None:
    """Start the sidecar in the background unless it already answers."""
    local_inbox.start(
        [str(BIN), "server", "--port", str(port)],
        home=HOME,
        # The sidecar must not point at itself, whatever this shell says.
        env={k: v for k, v in os.environ.items() if k != "SENTRY_SPOTLIGHT"},
        ready=lambda: is_ready(base_url),
        name="Spotlight",
        startup_seconds=STARTUP_SECONDS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Spotlight next to this service.")
    parser.add_argument("--port", type=int, help="port for the first run (default: 8969)")
    parser.add_argument("--stop", action="store_true", help="stop Spotlight")
    arguments = parser.parse_args()
    if arguments.stop:
        local_inbox.stop(HOME, "Spotlight")
        return
    npm = require_node()
    HOME.mkdir(exist_ok=True)
    install(npm)
    port = choose_port(arguments.port)
    base_url = f"http://127.0.0.1:{port}"
    start(base_url, port)
    local_inbox.write_setting("SENTRY_SPOTLIGHT", f"{base_url}/stream")
    print(
        f"""
Spotlight: {base_url}  (errors, traces and logs of this machine; nothing is kept on disk)
SENTRY_SPOTLIGHT is set in .env: with or without SENTRY_DSN, events also go to Spotlight.
Add SENTRY_LOGS=true to .env to see log records too. Restart the service (make dev), then:
  curl http://127.0.0.1:8000/debug/sentry
and open {base_url}. Stop Spotlight with: make errors-stop"""
    )


if __name__ == "__main__":
    main()
