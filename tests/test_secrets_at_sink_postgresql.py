"""No planted secret reaches the error server when PostgreSQL goes away under the service.

The postgresql bake runs against a private PostgreSQL cluster (the shared server on 5432 keeps
serving other tests) whose URL carries a planted password (the cluster trusts loopback and
ignores it). Once the service has answered, the cluster is stopped as an administrator would
for a restart, and a sign-up and a log-in with the planted password answer 503. The outage's
events hold neither the password, nor its hash, nor the database URL's password, nor
SECRET_KEY, with local variables on and off.
"""

import re
import secrets
from pathlib import Path

import httpx
import pytest

from harness.baking import BakedProject, command_env, make_must_succeed
from harness.error_servers import EnvelopeSink
from harness.own_postgres import own_postgres, required_binaries
from harness.planted_secrets import (
    DATABASE_PASSWORD,
    PASSWORD,
    SECRET_KEY,
    assert_sign_up_and_log_in_unavailable,
    exception_types,
    leaked_anywhere,
    planted_env,
)
from harness.running_service import service_process

pytestmark = [
    pytest.mark.option_sets("postgresql"),
    pytest.mark.xdist_group("secrets-at-sink-postgresql"),
]


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_a_database_outage_sends_no_planted_secret(
    installed_project: BakedProject, tools_bin: Path, local_variables: bool
) -> None:
    bin_dir = required_binaries()
    username = f"outage{secrets.token_hex(6)}"
    with own_postgres(bin_dir) as server, EnvelopeSink() as sink:
        url = server.create_database("outage")
        env = command_env(tools_bin, DATABASE_URL=url)
        make_must_succeed(installed_project.root, "migrate", "seed", env=env)
        env = {
            **planted_env(env, sink.dsn(), local_variables=local_variables),
            "DATABASE_URL": re.sub(r"://(\w+)@", rf"://\1:{DATABASE_PASSWORD}@", url),
        }
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                assert client.get("/api/v1/products").status_code == 200
                server.stop()
                assert_sign_up_and_log_in_unavailable(
                    client, new_username=username, account=f"{username}@example.com"
                )
            sink.wait_for(lambda s: s.payloads("event"), timeout=15)
            service.stop()
            log = service.output()

    print(f"\nexceptions reported: {sorted(exception_types(sink))}")
    planted = {
        "password": PASSWORD,
        "database password": DATABASE_PASSWORD,
        "SECRET_KEY": SECRET_KEY,
    }
    found = leaked_anywhere(sink.raw(), planted)
    print(f"secrets at the sink: {sorted(found)}")
    assert found == {}, found
    assert DATABASE_PASSWORD not in log, log
    assert PASSWORD not in log, log
