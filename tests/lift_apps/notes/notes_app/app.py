"""Notes: sync SQLModel, PyJWT bearer tokens, no lifespan, routes under /api/v1."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel, select

from notes_app.auth import SECRET_KEY, create_token, current_user_id
from notes_app.db import create_tables, get_session
from notes_app.observability import capture_handled

__all__ = ["SECRET_KEY", "app"]


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int
    text: str


class Login(BaseModel):
    user_id: int
    password: str


class Upload(BaseModel):
    password: str
    card: str


class ArchiveUnavailable(Exception):
    pass


create_tables()
app = FastAPI(title="Notes")
router = APIRouter(prefix="/api/v1")
UserId = Annotated[int, Depends(current_user_id)]
SessionDep = Annotated[Session, Depends(get_session)]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/stats")
def stats() -> dict[str, int]:
    """Public, and broken: the stats cache was never filled."""
    raise RuntimeError("stats cache cold")


@router.post("/token")
def token(login: Login) -> dict[str, str]:
    return {"access_token": create_token(login.user_id)}


@router.post("/notes", status_code=201)
def add_note(user_id: UserId, session: SessionDep, text: str) -> Note:
    note = Note(owner_id=user_id, text=text)
    session.add(note)
    session.commit()
    session.refresh(note)
    return note


@router.get("/notes")
def list_notes(user_id: UserId, session: SessionDep) -> list[Note]:
    return list(session.exec(select(Note).where(Note.owner_id == user_id)))


@router.post("/notes/import")
def import_notes(user_id: UserId, session: SessionDep, upload: Upload) -> None:
    """Fails after a query: a bug the 500 reports."""
    session.exec(select(Note).where(Note.owner_id == user_id)).all()
    raise RuntimeError("import format not understood")


@router.post("/notes/archive")
def archive_notes(user_id: UserId) -> dict[str, str]:
    """The archive is down: the app recovers and reports it as handled."""
    try:
        raise ArchiveUnavailable("archive timed out")
    except ArchiveUnavailable as error:
        capture_handled(error, fingerprint=["archive", "timeout"], message="Archive down")
    return {"status": "queued"}


def reindex(user_id: int) -> None:
    raise LookupError(f"search index missing for user {user_id}")


@router.post("/notes/reindex", status_code=202)
def start_reindex(user_id: UserId, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(reindex, user_id)
    return {"status": "accepted"}


app.include_router(router)
