"""The PostgreSQL engine: asyncpg with a connect timeout and a statement timeout on the server."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from {{ cookiecutter.package_name }}.core.config.database import DatabaseOptions


def create_postgresql_engine(
    database_url: str, *, echo: bool, options: DatabaseOptions, **pool: Any
) -> AsyncEngine:
    server_settings = {"application_name": "{{ cookiecutter.project_slug }}"}
    if options.statement_timeout_seconds:
        server_settings["statement_timeout"] = str(int(options.statement_timeout_seconds * 1000))
    return create_async_engine(
        database_url,
        echo=echo,
        pool_pre_ping=options.pool_pre_ping,
        connect_args={
            "server_settings": server_settings,
            "timeout": options.connect_timeout_seconds,
        },
        **pool,
    )
