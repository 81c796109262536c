"""The one way template tests and benchmarks get a verified account on a baked service.

An account signs in only once its address is verified. Tests that run the service as a process
verify the address with the service's own command, `<project> users verify EMAIL`, as an
operator would: it works whatever the email backend (SMTP may be down on purpose) and database.
"""

import subprocess
from pathlib import Path


def verify_address(project_root: Path, env: dict, email: str) -> None:
    """Mark `email` verified in the database the service of `env` uses."""
    command = project_root / ".venv" / "bin" / project_root.name
    result = subprocess.run(
        [str(command), "users", "verify", email],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"verifying {email} failed:\n{result.stdout}{result.stderr}"
