from typing import Annotated

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.middleware.concurrency import Workload


async def settings_of_app(request: Request) -> Settings:
    """The settings the running app was built with."""
    # Async, like the other getters of app state: a plain def would run in the thread pool.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_of_app)]


async def workload_of_app(request: Request) -> Workload:
    """The requests the running app is working on, counted by the concurrency limit."""
    workload: Workload = request.app.state.workload
    return workload


WorkloadDep = Annotated[Workload, Depends(workload_of_app)]
