import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

# Links are what makes a relayed message worth sending for a spammer: none in a note, neither
# as a URL nor as a domain name or IP address, in any script or disguise. The note is checked,
# and sent, as NFKC leaves it (full-width letters and look-alike dots become plain ones) without
# format characters (zero-width spaces, soft hyphens), which mail clients do not show.
_DOT = "[.\u00b7\u0589\u06d4\u0701\u0702\u2024\u2027\u2219\u22c5\u2e2e\u3002\uff0e\uff61]"
_OPEN, _CLOSE = r"[\[(<\{]", r"[\])>\}]"
_LINK = re.compile(
    "|".join(
        (
            r"\w+://",  # a URL scheme
            r"\bwww\b",
            r"\d+\.\d+\.\d+",  # an IP address, or the start of one
            rf"\w{_DOT}+(?!\d)\w",  # a domain name; a number like 3.5 is no host name
            rf"\w\s+{_DOT}\s*\w",  # evil . com
            rf"\w\s*{_OPEN}\s*({_DOT}|dot)\s*{_CLOSE}\s*\w",  # evil[.]com, evil (dot) com
            r"\w\s+dot\s+\w",  # evil dot com
        )
    ),
    re.IGNORECASE,
)


def _as_shown(note: str) -> str:
    normal = unicodedata.normalize("NFKC", note)
    return "".join(char for char in normal if unicodedata.category(char) != "Cf")


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
        shown = _as_shown(note)
        if _LINK.search(shown):
            raise ValueError("a note cannot contain links or domain names")
        return shown


class EmailQueued(BaseModel):
    status: Literal["queued"] = "queued"
