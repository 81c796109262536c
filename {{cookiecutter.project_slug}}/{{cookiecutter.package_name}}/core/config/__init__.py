"""Settings, read once from the environment and `.env`, validated at start; a module per concern."""

from {{ cookiecutter.package_name }}.core.config.http import API_PREFIX
from {{ cookiecutter.package_name }}.core.config.settings import (
    ConfigurationError,
    Settings,
    get_settings,
)

__all__ = ["API_PREFIX", "ConfigurationError", "Settings", "get_settings"]
