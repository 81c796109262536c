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
        # Reprs of objects: the secret word is part of the field's name.
        ("Charge(order_id=2, payment_token='tok_visa42')", "tok_visa42"),
        ("User(hashed_password='not-a-hash-yet')", "not-a-hash-yet"),
        ('{"refresh_token": "Zm9vYmFy-_x"}', "Zm9vYmFy-_x"),
        ("[parameters: ('ada', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA')]", "$argon2"),
        ("bcrypt $2b$12$abcdefghijklmnopqrstuu5Cq0bFQ2yU5x3y0W8m6m", "$2b$12$"),
        ("connect to postgresql+asyncpg://app:s3cr3t@db:5432/app", "s3cr3t"),
        ("broker redis://:r3d1s@cache:6379/0 refused", "r3d1s"),
        ("open https://app.example/verify-email?token=opaque-link-token", "opaque-link-token"),
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
        "http://127.0.0.1:8000/api/v1/orders/7",
        "price $20 for 2 items",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text
