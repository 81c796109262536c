"""No token or password reaches the error server or the log from a request, whatever its name.

A client (or an attacker probing for what gets logged) puts the service's own tokens where
no field of the service expects them: a refresh token in `?refresh=` or under a one-letter
name, a verification link's token in `?t=`, a token as a path segment of a URL that matches
no route (404), a short password in `?pw=`, in a header such as `X-Auth` or a body field such
as `pwd`. With traces sampled at 1.0 each request is a transaction, and an unhandled error's
event carries the request's URL, query string, headers and body; the access log writes the
request line. None of them may hold a token or the password.
"""

import secrets

import httpx
import pytest

from harness.baking import BakedProject
from harness.error_servers import EnvelopeSink
from harness.mail_server import RefusingMailServer
from harness.planted_secrets import leaked, planted_env, signed_in, smtp_env
from harness.running_service import service_process

# Too short to pass for a random token: only the parameter's name gives it away.
SHORT_PASSWORD = f"pw{secrets.token_hex(4)}"

pytestmark = [
    pytest.mark.option_sets("default"),
    pytest.mark.xdist_group("secrets-at-sink"),
]


def test_tokens_in_urls_reach_neither_sink_nor_log(
    installed_project: BakedProject, seeded_env: dict
) -> None:
    with EnvelopeSink() as sink, RefusingMailServer() as mail:
        env = {
            **planted_env(seeded_env, sink.dsn(), local_variables=True),
            **smtp_env(mail),
        }
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                tokens = signed_in(client, mail, f"urls{secrets.token_hex(6)}")
                refresh = tokens["refresh token"]
                link = tokens["verification link token"]
                auth = {"Authorization": f"Bearer {tokens['access token']}"}
                queries = {
                    "refresh": refresh,
                    "r": refresh,
                    "t": link,
                    "access": tokens["access token"],
                    "pw": SHORT_PASSWORD,
                }
                listed = client.get("/api/v1/products", params=queries)
                assert listed.status_code == 200, listed.text
                for path in (f"/api/v1/auth/refresh/{refresh}", f"/verify-email/{link}"):
                    assert client.get(path).status_code == 404
                failed = client.get("/debug/sentry", params=queries, headers=auth)
                assert failed.status_code == 500, failed.text
            sink.wait_for(lambda s: s.payloads("event"), timeout=15)
            service.stop()
            log = service.output()

    transactions = [event["transaction"] for event in sink.payloads("transaction")]
    print(f"\ntransactions: {transactions}")
    planted = {**tokens, "short password": SHORT_PASSWORD}
    found = leaked(sink.raw(), planted)
    in_log = leaked(log.encode(), planted)
    print(f"tokens at the sink: {sorted(found)}; in the log: {sorted(in_log)}")
    assert found == {}, found
    assert in_log == {}, in_log


@pytest.mark.parametrize("local_variables", [False, True], ids=["locals-off", "locals-on"])
def test_passwords_under_short_names_reach_neither_sink_nor_log(
    installed_project: BakedProject, seeded_env: dict, local_variables: bool
) -> None:
    planted = {name: f"{SHORT_PASSWORD}{name}" for name in ("pw", "pwd", "pass", "auth")}
    with EnvelopeSink() as sink:
        env = planted_env(seeded_env, sink.dsn(), local_variables=local_variables)
        with service_process(installed_project, env) as service:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                failed = client.request(
                    "GET",
                    "/debug/sentry",
                    params={"pass": planted["pass"]},
                    json={"pw": planted["pw"], "pwd": planted["pwd"], "pass": planted["pass"]},
                    headers={"X-Auth": planted["auth"], "X-Pass": planted["pass"]},
                )
                assert failed.status_code == 500, failed.text
            sink.wait_for(lambda s: s.payloads("event"), timeout=15)
            service.stop()
            log = service.output()

    found = leaked(sink.raw(), planted)
    in_log = leaked(log.encode(), planted)
    print(f"\npasswords at the sink: {sorted(found)}; in the log: {sorted(in_log)}")
    assert found == {}, found
    assert in_log == {}, in_log
