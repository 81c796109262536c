"""No enumeration oracle: the baked service, run under uvicorn, answers alike for an address
that has an account and one that has none, in status, body and time.

Each auth route that takes an address is asked in turns about a known and an unknown address;
the answers must be identical, and the medians of their times must differ by less than the
spread (interquartile range) of either sample. A statistical comparison on loopback, bounded in
count, not a fixed time threshold. A route whose times differ is measured again: noise from
other work on the machine comes and goes, an oracle shows in every round.
"""

import itertools
import statistics
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from harness.accounts import verify_address
from harness.baking import BakedProject
from harness.running_service import service_process

SAMPLES = 15
TIMING_ROUNDS = 3
PASSWORD = "enumeration-passphrase-7"
OWNER_PASSWORD = "the-owners-own-passphrase"
# The throttles answer 429 alike for any address; they are not what this test measures.
UNTHROTTLED = {
    "AUTH_RATE_LIMIT_PER_CLIENT": "1000000/minute",
    "AUTH_RATE_LIMIT_PER_ACCOUNT": "1000000/minute",
    "EMAIL_RATE_LIMIT_PER_USER": "1000000/minute",
    "EMAIL_RATE_LIMIT_PER_RECIPIENT": "1000000/minute",
}

Ask = Callable[[httpx.Client, str], httpx.Response]


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _register(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    user = {"email": email, "username": f"u{_unique()}", "password": password}
    return client.post("/api/v1/auth/register", json=user)


def _log_in(client: httpx.Client, email: str) -> httpx.Response:
    return client.post(
        "/api/v1/auth/login", data={"username": email, "password": "not-the-password"}
    )


def _reset(client: httpx.Client, email: str) -> httpx.Response:
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def _resend(client: httpx.Client, email: str) -> httpx.Response:
    return client.post("/api/v1/auth/verify-email/resend", json={"email": email})


def _iqr(seconds: list[float]) -> float:
    quartiles = statistics.quantiles(seconds, n=4)
    return quartiles[2] - quartiles[0]


def _measure(
    client: httpx.Client, ask: Ask, known: Callable[[], str], name: str
) -> tuple[list[str], bool]:
    """One round of alternating questions: the answers' differences, and whether times differ."""
    answers: dict[str, set[tuple[int, str]]] = {"known": set(), "unknown": set()}
    seconds: dict[str, list[float]] = {"known": [], "unknown": []}
    for turn in range(2 * SAMPLES):
        kind = ("known", "unknown")[turn % 2]
        email = known() if kind == "known" else f"nobody-{_unique()}@example.com"
        started = time.perf_counter()
        response = ask(client, email)
        seconds[kind].append(time.perf_counter() - started)
        answers[kind].add((response.status_code, response.text))
    medians = {kind: statistics.median(values) for kind, values in seconds.items()}
    spreads = {kind: _iqr(values) for kind, values in seconds.items()}
    difference = abs(medians["known"] - medians["unknown"])
    print(
        f"{name}: median known {medians['known'] * 1000:.1f} ms, "
        f"unknown {medians['unknown'] * 1000:.1f} ms; "
        f"IQR {spreads['known'] * 1000:.1f} / {spreads['unknown'] * 1000:.1f} ms"
    )
    differing = []
    if answers["known"] != answers["unknown"] or len(answers["known"]) != 1:
        differing.append(f"{name} answers differ: {answers}")
    return differing, difference >= min(spreads.values())


def _compare(client: httpx.Client, ask: Ask, known: Callable[[], str], name: str) -> list[str]:
    """The oracles one route offers: any difference in answers, or in time in every round."""
    for _ in range(TIMING_ROUNDS):
        differing, times_differ = _measure(client, ask, known, name)
        if differing or not times_differ:
            return differing
    return [f"{name} medians differ in {TIMING_ROUNDS} rounds out of {TIMING_ROUNDS}"]


@pytest.mark.option_sets("default")
def test_auth_routes_answer_alike_for_known_and_unknown_addresses(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    env = {**seeded_env, **UNTHROTTLED}
    with (
        service_process(installed_project, env) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        verified = f"known-{_unique()}@example.com"
        unverified = f"waiting-{_unique()}@example.com"
        for email in (verified, unverified):
            assert _register(client, email, OWNER_PASSWORD).status_code == 202
        verify_address(installed_project.root, env, verified)

        # A stranger signing up with a password of their own, then signing in: the pair
        # answers 202 then 401 whether the address was free or taken.
        pairs = set()
        for email in (verified, unverified, f"free-{_unique()}@example.com"):
            registered = _register(client, email)
            stranger = client.post(
                "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
            )
            pairs.add((registered.status_code, registered.text, stranger.status_code))
        assert len(pairs) == 1, pairs
        assert next(iter(pairs))[::2] == (202, 401)

        # A verified and an unverified account alternate as the known address.
        turns = itertools.count()

        def known() -> str:
            return (verified, unverified)[next(turns) % 2]

        oracles = [
            oracle
            for name, ask in (
                ("sign-up", _register),
                ("log-in", _log_in),
                ("password reset", _reset),
                ("resend verification", _resend),
            )
            for oracle in _compare(client, ask, known, name)
        ]
        assert oracles == []
