"""Remove secrets and personal data from events and breadcrumbs before they leave the process."""

import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sentry_sdk.types import Event

FILTERED = "[Filtered]"

# Keys whose values are always secret, matched anywhere in the key (case and separators ignored).
SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "apikey",
    "session",
    "credential",
    "passphrase",
    "privatekey",
    "cardnumber",
    "idempotencykey",
)
# Short names that are only secret as a whole key ("pan" is also part of "company", "pass" of
# "compass", "auth" of "author"); header names are normalised, so `X-Auth` is "xauth".
SECRET_KEYS = frozenset(
    {"pan", "cvv", "cvc", "pin", "dsn", "pw", "pwd", "pass", "auth", "xauth", "xpass", "xpw"}
)
# Keys that point at a person: the client address of an ASGI scope, forwarding headers.
PERSONAL_KEYS = frozenset({"client", "ipaddress", "remoteaddr", "xforwardedfor", "xrealip"})

_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
# A random token in URL-safe base64 (a refresh token, a key), whatever name or place it has: a
# run of 24 or more such characters mixing upper case, lower case and digits. Hex ids (request,
# trace, event) and UUIDs have no upper case; words and identifiers rarely all three.
_OPAQUE_TOKEN = re.compile(
    r"(?<![\w-])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[A-Za-z0-9_-]{24,}(?![\w-])"
)
# Payment providers' tokens and keys by their prefixes (Stripe's, which others copy): a card
# token (`tok_`), a secret or restricted key, a webhook signing secret.
_PROVIDER_SECRET = re.compile(r"\b(?:tok|sk_live|sk_test|rk_live|rk_test|whsec)_[A-Za-z0-9_]{4,}")
# Query parameters whose names say they carry a credential, beyond the secret words below:
# `?refresh=`, `?access=`, `?code=`, `?sig=`, `?key=`, `?pw=`, `?pass=`, ... Only after `?`,
# `&` or `;`, or as a whole query string: in other text these names are ordinary words.
_QUERY_CREDENTIAL = re.compile(
    r"(?i)((?:^|[?&;])[\w.-]*?"
    r"(?:refresh|access|auth|code|key|sig|jwt|otp|verif|reset|nonce|pass|pw)"
    r"[\w.-]*=)[^&#\s'\"]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w\-.~+/]+=*")
