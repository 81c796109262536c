from pathlib import Path

from alembic import command
from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_migrations_match_the_models(database_url: str) -> None:
    """Fails when a model changed without a migration: run `make migration m="..."`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)

    command.check(config)
