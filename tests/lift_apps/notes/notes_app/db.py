"""A sync SQLModel engine, created at import as many small apps do."""

import os
from collections.abc import Iterator

from sqlmodel import Session, SQLModel, create_engine

engine = create_engine(os.environ.get("NOTES_DATABASE_URL", "sqlite:///./notes.db"))


def create_tables() -> None:
    SQLModel.metadata.create_all(engine)


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session
