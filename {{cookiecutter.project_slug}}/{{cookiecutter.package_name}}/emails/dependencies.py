from typing import Annotated

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.emails.backends import EmailBackend


async def get_email_backend(request: Request) -> EmailBackend:
    backend: EmailBackend = request.app.state.email_backend
    return backend


EmailBackendDep = Annotated[EmailBackend, Depends(get_email_backend)]
