from typing import Annotated

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.core.config import Settings


async def settings_of_app(request: Request) -> Settings:
    """The settings the running app was built with."""
    # Async, like the other getters of app state: a plain def would run in the thread pool.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_of_app)]
