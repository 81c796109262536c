"""Who and what an event is about: the user, and tags to filter by."""

import sentry_sdk

from .middleware import sentry_user_var
from .sentry import sends_personal_data


def bind_user(
    *, user_id: int | str, username: str, email: str | None = None, plan: str | None = None
) -> None:
    """Attach the authenticated user to this request's events.

    Without personal data allowed only the opaque id goes; the username and email only with it.
    """
    user: dict[str, str] = {"id": str(user_id)}
    if sends_personal_data():
        user["username"] = username
        if email:
            user["email"] = email
    sentry_sdk.set_user(user)
    sentry_user_var.set(user)
    if plan:
        sentry_sdk.set_tag("plan", plan)
