"""The database's settings: what every database shares here, each one's own in its module."""

from dataclasses import dataclass

from pydantic import Field

from {{ cookiecutter.package_name }}.core.config.service import LocalOnlySwitch, ServiceSettings


@dataclass(frozen=True)
class DatabaseOptions:
    """How the engine pools connections and how long it waits; see `EngineSettings`."""

    pool_size: int = 10
    max_overflow: int = 10
    # Longest wait for a pooled connection (and on SQLite for the write lock) before a 503.
    pool_timeout_seconds: float = 10.0
    # A round trip before every checkout; without it a dead connection is found by its first
    # query, which answers 503 and makes the pool replace every connection older than it.
    pool_pre_ping: bool = False
    # PostgreSQL only: a query running longer is cancelled by the server (0: never).
    statement_timeout_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    # SQLite only: foreign keys are checked unless a migration turns them off.
    foreign_keys: bool = True


class EngineSettings(ServiceSettings):
    """What every database's settings share; each database's module adds its URL and its own."""

    database_echo: LocalOnlySwitch = False
    # Connections per process: kept open, and extra ones opened under load and closed after.
    database_pool_size: int = Field(default=DatabaseOptions.pool_size, gt=0)
    database_max_overflow: int = Field(default=DatabaseOptions.max_overflow, ge=0)
    # Longest wait for a connection (on SQLite, for the turn to write) before answering 503.
    database_pool_timeout_seconds: float = Field(default=DatabaseOptions.pool_timeout_seconds, gt=0)
    database_pool_pre_ping: bool = DatabaseOptions.pool_pre_ping

    def database_options(self) -> DatabaseOptions:
        return DatabaseOptions(
            pool_size=self.database_pool_size,
            max_overflow=self.database_max_overflow,
            pool_timeout_seconds=self.database_pool_timeout_seconds,
            pool_pre_ping=self.database_pool_pre_ping,
        )
