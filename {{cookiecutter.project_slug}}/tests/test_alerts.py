import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.observability.alerts import (
    apply_alert_rules,
    recommended_alert_rules,
)


def test_the_recommended_rules_cover_new_regressed_spiking_and_widespread_issues() -> None:
    conditions = {
        rule["conditions"][0]["id"].rsplit(".", 1)[-1]: rule["conditions"][0]
        for rule in recommended_alert_rules()
    }

    assert set(conditions) == {
        "FirstSeenEventCondition",
        "RegressionEventCondition",
        "EventFrequencyCondition",
        "EventUniqueUserFrequencyCondition",
    }
    spike = conditions["EventFrequencyCondition"]
    assert (spike["comparisonType"], spike["value"], spike["interval"]) == ("percent", 200, "1h")
    assert conditions["EventUniqueUserFrequencyCondition"]["value"] == 50


@pytest.fixture
def sentry_api() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server that records what the rules API receives."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(
                {"path": self.path, "auth": self.headers["Authorization"], "rule": body}
            )
            self.send_response(201)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_rules_are_created_through_the_api(
    sentry_api: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = sentry_api

    created = apply_alert_rules(
        api_url=url, organization="acme", project="shop", auth_token="sntrys_test"
    )

    assert created == [rule["name"] for rule in recommended_alert_rules()]
    assert {call["path"] for call in received} == {"/api/0/projects/acme/shop/rules/"}
    assert {call["auth"] for call in received} == {"Bearer sntrys_test"}
    assert [call["rule"] for call in received] == recommended_alert_rules()
