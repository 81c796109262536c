"""Settings keep the environment variable names deployed services already set."""

import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.core.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Read by uvicorn from the environment, not by the service's settings.
READ_BY_UVICORN = {"FORWARDED_ALLOW_IPS"}


def variables_in_env_example() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def variables_in_configuration_docs() -> set[str]:
    """The names in the first column of the table in docs/configuration.md."""
    text = (PROJECT_ROOT / "docs/configuration.md").read_text()
    first_cells = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


@pytest.mark.parametrize(
    "documented",
    [
        pytest.param(variables_in_env_example(), id=".env.example"),
        pytest.param(variables_in_configuration_docs(), id="docs/configuration.md"),
    ],
)
def test_every_documented_variable_is_a_setting(documented: set[str]) -> None:
    settings = {field.upper() for field in Settings.model_fields}

    assert len(documented) > 20
    assert documented - READ_BY_UVICORN - settings == set()


def test_environment_is_validated_before_the_checks_that_read_it() -> None:
    fields = list(Settings.model_fields)
    readers = [
        "secret_key",
        "secret_key_fallbacks",
        "database_echo",
        "email_backend",
        "sentry_debug",
        "sentry_spotlight",
    ]

    assert all(fields.index("environment") < fields.index(reader) for reader in readers)
