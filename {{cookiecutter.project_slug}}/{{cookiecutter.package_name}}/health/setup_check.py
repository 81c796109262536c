from fastapi import APIRouter

router = APIRouter(tags=["setup check"])


class SetupCheckError(Exception):
    """Raised on purpose to prove that errors reach the error tracker."""


@router.get(
    "/debug/sentry", responses={500: {"description": "Always: the error raised on purpose"}}
)
async def trigger_error() -> None:
    """Raise an error on purpose, to check a new DSN; not mounted in production."""
    raise SetupCheckError("Setup check: this error was raised on purpose")
