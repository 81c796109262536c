"""Ready-made `identify_user` functions for `SentryContextMiddleware`, one per common scheme.

Each one verifies the credentials (signature, expiry, audience) before it returns a user id,
and returns None for anything that does not verify. Each imports its library when it is
called, so a service imports this module without having the libraries of the other schemes.
"""

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from starlette.requests import cookie_parser

from .middleware import IdentifyUser

FASTAPI_USERS_AUDIENCE = "fastapi-users:auth"
# Starlette's SessionMiddleware defaults.
SESSION_COOKIE = "session"
SESSION_MAX_AGE_SECONDS = 14 * 24 * 60 * 60


def bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _claim(payload: Any, claim: str) -> str | None:
    value = payload.get(claim) if isinstance(payload, dict) else None
    return str(value) if isinstance(value, str | int) and value != "" else None


def _verified_bearer(
    decode: Callable[[str], Any], invalid: type[Exception], claim: str
) -> IdentifyUser:
    """The `claim` of a bearer token that `decode` verifies; None when it raises `invalid`."""

    def identify(headers: Mapping[str, str]) -> str | None:
        token = bearer_token(headers)
        if token is None:
            return None
        try:
            payload = decode(token)
        except invalid:
            return None
        return _claim(payload, claim)

    return identify


def pyjwt_bearer(
    key: str,
    *,
    algorithms: Collection[str] = ("HS256",),
    audience: str | None = None,
    issuer: str | None = None,
    claim: str = "sub",
) -> IdentifyUser:
    """A bearer JWT checked with PyJWT: signature, `exp` (required), audience and issuer."""
    import jwt  # type: ignore[import-not-found, unused-ignore]

    def decode(token: str) -> Any:
        return jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", claim]},
        )

    return _verified_bearer(decode, jwt.InvalidTokenError, claim)


def fastapi_users_bearer(
    key: str, *, audience: str = FASTAPI_USERS_AUDIENCE, algorithms: Collection[str] = ("HS256",)
) -> IdentifyUser:
    """The bearer JWT of fastapi-users' `JWTStrategy`: its audience, the user id in `sub`.

    Tokens of its database or Redis strategies are opaque; identify those users in the route
    instead, with `bind_user` in the dependency that loads the user.
    """
    return pyjwt_bearer(key, algorithms=algorithms, audience=audience)


def jose_bearer(
    key: str,
    *,
    algorithms: Collection[str] = ("HS256",),
    audience: str | None = None,
    issuer: str | None = None,
    claim: str = "sub",
) -> IdentifyUser:
    """A bearer JWT checked with python-jose: signature, `exp` (required), audience, issuer."""
    from jose import JWTError, jwt  # type: ignore[import-untyped, import-not-found, unused-ignore]

    def decode(token: str) -> Any:
        return jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            options={"require_exp": True, "verify_aud": audience is not None},
        )

    return _verified_bearer(decode, JWTError, claim)


def session_cookie(
    secret_key: str,
    *,
    user_key: str = "user_id",
    cookie_name: str = SESSION_COOKIE,
    max_age: int | None = SESSION_MAX_AGE_SECONDS,
) -> IdentifyUser:
    """The user id kept in Starlette's signed session cookie (`SessionMiddleware`).

    Checked as `SessionMiddleware` checks it (itsdangerous signature and age), since this
    middleware runs before it has read the cookie. Give the same secret, name and age.
    """
    from itsdangerous import (  # type: ignore[import-not-found, unused-ignore]
        BadSignature,
        TimestampSigner,
    )

    signer = TimestampSigner(secret_key)

    def identify(headers: Mapping[str, str]) -> str | None:
        cookie = cookie_parser(headers.get("cookie", "")).get(cookie_name)
        if not cookie:
            return None
        try:
            data = signer.unsign(cookie.encode(), max_age=max_age)
            session = json.loads(base64.b64decode(data))
        except (BadSignature, binascii.Error, ValueError):
            return None
        return _claim(session, user_key)

    return identify
