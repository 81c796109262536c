"""The database: models' base, the engine, the per-request session and outages as 503s."""

from {{ cookiecutter.package_name }}.core.db.base import (
    Base,
    TimestampMixin,
    UnloggedString,
    UTCDateTime,
    string_enum,
    utcnow,
)
from {{ cookiecutter.package_name }}.core.db.engine import (
    create_engine,
    create_sessionmaker,
    standalone_session,
)
from {{ cookiecutter.package_name }}.core.db.sessions import SessionDep, get_session
from {{ cookiecutter.package_name }}.core.db.writes import TrackedSession, has_writes

__all__ = [
    "Base",
    "SessionDep",
    "TimestampMixin",
    "TrackedSession",
    "UTCDateTime",
    "UnloggedString",
    "create_engine",
    "create_sessionmaker",
    "get_session",
    "has_writes",
    "standalone_session",
    "string_enum",
    "utcnow",
]