# `name=value` and `"name": "value"`, the secret word anywhere in the name: reprs of objects
# (`Charge(payment_token='tok_...')`, `hashed_password=...`) and query strings alike. A quoted
# value ends at its closing quote, spaces and all; an unquoted one at a space or delimiter.
_QUOTED_OR_BARE_VALUE = r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|['"]?[^\s'",&)]+)"""
_INLINE_SECRET = re.compile(
    r"(?i)\b(\w*?(?:password|passwd|secret|token|api_?key|card_?number)\w*)"
    r"(['\"]?\s*[:=]\s*)" + _QUOTED_OR_BARE_VALUE
)
# Validation errors echo the input (`input_value='...'`, pydantic), whichever field it was for:
# up to the `input_type` that follows it, or else a value as above.
_INPUT_VALUE = re.compile(r"\binput_value=(?:.*?(?=, input_type=)|" + _QUOTED_OR_BARE_VALUE + ")")
# Password hashes in their stored form (Argon2, bcrypt), whatever holds them: SQL parameters,
# an exception's message, a row's repr. Argon2's parameters hold commas; salt and digest follow.
_PASSWORD_HASH = re.compile(r"\$(?:argon2(?:id|i|d)|2[aby])\$[^\s'\"\])]*")
# The password of a URL's user information, `scheme://user:password@host`, as drivers read
# it: up to the `@`, slashes included. A port followed by a path or query is no password.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z\d+.-]*://[^\s:/@'\"]*:)(?!\d+[/?#])[^\s@?#'\"]+@")
# Not inside a longer word: a hex request id may hold a run of digits that passes Luhn.
_CARD_LIKE = re.compile(r"(?<!\w)(?:\d[ -]?){12,18}\d(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}\b")
# Cheap tests run before the patterns above: most strings of an event (ids, SQL, routes) pass them.
_SECRET_WORDS = (
    "bearer",
    "basic",
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "cardnumber",
    "card_number",
    "input_value",
    # Payment providers' prefixes (_PROVIDER_SECRET).
    "tok_",
    "sk_live",
    "sk_test",
    "rk_live",
    "rk_test",
    "whsec_",
    # Names of query parameters that carry credentials (_QUERY_CREDENTIAL).
    "refresh",
    "access",
    "auth",
    "code",
    "key",
    "sig",
    "jwt",
    "otp",
    "verif",
    "reset",
    "nonce",
    "pass",
    "pw",
)
_DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")
# Strings up to this length are remembered: SQL, span names and headers repeat on every request.
_CACHED_TEXT_LENGTH = 512


def _normalise(key: str) -> str:
    # Header names in ASGI scopes arrive as the repr of bytes: "b'cookie'".
    if key[:2] in ("b'", 'b"'):
        key = key[2:-1]
    return key.lower().replace("-", "").replace("_", "").replace(".", "")


@lru_cache(maxsize=2048)
def _is_secret_key(key: str, *, personal_data: bool) -> bool:
    normalised = _normalise(key)
    if not personal_data and normalised in PERSONAL_KEYS:
        return True
    return normalised in SECRET_KEYS or any(part in normalised for part in SECRET_KEY_PARTS)


def _passes_luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _redact_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if _passes_luhn(digits) else match.group()


def scrub_text(
    text: str, *, personal_data: bool = False, known_secrets: Collection[str] = ()
) -> str:
    """Redact tokens, inline `key=value` secrets, card numbers and (unless allowed) emails.

    Tokens are recognised by shape (JWTs, random URL-safe strings, payment providers' `tok_`
    and `sk_live_` prefixes) and by the name they go under (`password=`, `"refresh_token": ...`,
    a query's `?refresh=`), wherever they appear: a query string, a path of a 404, a
    transaction's name, a breadcrumb, an exception's message.

    `known_secrets` are values the service knows to be secret (its signing key, the password of
    its database URL), redacted wherever they appear, whatever their shape.
    """
    if len(text) <= _CACHED_TEXT_LENGTH:
        text = _scrub_short_text(text, personal_data)
    else:
        text = _redact(text, personal_data)
    for secret in known_secrets:
        if secret in text:
            text = text.replace(secret, FILTERED)
    return text


@lru_cache(maxsize=4096)
def _scrub_short_text(text: str, personal_data: bool) -> str:
    return _redact(text, personal_data)


def _may_hold_secret(text: str) -> bool:
    if "@" in text or "eyJ" in text or "$" in text or _DIGIT_RUN.search(text):
        return True
    if _OPAQUE_TOKEN.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _redact_inline_value(match: re.Match[str]) -> str:
    name, separator, value = match.group(1), match.group(2), match.group(3)
    quote = value[0] if value[0] in "'\"" else ""
    return f"{name}{separator}{quote}{FILTERED}{quote}"


def _redact(text: str, personal_data: bool) -> str:
    if not _may_hold_secret(text):
        return text
    text = _JWT.sub(FILTERED, text)
    text = _PROVIDER_SECRET.sub(FILTERED, text)
    text = _QUERY_CREDENTIAL.sub(lambda match: f"{match.group(1)}{FILTERED}", text)
    text = _PASSWORD_HASH.sub(FILTERED, text)
    text = _URL_PASSWORD.sub(lambda match: f"{match.group(1)}{FILTERED}@", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {FILTERED}", text)
    text = _INLINE_SECRET.sub(_redact_inline_value, text)
    text = _INPUT_VALUE.sub(f"input_value={FILTERED}", text)
    text = _CARD_LIKE.sub(_redact_card, text)
    text = _OPAQUE_TOKEN.sub(FILTERED, text)
    return text if personal_data else _EMAIL.sub("[email]", text)


def scrub(value: Any, *, personal_data: bool = False, known_secrets: Collection[str] = ()) -> Any:
    """A copy of `value` with secret keys filtered and free text redacted, at any depth."""
    if isinstance(value, str):
        return scrub_text(value, personal_data=personal_data, known_secrets=known_secrets)
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and _is_secret_key(key, personal_data=personal_data)
            else scrub(item, personal_data=personal_data, known_secrets=known_secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if _is_secret_pair(value, personal_data=personal_data):
            return type(value)((value[0], FILTERED))
        return type(value)(
            scrub(item, personal_data=personal_data, known_secrets=known_secrets) for item in value
        )
    return value


def _is_secret_pair(value: list[Any] | tuple[Any, ...], *, personal_data: bool) -> bool:
    """A `(name, value)` pair, as headers are in an ASGI scope, whose name is secret."""
    return (
        len(value) == 2
        and isinstance(value[0], str)
        and _is_secret_key(value[0], personal_data=personal_data)
    )


def scrub_event(
    event: Event,
    *,
    private_body_paths: Collection[str] = (),
    personal_data: bool = False,
    known_secrets: Collection[str] = (),
) -> Event:
    """Scrub a whole event, breadcrumbs included; bodies of `private_body_paths` are dropped.

    Breadcrumbs are scrubbed here, once per event, rather than one by one as they are
    recorded: most of them never leave the process.
    """
    request: dict[str, Any] = event.get("request") or {}
    if urlsplit(request.get("url", "")).path in private_body_paths:
        request.pop("data", None)
    request.pop("cookies", None)
    user: dict[str, Any] = event.get("user") or {}
    user.pop("ip_address", None)
    if not personal_data:
        # Only the opaque id says who it was: no name, email or address, whoever set them.
        for key in [key for key in user if key != "id"]:
            del user[key]
    # The user's own email is set on purpose, and only when personal data is allowed.
    email = user.pop("email", None)
    scrubbed: Event = scrub(event, personal_data=personal_data, known_secrets=known_secrets)
    if email is not None:
        scrubbed.setdefault("user", {})["email"] = email
    return scrubbed
