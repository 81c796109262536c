"""Billing: no database, fastapi-users-style bearer tokens, on_event handlers, a /v2 router."""

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from pydantic import BaseModel

from billing_app.observability import capture_handled
from billing_app.users import JWT_SECRET, current_user, write_token

__all__ = ["JWT_SECRET", "app"]

app = FastAPI(title="Billing")
router = APIRouter(prefix="/v2")
CurrentUser = Annotated[uuid.UUID, Depends(current_user)]


class Invoice(BaseModel):
    password: str
    card: str


@app.on_event("startup")
async def load_rates() -> None:
    app.state.rates = {"EUR": 1.0, "USD": 1.08}


@app.on_event("shutdown")
async def forget_rates() -> None:
    app.state.rates = {}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/plans")
async def plans() -> list[str]:
    """Public, and broken: the plan catalogue is not loaded."""
    raise LookupError("plan catalogue missing")


@router.post("/auth/jwt/login")
async def login(user_id: uuid.UUID) -> dict[str, str]:
    return {"access_token": write_token(user_id), "token_type": "bearer"}


@router.get("/rates")
async def rates(request: Request, user: CurrentUser) -> dict[str, float]:
    return dict(request.app.state.rates)


@router.post("/invoices")
async def create_invoice(user: CurrentUser, invoice: Invoice) -> None:
    raise KeyError("tax rate for region")


@router.post("/invoices/sync")
async def sync_invoices(user: CurrentUser) -> dict[str, str]:
    try:
        raise OSError("ledger unreachable")
    except OSError as error:
        capture_handled(error, fingerprint=["ledger", "unreachable"], message="Ledger down")
    return {"status": "later"}


async def email_invoice(user: uuid.UUID) -> None:
    raise ValueError(f"no billing address for {user}")


@router.post("/invoices/email", status_code=202)
async def email(user: CurrentUser, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(email_invoice, user)
    return {"status": "accepted"}


app.include_router(router)
