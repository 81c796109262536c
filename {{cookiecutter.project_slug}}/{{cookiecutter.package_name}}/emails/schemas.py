from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: EmailStr
    # One line: no control characters, nor any other character Python's email library
    # would take for a line break (\x1c-\x1e, \x85, \u2028, \u2029).
    subject: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
    )
    body: str = Field(min_length=1, max_length=10_000)


class EmailQueued(BaseModel):
    status: Literal["queued"] = "queued"
