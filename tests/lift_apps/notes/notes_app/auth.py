"""Bearer JWTs signed with PyJWT."""

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SECRET_KEY = os.environ.get("NOTES_SECRET_KEY", "development-only-secret-key-0123456789")
ALGORITHM = "HS256"
bearer = HTTPBearer()


def create_token(user_id: int) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=30)
    return jwt.encode({"sub": str(user_id), "exp": expires}, SECRET_KEY, algorithm=ALGORITHM)


def current_user_id(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> int:
    try:
        payload = jwt.decode(credentials.credentials, SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token") from None
    return int(payload["sub"])
