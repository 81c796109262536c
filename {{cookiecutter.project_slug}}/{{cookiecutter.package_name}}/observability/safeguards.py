"""Checks that the setup `init_sentry` made is the one running.

A service that gains this package often still has its own `sentry_sdk.init` somewhere. Called
later, it replaces the client, and with it the scrubbing and the noise filter, without a word.
Here every later call is logged as an error naming its caller, and the start of the app logs
one more if the client is no longer ours.
"""

import functools
import logging
import re
import traceback
from typing import Any

import sentry_sdk

logger = logging.getLogger(__name__)

# The oldest SDK this package is tested with (and its CHANGELOG names).
MINIMUM_SENTRY_SDK = (2, 40, 0)

# The client init_sentry set up (None without a DSN), and the caller of a later init.
_state: dict[str, Any] = {"watching": False, "client": None, "replaced_by": None}


def require_supported_sdk() -> None:
    """Stop the start with one line when the installed SDK is older than this package needs."""
    installed = tuple(int(part) for part in re.findall(r"\d+", sentry_sdk.VERSION)[:3])
    if installed < MINIMUM_SENTRY_SDK:
        needed = ".".join(map(str, MINIMUM_SENTRY_SDK))
        raise RuntimeError(
            f"sentry-sdk {sentry_sdk.VERSION} is installed; this package needs >={needed},<3"
        )


def unguarded_init() -> Any:
    """The SDK's own `init`, for `init_sentry`: its calls are the expected ones."""
    return getattr(sentry_sdk.init, "__wrapped__", sentry_sdk.init)


def watch_for_second_init() -> None:
    """Remember the client just configured; log any later `sentry_sdk.init` with its caller."""
    client = sentry_sdk.get_client()
    _state.update(watching=True, client=client if client.is_active() else None, replaced_by=None)
    if hasattr(sentry_sdk.init, "__wrapped__"):
        return
    sdk_init = sentry_sdk.init

    @functools.wraps(sdk_init)
    def init_replacing_ours(*args: Any, **kwargs: Any) -> Any:
        frame = traceback.extract_stack(limit=2)[0]
        caller = f"{frame.filename}:{frame.lineno} ({frame.name})"
        _state["replaced_by"] = caller
        logger.error(
            "sentry_sdk.init called again at %s: it replaces the client init_sentry set up, "
            "and its scrubbing and noise filter with it; delete that call",
            caller,
        )
        return sdk_init(*args, **kwargs)

    sentry_sdk.init = init_replacing_ours  # type: ignore[assignment, misc, unused-ignore]


def check_client_is_ours() -> bool:
    """At start-up: log an error, naming the other caller when known, if ours was replaced."""
    if not _state["watching"]:
        return True
    ours, current = _state["client"], sentry_sdk.get_client()
    # Without a DSN there is no client of ours, only the SDK's inactive stand-in.
    if (current is ours) if ours is not None else not current.is_active():
        return True
    logger.error(
        "The Sentry client set up by init_sentry was replaced (by sentry_sdk.init at %s): "
        "events go out without its scrubbing and noise filter",
        _state["replaced_by"] or "a caller this check could not see",
    )
    return False
