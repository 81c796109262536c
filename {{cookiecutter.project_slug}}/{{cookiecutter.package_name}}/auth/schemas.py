from typing import Literal

from pydantic import BaseModel


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret


class RegistrationAccepted(BaseModel):
    """The same answer whether or not the email was free, so it tells nobody which it was."""

    detail: str = "Check your inbox: we have sent the next step to this address."
