"""Who and what an event is about: the user, and tags to filter by."""

import sentry_sdk

from .middleware import sentry_user_var
from .sentry import sends_personal_data


def bind_user(
    *, user_id: int | str, username: str, email: str | None = None, plan: str | None = None
) -> None:
    """Attach the authenticated user to this request's events; email only when allowed."""
    user: dict[str, str] = {"id": str(user_id), "username": username}
    if email and sends_personal_data():
        user["email"] = email
    sentry_sdk.set_user(user)
    sentry_user_var.set(user)
    if plan:
        sentry_sdk.set_tag("plan", plan)
