from typing import Annotated

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.core.config import Settings


def settings_of_app(request: Request) -> Settings:
    """The settings the running app was built with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_of_app)]
