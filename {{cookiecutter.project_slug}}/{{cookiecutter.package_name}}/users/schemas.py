from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from {{ cookiecutter.package_name }}.users.models import Plan

# The longest address a mail server takes (RFC 5321), and the longest password anyone types.
EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 128
# No control characters (a NUL, a line break): nobody types them, and some stores and forms
# cut a password at them.
NewPassword = Annotated[
    str,
    Field(
        min_length=8,
        max_length=PASSWORD_MAX_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f-\x9f]*$",
        repr=False,
    ),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    # No dots: a username appears in emails, and must never read as a link or a domain name.
    username: str = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")
    password: NewPassword


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    # Validated when it was stored; checking it again on every response costs more than the
    # rest of the serialisation.
    email: str = Field(json_schema_extra={"format": "email"})
    username: str
    plan: Plan
    is_active: bool
    email_verified: bool
