"""Rate limits of API steps on one `motia start` process (SQLite): 429 with Retry-After and
the RateLimit headers once a client is over its limit, counted by address, header or the
step's own key; the project's default and the opt-out; trusted proxies deciding who the
client is; `ctx.rate_limit` in a handler; bad settings refused at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, start_server, write_project
from tests.http.support import log_records, module_server

pytestmark = pytest.mark.slow


def api(name: str, path: str, limit: str | None, method: str = "GET") -> str:
    extra = f', "rateLimit": {limit}' if limit is not None else ""
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "{method}", "path": "{path}"{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{"client": req["client"]}}}}
    """


GUARDED = """
    config = {"type": "api", "name": "Geocode", "method": "GET", "path": "/geocode",
              "rateLimit": False}

    def handler(req, ctx):
        allowed, retry_after = ctx.rate_limit("geocoder", requests=2, per="1h")
        return {"status": 200, "body": {"allowed": allowed, "retryAfter": retry_after}}
"""

FILES = {
    "steps/orders_step.py": api("CreateOrder", "/orders", '{"requests": 3, "per": "1m"}', "POST"),
    "steps/keyed_step.py": api(
        "Keyed", "/keyed", '{"requests": 1, "per": "1h", "by": "header:x-api-key"}'
    ),
    "steps/tenant_step.py": api(
        "Tenant",
        "/tenants/:tenant",
        '{"requests": 1, "per": "1h", "by": lambda req: req["pathParams"]["tenant"]}',
    ),
    "steps/subject_step.py": api(
        "Subject", "/subject", '{"requests": 1, "per": "1h", "by": "subject"}'
    ),
    "steps/broken_step.py": api(
        "BrokenKey", "/broken", '{"requests": 1, "per": "1h", "by": lambda req: 1 / 0}'
    ),
    "steps/defaulted_step.py": api("Defaulted", "/defaulted", None),
    "steps/exempt_step.py": api("Exempt", "/exempt", "False"),
    "steps/who_step.py": api("Who", "/who", '{"requests": 2, "per": "1h"}'),
    "steps/geocode_step.py": GUARDED,
    "config.yml": """
        http:
          maxBodySize: 100
          rateLimit:
            requests: 2
            per: 1h
          trustedProxies: ["127.0.0.1"]
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "rate-limits", FILES) as running:
        yield running


def test_over_the_limit_is_429_with_retry_after_and_ratelimit_headers(
    server: ServerProcess,
) -> None:
    client = {"x-forwarded-for": "198.51.100.1"}
    answers = [server.client.post("/orders", json={}, headers=client) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
    assert answers[0].headers["ratelimit-policy"] == "3;w=60"
    assert answers[0].headers["ratelimit-reset"] == "20"  # one request comes back per 20 s

    # Over the limit: refused before the body is read (it is larger than maxBodySize).
    refused = server.client.post("/orders", content=b"x" * 1000, headers=client)
    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body == {"error": "Too many requests", "traceId": body["traceId"]}
    assert refused.headers["x-trace-id"] == body["traceId"]
    assert 19 <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 59 <= int(refused.headers["ratelimit-reset"]) <= 60

    record = next(r for r in log_records(server) if r.get("traceId") == body["traceId"])
    assert record["msg"] == "request rejected: 429 Too many requests", record
    assert record["step"] == "CreateOrder"
    assert record["client"] == "198.51.100.1"

    # Another client has its own count.
    other = server.client.post("/orders", json={}, headers={"x-forwarded-for": "198.51.100.2"})
    assert other.status_code == 200


def test_counted_by_a_header_or_by_the_client_when_it_is_missing(server: ServerProcess) -> None:
    me = {"x-forwarded-for": "198.51.100.10"}
    assert server.client.get("/keyed", headers={**me, "x-api-key": "a"}).status_code == 200
    assert server.client.get("/keyed", headers={**me, "x-api-key": "a"}).status_code == 429
    assert server.client.get("/keyed", headers={**me, "x-api-key": "b"}).status_code == 200
    assert server.client.get("/keyed", headers=me).status_code == 200  # under the address
    assert server.client.get("/keyed", headers=me).status_code == 429


def test_counted_by_the_steps_own_key(server: ServerProcess) -> None:
    assert server.client.get("/tenants/acme").status_code == 200
    assert server.client.get("/tenants/acme").status_code == 429
    assert server.client.get("/tenants/globex").status_code == 200


def test_subject_without_authentication_is_counted_by_the_client(server: ServerProcess) -> None:
    assert (
        server.client.get("/subject", headers={"x-forwarded-for": "192.0.2.1"}).status_code == 200
    )
    assert (
        server.client.get("/subject", headers={"x-forwarded-for": "192.0.2.1"}).status_code == 429
    )
    assert (
        server.client.get("/subject", headers={"x-forwarded-for": "192.0.2.2"}).status_code == 200
    )


def test_a_failing_by_function_is_a_500_that_names_the_step(server: ServerProcess) -> None:
    answer = server.client.get("/broken")
    assert answer.status_code == 500
    body = answer.json()
    assert body == {"error": "Internal server error", "traceId": body["traceId"]}
    record = next(r for r in log_records(server) if r.get("traceId") == body["traceId"])
    assert record["step"] == "BrokenKey", record
    assert "ZeroDivisionError" in record["error"], record


def test_the_project_default_applies_unless_a_step_opts_out(server: ServerProcess) -> None:
    me = {"x-forwarded-for": "203.0.113.50"}
    statuses = [server.client.get("/defaulted", headers=me).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    exempt = [server.client.get("/exempt", headers=me) for _ in range(5)]
    assert {a.status_code for a in exempt} == {200}
    assert "ratelimit-limit" not in exempt[0].headers


def test_a_trusted_proxy_names_the_client(server: ServerProcess) -> None:
    forwarded = {"x-forwarded-for": "6.6.6.6, 203.0.113.9", "x-forwarded-proto": "https"}
    answer = server.client.get("/who", headers=forwarded)
    assert answer.json()["client"] == {"ip": "203.0.113.9", "scheme": "https"}
    rfc = server.client.get("/who", headers={"forwarded": "for=203.0.113.77;proto=https"})
    assert rfc.json()["client"] == {"ip": "203.0.113.77", "scheme": "https"}


def test_ctx_rate_limit_guards_a_call_to_another_service(server: ServerProcess) -> None:
    answers = [server.client.get("/geocode").json() for _ in range(3)]
    assert [a["allowed"] for a in answers] == [True, True, False]
    assert 1799 <= answers[2]["retryAfter"] <= 1800


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {"steps/who_step.py": api("Who", "/who", '{"requests": 2, "per": "1h"}')},
    )
    server = start_server(project, "start", log_dir=tmp_path)
    try:
        spoofs = [
            {"x-forwarded-for": f"10.0.0.{i}", "x-forwarded-proto": "https"} for i in range(3)
        ]
        answers = [server.client.get("/who", headers=spoof) for spoof in [*spoofs, {}]]
        assert [a.status_code for a in answers] == [200, 200, 429, 429]
        assert answers[0].json()["client"] == {"ip": "127.0.0.1", "scheme": "http"}
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"steps/orders_step.py": api("CreateOrder", "/orders", '{"requests": 3, "per": "1w"}')},
            ["steps/orders_step.py", "CreateOrder", "rateLimit.per", "'1w' is not a period"],
        ),
        (
            {
                "steps/orders_step.py": api("CreateOrder", "/orders", None),
                "config.yml": "http:\n  rateLimit:\n    requests: 10\n    by: cookie\n",
            },
            ["config.yml", "http.rateLimit.by", "'ip', 'subject' or 'header:<name>'"],
        ),
        (
            {
                "steps/orders_step.py": api("CreateOrder", "/orders", None),
                "config.yml": "http:\n  trustedProxies: [10.0.0.0/33]\n",
            },
            ["config.yml", "http.trustedProxies", "'10.0.0.0/33'"],
        ),
    ],
)
def test_bad_rate_limit_config_stops_the_start_with_a_clear_error(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    project = write_project(tmp_path / "project", files)
    server = start_server(project, "start", wait=False, log_dir=tmp_path)
    try:
        code = server.process.wait(30)
        output = server.output()
        assert code != 0, output
        for text in expected:
            assert text in output, output
    finally:
        server.stop()


def test_bad_trusted_proxies_from_the_environment(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"steps/who_step.py": api("Who", "/who", None)})
    server = start_server(
        project, "start", env={"MOTIA_TRUSTED_PROXIES": "proxy.local"}, wait=False, log_dir=tmp_path
    )
    try:
        assert server.process.wait(30) != 0
        assert "MOTIA_TRUSTED_PROXIES" in server.output() and "proxy.local" in server.output()
    finally:
        server.stop()
