"""Free-text scrubbing: every kind of secret goes, ordinary text stays as it was."""

import pytest

from {{ cookiecutter.package_name }}.observability.scrubbing import FILTERED, scrub, scrub_text

LONG_PREFIX = "x" * 600
ARGON2_SALT = "3oT1vcBGk9PVTYdxOCqYNw"
ARGON2_DIGEST = "sZsh8jHWmPb6O8rPGdY9i0z3cDquCWJQS2q/3ylPA+o"
REFRESH_TOKEN = "WEgLzZfNEQKXgAnj8_HG7SD3_C73_ZcsJbY6DiizHR8"
ARGON2_HASH = f"$argon2id$v=19$m=65536,t=3,p=4${ARGON2_SALT}${ARGON2_DIGEST}"


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
        # Salt and digest come after the commas of the parameters.
        (f"[parameters: ('ada', '{ARGON2_HASH}')]", ARGON2_SALT),
        (f"row=({ARGON2_HASH!r},)", ARGON2_DIGEST),
        ("{'hashed_password': '" + ARGON2_HASH + "'}", ARGON2_DIGEST),
        ("bcrypt $2b$12$abcdefghijklmnopqrstuu5Cq0bFQ2yU5x3y0W8m6m", "$2b$12$"),
        ("connect to postgresql+asyncpg://app:s3cr3t@db:5432/app", "s3cr3t"),
        ("broker redis://:r3d1s@cache:6379/0 refused", "r3d1s"),
        # SQLAlchemy reads a URL's password up to its `@`, slashes and all.
        ("connect to postgresql://app:pa/ss@db/app", "ss@"),
        # Quoted values end at their closing quote, spaces and all.
        ('login with password: "correct horse battery"', "battery"),
        ("User(password='correct horse battery', id=1)", "battery"),
        ('{"new_password": "it\\"s a secret"}', "a secret"),
        # Validation errors echo the input, whichever field it was meant for.
        (
            "1 validation error for Register\npassword\n  String should have at most 128 "
            "characters [type=string_too_long, input_value='my secret pass', input_type=str]",
            "secret pass",
        ),
        (
            "refresh_token\n  Field required [type=missing, input_value={'refresh': "
            "'opaque, with a comma'}, input_type=dict]",
            "with a comma",
        ),
        ("open https://app.example/verify-email?token=opaque-link-token", "opaque-link-token"),
        # Tokens under names no field expects: random strings by their shape, query parameters
        # by a name that says credential.
        ("refresh=opaque-value&page=2", "opaque-value"),
        ("GET /x?page=2&code=abc123", "abc123"),
        ("GET /x?access=short;sig=s1g", "s1g"),
        ("GET /login?user=ada&pw=hunter2", "hunter2"),
        ("GET /login?pass=hunter2", "hunter2"),
        (f"/api/v1/auth/refresh/{REFRESH_TOKEN}", REFRESH_TOKEN),
        (f"GET /x?r={REFRESH_TOKEN}", REFRESH_TOKEN),
        (f"Refresh({REFRESH_TOKEN!r})", REFRESH_TOKEN),
        # Payment providers' tokens and keys, by their prefixes, whatever holds them.
        ("card = 'tok_visa42'", "tok_visa42"),
        ("provider refused key sk_live_51Habc", "sk_live_51Habc"),
        ("whsec_abc123 did not verify", "whsec_abc123"),
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
        "550e8400-e29b-41d4-a716-446655440000",
        "orders_service.observability.HeadLimitedHttpToolsProtocol",
        "test_a_failed_start_sends_no_database_or_redis_password",
        "the key and code of status_code 503, with access to refresh",
        "/api/v1/products?page=2&sort=price",
        "stock_count and desk_lamp",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        # A port and a path are not a URL's password, even when an address follows.
        "GET http://127.0.0.1:8000/api/v1/users/jane@example.com",
        "GET http://127.0.0.1:8000?next=jane@example.com",
    ],
)
def test_ordinary_text_with_personal_data_is_left_alone(text: str) -> None:
    assert scrub_text(text, personal_data=True) == text


def test_short_secret_names_are_filtered_only_as_whole_keys() -> None:
    data = {"pw": "a", "pwd": "b", "pass": "c", "passphrase": "d", "author": "ada", "compass": "n"}
    headers = [("b'x-auth'", "b'e'"), ("b'x-pass'", "b'f'"), ("b'x-author'", "b'g'")]

    assert scrub(data) == {
        **dict.fromkeys(("pw", "pwd", "pass", "passphrase"), FILTERED),
        "author": "ada",
        "compass": "n",
    }
    assert scrub(headers) == [("b'x-auth'", FILTERED), ("b'x-pass'", FILTERED), headers[2]]
