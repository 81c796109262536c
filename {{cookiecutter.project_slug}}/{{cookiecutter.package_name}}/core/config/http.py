"""HTTP: the API's prefix, the browser origins it serves, and what one request or all may hold."""

from pydantic import Field, ValidationInfo, field_validator

from {{ cookiecutter.package_name }}.core.config.service import ServiceSettings

# Every API route's path starts with it; the probes and the docs stay outside it.
API_PREFIX = "/api/v1"


class HttpSettings(ServiceSettings):
    # Browser origins allowed to call the API, e.g. ["https://app.example.com"]; none by default.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    max_request_body_bytes: int = Field(default=1_048_576, gt=0)
    # Longest a request's body may take to arrive, counted from its head; slower ones get 408.
    request_body_timeout_seconds: float = Field(default=15.0, gt=0)
    # Bytes of request bodies the process holds at once while they arrive; past it, 503.
    max_buffered_body_bytes: int = Field(default=67_108_864, gt=0)
    # A request head (request line and headers) larger than this is refused with 431, and one
    # not complete within the timeout of its first byte with 408 (`core/http_protocol.py`).
    max_request_head_bytes: int = Field(default=65_536, gt=0)
    request_head_timeout_seconds: float = Field(default=10.0, gt=0)
    # Requests in progress per process; more are refused at once with 503 (0: no limit).
    max_concurrent_requests: int = Field(default=100, ge=0)

    @field_validator("max_buffered_body_bytes")
    @classmethod
    def _hold_at_least_one_body(cls, budget: int, info: ValidationInfo) -> int:
        largest = info.data.get("max_request_body_bytes")
        if largest is not None and budget < largest:
            raise ValueError(f"must be at least MAX_REQUEST_BODY_BYTES ({largest})")
        return budget
