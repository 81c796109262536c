"""Alembic environment: runs migrations on the app's own async engine and metadata."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.config.database import DatabaseOptions
from {{ cookiecutter.package_name }}.core.db import create_engine
from {{ cookiecutter.package_name }}.models import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # A migration may rightly run longer than any request's query (building an index). On
    # SQLite, a batch migration copies a table and drops the old one, which checked foreign
    # keys would refuse while other tables refer to it.
    options = DatabaseOptions(statement_timeout_seconds=0, foreign_keys=False)
    engine = create_engine(database_url(), options=options)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
