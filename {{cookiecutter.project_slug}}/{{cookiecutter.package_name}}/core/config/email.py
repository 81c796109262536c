"""Email: how messages leave the service, and how many anyone can make it send."""

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from {{ cookiecutter.package_name }}.core.config.service import RateLimit, ServiceSettings


class EmailSettings(ServiceSettings):
    email_backend: Literal["console", "smtp"] = "console"
    email_sender: str = "no-reply@example.com"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, gt=0, lt=65536)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Invitations a user may send; emails to one address, whoever asks for them.
    email_rate_limit_per_user: RateLimit = "3/minute;20/day"
    email_rate_limit_per_recipient: RateLimit = "5/hour;20/day"

    @field_validator("email_backend")
    @classmethod
    def _refuse_console_email_in_production(cls, backend: str, info: ValidationInfo) -> str:
        if backend == "console" and info.data.get("environment") == "production":
            raise ValueError(
                "console writes whole emails, verification links too, to the log; "
                "use smtp in the production environment"
            )
        return backend
