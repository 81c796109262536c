"""Python interpreters of the versions the template offers, wherever this machine has them."""

import os
import shutil
import subprocess
from pathlib import Path


def _pyenv_versions() -> list[Path]:
    root = os.environ.get("PYENV_ROOT") or (
        subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if shutil.which("pyenv")
        else ""
    )
    return sorted(Path(root, "versions").glob("*")) if root else []


def _runs(interpreter: str) -> bool:
    result = subprocess.run([interpreter, "--version"], capture_output=True, check=False)
    return result.returncode == 0


def find_python(version: str) -> Path | None:
    """`pythonX.Y` from PATH, else from pyenv's installed versions (which PATH may hide)."""
    on_path = shutil.which(f"python{version}")
    # A pyenv shim is on PATH even when its version is not selected, and then fails.
    if on_path and _runs(on_path):
        return Path(on_path)
    for prefix in reversed(_pyenv_versions()):
        candidate = prefix / "bin" / f"python{version}"
        if prefix.name.startswith(f"{version}.") and candidate.exists():
            return candidate
    return None
