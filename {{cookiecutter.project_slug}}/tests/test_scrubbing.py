"""Free-text scrubbing: every kind of secret goes, ordinary text stays as it was."""

import pytest

from {{ cookiecutter.package_name }}.observability.scrubbing import scrub_text

LONG_PREFIX = "x" * 600


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("auth BASIC dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("token eyJhbGciOi.eyJzdWIi.c2ln", "eyJzdWIi"),
        ("retrying with PASSWORD=hunter2", "hunter2"),
        ("config api_key: 'k-123'", "k-123"),
        ("card 4242-4242-4242-4242 declined", "4242-4242-4242-4242"),
        ("card:4242424242424242.", "4242424242424242"),
        ("sent to jane@example.com", "jane@example.com"),
        (f"{LONG_PREFIX} password=hunter2", "hunter2"),
    ],
)
def test_every_kind_of_secret_is_redacted(text: str, secret: str) -> None:
    first = scrub_text(text)
    again = scrub_text(text)

    assert secret not in first
    assert again == first


@pytest.mark.parametrize(
    "text",
    [
        "SELECT users.id, users.hashed_password FROM users WHERE users.id = ?",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        # A request id whose digits in a row pass the Luhn check.
        "2beacb3519384bb3a7c4367910594612",
        "/api/v1/orders/{order_id}",
        "order 1234 of 2026-11-21",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text
