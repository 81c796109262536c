from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: EmailStr
    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
    body: str = Field(min_length=1, max_length=10_000)


class EmailQueued(BaseModel):
    status: Literal["queued"] = "queued"
