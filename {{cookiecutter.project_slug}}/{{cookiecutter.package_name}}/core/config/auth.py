"""Auth: the keys that sign tokens, the tokens' and links' lifetimes, and the throttles."""

from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from {{ cookiecutter.package_name }}.core.config.keys import (
    MAKE_A_KEY_COMMAND,
    check_secret_key,
    process_secret_key,
)
from {{ cookiecutter.package_name }}.core.config.service import (
    LOCAL_ENVIRONMENTS,
    ConnectionUrl,
    RateLimit,
    ServiceSettings,
)
from {{ cookiecutter.package_name }}.core.security import TokenKeys

# Where throttling counters live: memory:// per process, or redis://host:port/db shared.
RateLimitStorageUrl = Annotated[ConnectionUrl, Field(pattern=r"^(memory://|rediss?://.+)$")]


class AuthSettings(ServiceSettings):
    # SECRET_KEY signs tokens; unset, a development or test process signs with a random key of
    # its own. Keys rotated out stay accepted while listed in SECRET_KEY_FALLBACKS (a JSON list,
    # newest first) and are refused once removed.
    secret_key: SecretStr | None = None
    secret_key_fallbacks: list[SecretStr] = Field(default_factory=list)
    token_issuer: str = "{{ cookiecutter.project_slug }}"  # noqa: S105 - a name, not a secret
    token_audience: str = "{{ cookiecutter.project_slug }}-api"  # noqa: S105 - a name
    access_token_expire_minutes: int = Field(default=15, gt=0)
    refresh_token_expire_days: int = Field(default=30, gt=0)
    email_verification_expire_hours: int = Field(default=48, gt=0)
    # The page of your frontend that posts a verification link's token to the API.
    frontend_url: str = "http://127.0.0.1:3000"
    # Accounts: a password-reset link's life; how long an unverified account holds its address
    # (keep it at least EMAIL_VERIFICATION_EXPIRE_HOURS) and how often expired ones are removed
    # (0: never).
    password_reset_expire_minutes: int = Field(default=60, gt=0)
    unverified_account_expire_hours: int = Field(default=72, gt=0)
    unverified_account_sweep_interval_minutes: int = Field(default=60, ge=0)
    # Sign-up and log-in attempts allowed; the counters live at RATE_LIMIT_STORAGE_URL.
    auth_rate_limit_per_client: RateLimit = "20/minute"
    auth_rate_limit_per_account: RateLimit = "5/minute"

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, key: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        environment = info.data.get("environment", "development")
        if key is None or not key.get_secret_value():
            if environment in LOCAL_ENVIRONMENTS:
                return None
            raise ValueError(
                f"must be set in the {environment} environment; make one with {MAKE_A_KEY_COMMAND}"
            )
        check_secret_key(key.get_secret_value(), environment=environment)
        return key

    @field_validator("secret_key_fallbacks")
    @classmethod
    def _check_secret_key_fallbacks(
        cls, keys: list[SecretStr], info: ValidationInfo
    ) -> list[SecretStr]:
        environment = info.data.get("environment", "development")
        current = info.data.get("secret_key")
        seen = {current.get_secret_value()} if current else set()
        for index, key in enumerate(keys):
            secret = key.get_secret_value()
            check_secret_key(secret, environment=environment, name=f"[{index}] ")
            if secret in seen:
                raise ValueError(f"[{index}] repeats SECRET_KEY or an earlier fallback")
            seen.add(secret)
        return keys

    def signing_keys(self) -> list[str]:
        """The key tokens are signed with, then the fallbacks still accepted, newest first."""
        newest = (self.secret_key or process_secret_key()).get_secret_value()
        return [newest, *(key.get_secret_value() for key in self.secret_key_fallbacks)]

    def token_keys(self) -> TokenKeys:
        return TokenKeys.create(
            self.signing_keys(), issuer=self.token_issuer, audience=self.token_audience
        )
