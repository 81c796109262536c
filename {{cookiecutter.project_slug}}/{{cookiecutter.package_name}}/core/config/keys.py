"""What a key that signs tokens must be: never a published one, and random outside a laptop."""

import math
import secrets
from collections import Counter
from functools import cache

from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config.service import LOCAL_ENVIRONMENTS

# Keys printed in this project's files, its examples and their history: anyone can sign tokens
# with them, so they are refused in every environment.
PUBLICLY_KNOWN_SECRET_KEYS = frozenset(
    {
        "change-me",
        "previous-secret-key",
        "local-inbox-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        # Defaults of the example apps the template's lift is tried on.
        "development-only-secret-key-0123456789",
        "development-only-jwt-secret-0123456789",
        "development-only-session-secret",
    }
)
MAKE_A_KEY_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
RANDOM_KEY_NOTICE = (
    "SECRET_KEY is not set: tokens are signed with a random key of this process "
    "and stop working when it ends"
)
MIN_PRODUCTION_SECRET_BYTES = 32
# Estimated as the key's length times the Shannon entropy of its characters: a random key
# of 32 bytes, hex or URL-safe, holds far more; a short pattern repeated holds less.
MIN_PRODUCTION_SECRET_BITS = 112


@cache
def process_secret_key() -> SecretStr:
    """What a development or test process signs with when SECRET_KEY is unset; dies with it."""
    return SecretStr(secrets.token_urlsafe(48))


def check_secret_key(secret: str, *, environment: str, name: str = "") -> None:
    """Refuse a key anyone can know anywhere, and a weak one outside development and test."""
    if secret.strip() in PUBLICLY_KNOWN_SECRET_KEYS:
        raise ValueError(f"{name}is a publicly known key; make one with {MAKE_A_KEY_COMMAND}")
    if environment in LOCAL_ENVIRONMENTS:
        return
    if secret != secret.strip():
        # Likely pasted with its line break; one process may strip it and another not.
        raise ValueError(f"{name}has spaces or a line break around it")
    if len(secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
        raise ValueError(
            f"{name}must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes "
            f"in the {environment} environment"
        )
    if estimated_bits(secret) < MIN_PRODUCTION_SECRET_BITS or is_repeated(secret):
        raise ValueError(f"{name}is not random enough; make one with {MAKE_A_KEY_COMMAND}")


def estimated_bits(secret: str) -> float:
    """The key's length times the Shannon entropy of its characters, in bits."""
    counts = Counter(secret).values()
    return -sum(count * math.log2(count / len(secret)) for count in counts)


def is_repeated(secret: str) -> bool:
    """Whether the key is a shorter string repeated: its characters' mix hides that."""
    return secret in (secret + secret)[1:-1]
