import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

# Links are what makes a relayed message worth sending for a spammer: none in a note, neither
# as a URL nor as a bare domain name (`paypa1-login.example`), with any dot mail clients read
# as one (the ideographic and full-width ones too).
_LINK = re.compile(
    r"(?i)(\b[a-z][a-z0-9+.-]*://|\bwww\.|[a-z0-9-]+[.\u3002\uff0e\uff61]+[a-z][a-z0-9-]+)"
)


class InvitationRequest(BaseModel):
    """Whom to invite and an optional note; everything else in the email is the service's."""

    model_config = ConfigDict(extra="forbid")

    to: EmailStr
    # One paragraph of plain text: no control characters, nor any other character Python's
    # email library would take for a line break (\x1c-\x1e, \x85, \u2028, \u2029).
    note: str = Field(default="", max_length=300, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$")

    @field_validator("note")
    @classmethod
    def _refuse_links(cls, note: str) -> str:
        if _LINK.search(note):
            raise ValueError("a note cannot contain links or domain names")
        return note


class EmailQueued(BaseModel):
    status: Literal["queued"] = "queued"
