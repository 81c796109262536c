"""`make errors` gives a baked project a local error inbox that receives its first event."""

import json
from pathlib import Path

import httpx
import pytest

from harness.baking import BakedProject, bake, command_env, env_file_value, make_must_succeed
from harness.processes import free_port
from harness.running_service import service_process

pytestmark = [pytest.mark.option_sets("default"), pytest.mark.xdist_group("delivery")]


def test_make_errors_starts_an_inbox_that_receives_events(
    installed_project: BakedProject,
    seeded_env: dict,
    tools_bin: Path,
    tmp_path: Path,
    config_file: Path,
) -> None:
    # A bake of its own: `make errors` rewrites .env, which other tests' bake must keep.
    project = bake(tmp_path / "inbox", config_file)
    env = command_env(tools_bin)
    port = free_port()
    try:
        make_must_succeed(project, "errors", f"ERRORS_PORT={port}", env=env)
        dsn = env_file_value(project, "SENTRY_DSN")
        assert f"@127.0.0.1:{port}/" in dsn
        make_must_succeed(project, "errors", env=env)
        assert env_file_value(project, "SENTRY_DSN") == dsn, "a second run made another project"

        service_env = {**seeded_env, "SENTRY_DSN": dsn}
        with (
            service_process(installed_project, service_env) as service,
            httpx.Client(base_url=service.url, timeout=15) as client,
        ):
            error_id = client.get("/debug/sentry").json()["error_id"]
            service.stop()

        state = json.loads((project / ".error-inbox" / "state.json").read_text())
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/canonical/0/",
            headers={"Authorization": f"Bearer {state['token']}"},
        ) as inbox:
            project_id = dsn.rsplit("/", 1)[1]
            [issue] = inbox.get("issues/", params={"project": project_id}).json()["results"]
            [event] = inbox.get("events/", params={"issue": issue["id"]}).json()["results"]
        assert issue["calculated_type"] == "SetupCheckError"
        assert event["event_id"].replace("-", "") == error_id
    finally:
        make_must_succeed(project, "errors-stop", env=env)
