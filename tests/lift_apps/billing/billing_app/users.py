"""Bearer tokens as fastapi-users' JWTStrategy writes them: HS256, its audience, the id in sub."""

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

JWT_SECRET = os.environ.get("BILLING_JWT_SECRET", "development-only-jwt-secret-0123456789")
AUDIENCE = ["fastapi-users:auth"]
oauth2 = OAuth2PasswordBearer(tokenUrl="/v2/auth/jwt/login")


def write_token(user_id: uuid.UUID, lifetime_seconds: int = 3600) -> str:
    payload = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "exp": datetime.now(UTC) + timedelta(seconds=lifetime_seconds),
    }
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


def current_user(token: Annotated[str, Depends(oauth2)]) -> uuid.UUID:
    try:
        payload = jwt.decode(token, JWT_SECRET, audience=AUDIENCE, algorithms=["HS256"])
        return uuid.UUID(payload["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise HTTPException(status_code=401, detail="Unauthorized") from None
