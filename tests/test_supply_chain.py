"""The default bake pins its dependencies, installs exactly those pins, and is audited.

An audit that finds a known vulnerability fails the test. An audit that cannot reach the
advisory service (pip-audit --strict exits non-zero without naming a vulnerability) is reported
as a skip with the reason, never as a pass.
"""

import re
from pathlib import Path

import pytest

from tests.baking import BakedProject, command_env, make_must_succeed, run_make

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)", re.MULTILINE)


def installed_version(project: BakedProject, distribution: str) -> str:
    site_packages = next((project.root / ".venv" / "lib").glob("python*/site-packages"))
    normalized = distribution.replace("-", "_").lower()
    for info in site_packages.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        if name.lower() == normalized:
            return version
    raise AssertionError(f"{distribution} is not installed")


@pytest.mark.option_sets("default")
def test_lock_pins_every_dependency_and_install_follows_it(
    installed_project: BakedProject, tools_bin: Path
) -> None:
    env = command_env(tools_bin)
    make_must_succeed(installed_project.root, "lock", env=env)
    lock = (installed_project.root / "requirements.lock").read_text()
    pins = dict(PIN.findall(lock))
    assert {"fastapi", "sentry-sdk", "limits", "pip-audit"} <= pins.keys(), sorted(pins)

    make_must_succeed(installed_project.root, "install", env=env)
    for distribution in ("fastapi", "sentry-sdk", "sqlalchemy", "starlette"):
        assert installed_version(installed_project, distribution) == pins[distribution]


@pytest.mark.option_sets("default")
def test_dependency_audit(installed_project: BakedProject, tools_bin: Path) -> None:
    result = run_make(
        installed_project.root, "audit", env=command_env(tools_bin), timeout=600
    )
    print(result.stdout)
    if result.returncode == 0:
        return
    if re.search(r"Found \d+ known vulnerabilit", result.stdout):
        pytest.fail(f"known vulnerabilities in pinned dependencies:\n{result.stdout}")
    lines = result.stdout.strip().splitlines()
    cause = next(
        (line for line in lines if "ERROR" in line or "could not" in line), lines[-1]
    )
    pytest.skip(
        f"the dependency audit could not run (advisory service unreachable?): {cause[:300]}"
    )
