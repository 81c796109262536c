"""What every concern's settings build on: name, environment, logs, and the shared types."""

from typing import Annotated, Literal

from limits import parse_many
from pydantic import AfterValidator, Field, ValidationInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "staging", "production"]
# Where a process may sign with a random key of its own, and log what requests carry.
LOCAL_ENVIRONMENTS: frozenset[Environment] = frozenset({"development", "test"})


class HoldsPassword:
    """Marks a setting whose value may hold a password; see `ConnectionUrl`."""


# A connection URL may hold a password: it stays out of the settings' repr (a log line, an
# error event's stack frame) and `Settings.secret_values` hands its password to the redaction.
ConnectionUrl = Annotated[str, Field(repr=False), HoldsPassword()]


def parse_rate_limit(value: str) -> str:
    parse_many(value)
    return value


def refuse_outside_local_environments(on: bool, info: ValidationInfo) -> bool:
    environment = info.data.get("environment", "development")
    if on and environment not in LOCAL_ENVIRONMENTS:
        raise ValueError(
            f"writes what requests carry to the log; unset it in the {environment} environment"
        )
    return on


# A switch that writes what the service handles to its log: for a laptop only.
LocalOnlySwitch = Annotated[bool, AfterValidator(refuse_outside_local_environments)]
# Requests or emails allowed, in the notation of the `limits` package: "5/minute;50/day".
RateLimit = Annotated[str, AfterValidator(parse_rate_limit)]


class ServiceSettings(BaseSettings):
    """The base of every concern's settings, so `environment` is validated before their checks."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    project_name: str = "{{ cookiecutter.project_name }}"
    environment: Environment = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def logs_as_json(self) -> bool:
        return self.log_json if self.log_json is not None else self.environment != "development"
