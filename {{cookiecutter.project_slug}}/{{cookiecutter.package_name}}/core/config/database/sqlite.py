"""SQLite's settings: the file the service keeps its data in."""

from {{ cookiecutter.package_name }}.core.config.database import EngineSettings
from {{ cookiecutter.package_name }}.core.config.service import ConnectionUrl


class DatabaseSettings(EngineSettings):
    database_url: ConnectionUrl = "sqlite+aiosqlite:///./app.db"
