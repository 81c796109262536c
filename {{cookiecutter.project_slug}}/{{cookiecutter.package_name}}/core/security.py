"""Password hashing, signed tokens (access, email verification, password reset) and refresh-token
secrets."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from anyio import CapacityLimiter, to_thread
from argon2 import DEFAULT_MEMORY_COST
from jose import JWTError, jwt
from pwdlib import PasswordHash

from {{ cookiecutter.package_name }}.core.resources import hashing_slots, usable_resources

# Pinned: a token naming any other algorithm (`none`, RS256 with the key as a public key) fails.
ALGORITHM = "HS256"
REFRESH_TOKEN_BYTES = 32

password_hash = PasswordHash.recommended()
# Argon2 with its library's defaults: each hash holds this much memory while it runs.
HASH_MEMORY_BYTES = DEFAULT_MEMORY_COST * 1024


@cache
def _unusable_password_hash() -> str:
    """Verified against when an email is unknown, so a failed login costs the same either way.

    Made on first use, not at import: hashing is slow on purpose and would delay every start.
    """
    return password_hash.hash("not a password anyone can log in with")


class InvalidTokenError(Exception):
    """The token is malformed, expired, signed with another key or algorithm, or lacks a claim."""


@cache
def _hashing_slots() -> CapacityLimiter:
    """One hash at a time per CPU this process may use, as far as its memory allows."""
    return CapacityLimiter(hashing_slots(usable_resources(), memory_per_hash=HASH_MEMORY_BYTES))


def _check_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hash.verify(password, _unusable_password_hash())
        return False
    return password_hash.verify(password, hashed)


# Hashing is slow on purpose. On the event loop it would stall every other request; in worker
# threads (Argon2 releases the GIL) a burst of sign-ups only waits for its own turn.
async def hash_password(password: str) -> str:
    return await to_thread.run_sync(password_hash.hash, password, limiter=_hashing_slots())


async def verify_password(password: str, hashed: str | None) -> bool:
    """Check a password; with no stored hash, spend the same time and fail."""
    return await to_thread.run_sync(_check_password, password, hashed, limiter=_hashing_slots())


def key_id(key: str) -> str:
    """The `kid` of a key: derived one-way, so it names the key without revealing it."""
    return hmac.new(key.encode(), b"token key id", hashlib.sha256).hexdigest()[:16]


# Compared and hashed by identity: one instance per set of keys (`create` caches it), which the
# cache of verified tokens is keyed on.
@dataclass(frozen=True, eq=False)
class TokenKeys:
    """The keys tokens are signed and verified with: the newest signs, every one verifies."""

    signing_kid: str
    keys: dict[str, str]
    issuer: str
    audience: str

    @classmethod
    def create(cls, keys: Sequence[str], *, issuer: str, audience: str) -> "TokenKeys":
        return _token_keys(tuple(keys), issuer, audience)


@cache
def _token_keys(keys: tuple[str, ...], issuer: str, audience: str) -> TokenKeys:
    by_kid = {key_id(key): key for key in keys}
    return TokenKeys(key_id(keys[0]), by_kid, issuer, audience)


def _timestamp(moment: datetime) -> float:
    # Milliseconds: an access token issued right after a password change must stay valid.
    return int(moment.timestamp() * 1000) / 1000


def truncate_to_milliseconds(moment: datetime) -> datetime:
    return datetime.fromtimestamp(_timestamp(moment), UTC)


def _sign(claims: dict[str, Any], keys: TokenKeys, audience: str) -> str:
    now = datetime.now(UTC)
    claims = {"iss": keys.issuer, "aud": audience, "iat": _timestamp(now), **claims}
    signing_key = keys.keys[keys.signing_kid]
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM, headers={"kid": keys.signing_kid})


def _verify(token: str, keys: TokenKeys, audience: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        key = keys.keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidTokenError("signed with a key that is not accepted")
        return jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=keys.issuer,
            options={
                "require_sub": True,
                "require_exp": True,
                "require_iat": True,
                "require_aud": True,
                "require_iss": True,
            },
        )
    except JWTError as error:
        raise InvalidTokenError(str(error)) from error


def _user_id(claims: dict[str, Any]) -> int:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdecimal():
        raise InvalidTokenError("subject is not a user id")
    return int(subject)


def create_access_token(*, subject: int, keys: TokenKeys, expires_in: timedelta) -> str:
    expires_at = datetime.now(UTC) + expires_in
    return _sign({"sub": str(subject), "exp": expires_at}, keys, keys.audience)


class AccessToken(NamedTuple):
    user_id: int
    issued_at: datetime
    expires_at: datetime


def decode_access_token(token: str, *, keys: TokenKeys) -> AccessToken:
    """Verify a token and return the user it was issued for, when, and until when."""
    verified = _verify_access_token(token, keys)
    if verified.expires_at <= datetime.now(UTC):
        raise InvalidTokenError("Signature has expired.")
    return verified


# A client sends the same token with every request until it expires: its signature and claims
# are checked once, and only its expiry again. A token that fails is not remembered.
@lru_cache(maxsize=4096)
def _verify_access_token(token: str, keys: TokenKeys) -> AccessToken:
    claims = _verify(token, keys, keys.audience)
    issued_at = claims["iat"]
    if not isinstance(issued_at, int | float):
        raise InvalidTokenError("issued-at is not a time")
    return AccessToken(
        _user_id(claims),
        datetime.fromtimestamp(issued_at, UTC),
        datetime.fromtimestamp(claims["exp"], UTC),
    )


def _verification_audience(keys: TokenKeys) -> str:
    # Its own audience: a verification link is never an access token, nor the other way round.
    return f"{keys.audience}:verify-email"


def create_email_verification_token(
    *, user_id: int, email: str, keys: TokenKeys, expires_in: timedelta
) -> str:
    expires_at = datetime.now(UTC) + expires_in
    claims = {"sub": str(user_id), "email": email, "exp": expires_at}
    return _sign(claims, keys, _verification_audience(keys))


def decode_email_verification_token(token: str, *, keys: TokenKeys) -> tuple[int, str]:
    """The user id and the address a verification link was sent to."""
    claims = _verify(token, keys, _verification_audience(keys))
    email = claims.get("email")
    if not isinstance(email, str):
        raise InvalidTokenError("no email address")
    return _user_id(claims), email


def _password_reset_audience(keys: TokenKeys) -> str:
    # Its own audience: a reset link is neither an access token nor a verification link.
    return f"{keys.audience}:password-reset"


def password_fingerprint(hashed_password: str) -> str:
    """Names the current password without revealing it; a new password makes a new one."""
    return hashlib.sha256(hashed_password.encode()).hexdigest()[:32]


class PasswordReset(NamedTuple):
    user_id: int
    email: str
    password_fingerprint: str


def create_password_reset_token(
    *, user_id: int, email: str, hashed_password: str, keys: TokenKeys, expires_in: timedelta
) -> str:
    """Works until it expires or the password changes, whichever comes first: so, once."""
    expires_at = datetime.now(UTC) + expires_in
    claims = {
        "sub": str(user_id),
        "email": email,
        "pwd": password_fingerprint(hashed_password),
        "exp": expires_at,
    }
    return _sign(claims, keys, _password_reset_audience(keys))


def decode_password_reset_token(token: str, *, keys: TokenKeys) -> PasswordReset:
    claims = _verify(token, keys, _password_reset_audience(keys))
    email, fingerprint = claims.get("email"), claims.get("pwd")
    if not isinstance(email, str) or not isinstance(fingerprint, str):
        raise InvalidTokenError("no email address or password fingerprint")
    return PasswordReset(_user_id(claims), email, fingerprint)


def new_refresh_token() -> str:
    """An opaque refresh token: random, meaningless, only its hash is stored."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    # A fast hash suffices: the token is 256 random bits, not a password to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
