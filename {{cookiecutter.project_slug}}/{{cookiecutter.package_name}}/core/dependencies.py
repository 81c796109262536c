from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.middleware.concurrency import Workload


def app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency on what the running app keeps in `app.state` under `name`.

    The type is the one its `Annotated` alias declares, e.g.
    `SettingsDep = Annotated[Settings, Depends(app_state("settings"))]`.
    """

    # Async: a plain def would run in the thread pool.
    async def of_app(request: Request) -> Any:
        return getattr(request.app.state, name)

    return of_app


# The settings the running app was built with.
SettingsDep = Annotated[Settings, Depends(app_state("settings"))]
# The requests the running app is working on, counted by the concurrency limit.
WorkloadDep = Annotated[Workload, Depends(app_state("workload"))]
