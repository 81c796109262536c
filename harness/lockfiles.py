"""What a uv.lock pins and what an environment holds, both as name -> version."""

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from harness.processes import run_with_output


def error_line(output: str) -> str:
    """uv's reason, the line starting with `error:`."""
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    return line


def locked_pins(project: Path, env: dict, *options: str) -> dict[str, str]:
    """name -> version of what uv.lock installs on this interpreter, from `uv export`."""
    exported = run_with_output(
        "uv",
        "export",
        "--locked",
        "--offline",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
        *options,
        cwd=project,
        env=env,
    )
    assert exported.returncode == 0, exported.stdout
    pins = {}
    for line in exported.stdout.splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement or (marker and not Marker(marker).evaluate()):
            continue
        name, version = requirement.split("==")
        pins[canonicalize_name(name.split("[")[0])] = version.strip()
    return pins


def frozen(python: Path, env: dict) -> dict[str, str]:
    """name -> version of what is installed for `python`, as `uv pip freeze` reports it."""
    result = run_with_output(
        "uv", "pip", "freeze", "--python", str(python), cwd=python.parent, env=env
    )
    assert result.returncode == 0, result.stdout
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([^=\s@]+)==(\S+)$", result.stdout, re.MULTILINE)
    }
