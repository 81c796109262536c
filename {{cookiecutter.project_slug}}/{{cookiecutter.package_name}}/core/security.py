"""Password hashing and access tokens."""

from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from jose import JWTError, jwt
from pwdlib import PasswordHash

ALGORITHM = "HS256"

password_hash = PasswordHash.recommended()


@cache
def _unusable_password_hash() -> str:
    """Verified against when an email is unknown, so a failed login costs the same either way.

    Made on first use, not at import: hashing is slow on purpose and would delay every start.
    """
    return password_hash.hash("not a password anyone can log in with")


class InvalidTokenError(Exception):
    """The token is malformed, expired, signed with another key or algorithm, or lacks a subject."""


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Check a password; with no stored hash, spend the same time and fail."""
    if hashed is None:
        password_hash.verify(password, _unusable_password_hash())
        return False
    return password_hash.verify(password, hashed)


def create_access_token(*, subject: int, secret_key: str, expires_in: timedelta) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": str(subject), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


class AccessToken(NamedTuple):
    user_id: int
    expires_at: datetime


def decode_access_token(token: str, *, secret_key: str) -> AccessToken:
    """Verify a token and return the user it was issued for and when it expires."""
    verified = _verify_token(token, secret_key)
    if verified.expires_at <= datetime.now(UTC):
        raise InvalidTokenError("Signature has expired.")
    return verified


# A client sends the same token with every request until it expires: its signature and claims
# are checked once, and only its expiry again. A token that fails is not remembered.
@lru_cache(maxsize=4096)
def _verify_token(token: str, secret_key: str) -> AccessToken:
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require_sub": True, "require_exp": True, "require_iat": True},
        )
    except JWTError as error:
        raise InvalidTokenError(str(error)) from error
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdecimal():
        raise InvalidTokenError("subject is not a user id")
    return AccessToken(int(subject), datetime.fromtimestamp(claims["exp"], UTC))
