from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from {{ cookiecutter.package_name }}.users.schemas import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    NewPassword,
)


class Token(BaseModel):
    """An OAuth2 token response: a short-lived access token and the refresh token that renews it."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="Seconds the access token is valid for")
    refresh_token: str


class LoginForm(BaseModel):
    """The OAuth2 password grant's form; its other fields (grant_type, scope) are ignored."""

    # Bounded: every name a client sends becomes a throttling key.
    username: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH, repr=False)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Refresh tokens are 43 URL-safe characters; the bound only keeps junk out.
    refresh_token: str = Field(min_length=1, max_length=200, repr=False)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH, repr=False)
    new_password: NewPassword


class EmailVerification(BaseModel):
    """The token of the link, and the password the account was signed up with.

    The password proves that whoever reads the inbox also created the account: an owner who
    did not sign up must not verify, and so hand over, an account a stranger holds the password of.
    """

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=2000, repr=False)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH, repr=False)


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=2000, repr=False)
    new_password: NewPassword


class VerificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class RegistrationAccepted(BaseModel):
    """The same answer whether or not the email was free, so it tells nobody which it was."""

    detail: str = "Check your inbox: we have sent the next step to this address."


class EmailVerified(BaseModel):
    detail: str = "Your email address is verified."


class VerificationSent(BaseModel):
    """The same answer for any address."""

    detail: str = "If this address has an account waiting to be verified, a new link is on its way."


class PasswordResetSent(BaseModel):
    """The same answer for any address."""

    detail: str = "If this address has an account, a link to set a new password is on its way."


class PasswordWasReset(BaseModel):
    detail: str = "Your password is set and every device was signed out; log in with it."
