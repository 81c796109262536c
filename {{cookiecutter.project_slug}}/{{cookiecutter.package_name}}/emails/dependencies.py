from typing import Annotated

from fastapi import Depends

from {{ cookiecutter.package_name }}.core.dependencies import app_state
from {{ cookiecutter.package_name }}.emails.backends import EmailBackend

EmailBackendDep = Annotated[EmailBackend, Depends(app_state("email_backend"))]
