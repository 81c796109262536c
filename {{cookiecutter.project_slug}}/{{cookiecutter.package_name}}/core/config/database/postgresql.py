"""PostgreSQL's settings: the server, and how long a connection or a query may take."""

from dataclasses import replace

from pydantic import Field

from {{ cookiecutter.package_name }}.core.config.database import DatabaseOptions, EngineSettings
from {{ cookiecutter.package_name }}.core.config.service import ConnectionUrl

DATABASE_NAME = "{{ cookiecutter.package_name }}"


class DatabaseSettings(EngineSettings):
    database_url: ConnectionUrl = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE_NAME}"
    # The server cancels a query running longer (0: never); the request answers 503.
    database_statement_timeout_seconds: float = Field(
        default=DatabaseOptions.statement_timeout_seconds, ge=0
    )
    database_connect_timeout_seconds: float = Field(
        default=DatabaseOptions.connect_timeout_seconds, gt=0
    )

    def database_options(self) -> DatabaseOptions:
        return replace(
            super().database_options(),
            statement_timeout_seconds=self.database_statement_timeout_seconds,
            connect_timeout_seconds=self.database_connect_timeout_seconds,
        )
