"""Bearer tokens on API steps, against real `motia start` servers: what a valid token gets
(its claims in `req["auth"]`, in Python and JavaScript handlers), and every way a token is
refused (401 with a `WWW-Authenticate` challenge, 403 for a missing scope)."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from motia.auth import issue_access_token, issue_refresh_token
from motia.testing import create_tester
from tests.auth.support import (
    AUDIENCE,
    ISSUER,
    SECRET,
    bearer,
    claims,
    ec_key,
    hs256,
    hs256_keyed_with,
    jwk_of,
    public_pem,
    rsa_key,
    unsigned,
)
from tests.conftest import ServerProcess, start_server, wait_for, write_project
from tests.http.support import records_for
from tests.tools import require

pytestmark = pytest.mark.slow

ServerFactory = Callable[..., ServerProcess]

ME_STEP = """
    config = {"type": "api", "name": "Me", "method": "GET", "path": "/me", "emits": [],
              "auth": True}

    async def handler(req, ctx):
        return {"status": 200, "body": {"auth": req["auth"]}}
"""
ORDERS_STEP = """
    config = {"type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
              "emits": [], "auth": {"scopes": ["orders:write"]}}

    def handler(req, ctx):
        return {"status": 201, "body": {"by": req["auth"]["sub"], "order": req["body"]}}
"""
OPEN_STEP = """
    config = {"type": "api", "name": "Open", "method": "GET", "path": "/open", "emits": []}

    async def handler(req, ctx):
        return {"status": 200, "body": {"hasAuth": "auth" in req}}
"""
JS_STEP = """
    exports.config = { type: 'api', name: 'JsMe', method: 'GET', path: '/js/me', emits: [],
                       auth: { scopes: ['orders:read'] } }
    exports.handler = async (req) => ({ status: 200, body: { sub: req.auth.sub,
                                                             scope: req.auth.scope } })
"""
HS_PROJECT = {
    "steps/me_step.py": ME_STEP,
    "steps/orders_step.py": ORDERS_STEP,
    "steps/open_step.py": OPEN_STEP,
    "config.yml": f"""
        http:
          maxBodySize: 1kb
        auth:
          issuer: {ISSUER}
          audience: {AUDIENCE}
          leeway: 5
    """,
}


@pytest.fixture(scope="module")
def hs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("jwt-hs")
    project = write_project(root / "project", HS_PROJECT)
    server = start_server(project, "start", env={"JWT_SECRET": SECRET}, log_dir=root)
    try:
        yield server
    finally:
        server.stop()


def challenge(response: Any) -> str:
    return str(response.headers["www-authenticate"])


def refused_with(response: Any, status: int, error: str, description: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    header = challenge(response)
    assert header.startswith('Bearer realm="api"')
    assert f'error="{error}"' in header
    assert f'error_description="{description}' in header
    body: dict[str, Any] = response.json()
    assert description in body["error"]
    assert body["traceId"] == response.headers["x-trace-id"]
    return body


# --- HS256 -------------------------------------------------------------------------------------


def test_valid_token_puts_its_claims_on_req_auth(hs_server: ServerProcess) -> None:
    token_claims = claims(tenant="acme")
    response = hs_server.client.get("/me", headers=bearer(hs256(token_claims)))
    assert response.status_code == 200, response.text
    assert response.json() == {"auth": token_claims}


def test_token_from_issue_access_token_is_accepted_with_its_scopes(
    hs_server: ServerProcess,
) -> None:
    token = issue_access_token(
        "user-7", scopes=["orders:write"], secret=SECRET, issuer=ISSUER, audience=AUDIENCE
    )
    response = hs_server.client.post("/orders", json={"sku": "A1"}, headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.json() == {"by": "user-7", "order": {"sku": "A1"}}


def test_missing_token_gets_a_bare_challenge(hs_server: ServerProcess) -> None:
    response = hs_server.client.get("/me")
    assert response.status_code == 401
    # RFC 6750 3.1: no error code when the request carried no credentials at all.
    assert challenge(response) == 'Bearer realm="api"'
    assert response.json()["error"] == "Unauthorized: a bearer token is required"
    basic = hs_server.client.get("/me", headers={"authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401 and challenge(basic) == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("token", "description"),
    [
        (hs256(claims(exp=int(time.time()) - 60)), "the token has expired"),
        (hs256(claims(nbf=int(time.time()) + 3600)), "the token is not valid yet"),
        (hs256(claims(aud="billing-api")), "the token is not meant for this audience"),
        (hs256(claims(iss="https://evil.example")), "the token comes from another issuer"),
        (hs256(claims(exp=None)), "the token has no 'exp' claim"),
        (
            hs256(claims(), secret="another-secret-that-is-long-enough-987654"),
            "the token's signature is not valid",
        ),
        (unsigned(claims()), "tokens signed with 'none' are not accepted"),
        ("not.a.jwt", "the token is not a well-formed JWT"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "audience",
        "issuer",
        "no-exp",
        "signature",
        "alg-none",
        "malformed",
    ],
)
def test_invalid_tokens_get_401_invalid_token(
    hs_server: ServerProcess, token: str, description: str
) -> None:
    response = hs_server.client.get("/me", headers=bearer(token))
    refused_with(response, 401, "invalid_token", description)


def test_refusal_is_logged_with_the_step_and_trace(hs_server: ServerProcess) -> None:
    token = unsigned(claims())
    response = hs_server.client.get("/me", headers=bearer(token))
    trace_id = response.headers["x-trace-id"]

    def logged() -> list[dict[str, Any]]:
        return [
            record
            for record in records_for(hs_server, trace_id)
            if record.get("step") == "Me" and "request rejected: 401" in record.get("msg", "")
        ]

    (record,) = wait_for(logged, what="the rejection in the log")
    assert "not accepted" in record["msg"]
    assert token not in hs_server.output()  # the token itself is never logged


def test_refresh_token_is_not_an_access_token(hs_server: ServerProcess) -> None:
    refresh = issue_refresh_token("user-42", secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    response = hs_server.client.get("/me", headers=bearer(refresh.token))
    refused_with(response, 401, "invalid_token", "a refresh token is not an access token")


def test_missing_scope_gets_403_insufficient_scope(hs_server: ServerProcess) -> None:
    response = hs_server.client.post("/orders", json={}, headers=bearer(hs256(claims())))
    refused_with(response, 403, "insufficient_scope", "the token lacks scope orders:write")
    assert 'scope="orders:write"' in challenge(response)


def test_token_is_checked_before_the_body_is_read(hs_server: ServerProcess) -> None:
    # The body is over http.maxBodySize: without a token the answer is still 401, not 413.
    response = hs_server.client.post("/orders", content=b"x" * 5000)
    assert response.status_code == 401
    token = issue_access_token(
        "u", scopes=["orders:write"], secret=SECRET, issuer=ISSUER, audience=AUDIENCE
    )
    large = hs_server.client.post("/orders", content=b"x" * 5000, headers=bearer(token))
    assert large.status_code == 413


def test_step_without_auth_is_open_and_has_no_auth(hs_server: ServerProcess) -> None:
    response = hs_server.client.get("/open")
    assert response.status_code == 200 and response.json() == {"hasAuth": False}
    forged = hs_server.client.get("/open", headers=bearer(unsigned(claims())))
    assert forged.status_code == 200 and forged.json() == {"hasAuth": False}


# --- a JavaScript step -------------------------------------------------------------------------


def test_javascript_step_gets_the_claims_on_req_auth(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    node = require("node")
    project = write_project(tmp_path / "project", {"steps/me.step.js": JS_STEP})
    server = server_factory(project, "start", env={"JWT_SECRET": SECRET, "MOTIA_NODE": node})
    response = server.client.get("/js/me", headers=bearer(hs256(claims(aud=None, iss=None))))
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "user-42", "scope": "orders:read"}
    no_scope = server.client.get("/js/me", headers=bearer(hs256(claims(aud=None, scope="x"))))
    refused_with(no_scope, 403, "insufficient_scope", "the token lacks scope orders:read")


# --- RS256 / ES256 with a public key -----------------------------------------------------------

RS_PROJECT = {
    "steps/me_step.py": ME_STEP.replace(',\n              "auth": True}', "}"),
    "steps/health_step.py": """
        config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping", "emits": [],
                  "auth": False}

        async def handler(req, ctx):
            return {"status": 200, "body": {"pong": True}}
    """,
    "config.yml": """
        auth:
          required: true
          publicKey: keys/public.pem
    """,
}


def test_public_key_server_accepts_rs256_and_refuses_forgeries(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    key = rsa_key()
    pem = public_pem(key)
    project = write_project(tmp_path / "project", {**RS_PROJECT, "keys/public.pem": pem})
    server = server_factory(project)

    payload = claims(aud=None, iss=None)
    good = server.client.get("/me", headers=bearer(jwt.encode(payload, key, algorithm="RS256")))
    assert good.status_code == 200, good.text
    assert good.json()["auth"]["sub"] == "user-42"

    # auth.required: a step that says nothing needs a token; `"auth": False` opts out.
    assert server.client.get("/me").status_code == 401
    assert server.client.get("/ping").status_code == 200

    # The HS/RS confusion: an HS256 token keyed with the public key the server holds.
    forged = server.client.get("/me", headers=bearer(hs256_keyed_with(payload, pem)))
    refused_with(forged, 401, "invalid_token", "tokens signed with 'HS256' are not accepted")

    # Signed by another RSA key; or ES256, which the configured RSA key cannot check.
    other = jwt.encode(payload, rsa_key(), algorithm="RS256")
    refused_with(
        server.client.get("/me", headers=bearer(other)),
        401,
        "invalid_token",
        "the token's signature is not valid",
    )
    es = jwt.encode(payload, ec_key(), algorithm="ES256")
    refused_with(
        server.client.get("/me", headers=bearer(es)),
        401,
        "invalid_token",
        "no configured key checks ES256 tokens",
    )


# --- a JWKS URL, with key rotation -------------------------------------------------------------


class KeySet:
    """A tiny identity provider: serves `keys` at /jwks.json and counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def key_set() -> Iterator[KeySet]:
    served = KeySet()
    yield served
    served.close()


def test_jwks_keys_are_fetched_cached_and_rotated(
    server_factory: ServerFactory, tmp_path: Path, key_set: KeySet
) -> None:
    first, second = rsa_key(), ec_key()
    key_set.keys = [jwk_of(first, "k1")]
    project = write_project(tmp_path / "project", {"steps/me_step.py": ME_STEP})
    server = server_factory(project, env={"JWT_JWKS_URL": key_set.url})
    payload = claims(aud=None, iss=None)

    def call(key: Any, algorithm: str, kid: str) -> Any:
        token = jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})
        return server.client.get("/me", headers=bearer(token))

    assert call(first, "RS256", "k1").status_code == 200
    assert call(first, "RS256", "k1").status_code == 200
    assert key_set.fetches == 1  # cached

    # The provider rotates to a new EC key: a token naming it makes the server fetch again.
    key_set.keys = [jwk_of(first, "k1"), jwk_of(second, "k2")]
    time.sleep(1.1)  # unknown kids fetch again at most once a second
    rotated = call(second, "ES256", "k2")
    assert rotated.status_code == 200, rotated.text
    assert key_set.fetches == 2

    # A kid the set does not hold is refused; a token signed by another key under a known kid
    # fails its signature.
    refused_with(call(first, "RS256", "k9"), 401, "invalid_token", "no key 'k9' for RS256")
    refused_with(
        call(rsa_key(), "RS256", "k1"), 401, "invalid_token", "the token's signature is not valid"
    )


def test_jwks_url_that_does_not_answer_gets_503(
    server_factory: ServerFactory, tmp_path: Path, key_set: KeySet
) -> None:
    url = key_set.url
    key_set.close()
    project = write_project(tmp_path / "project", {"steps/me_step.py": ME_STEP})
    server = server_factory(project, env={"JWT_JWKS_URL": url})
    token = jwt.encode(
        claims(aud=None, iss=None), rsa_key(), algorithm="RS256", headers={"kid": "k1"}
    )
    response = server.client.get("/me", headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    error = response.json()["error"]
    assert error == "Service unavailable: the keys to verify tokens cannot be fetched now"
    # Where the keys live and why they could not be had is for the operator, in the log.
    server.wait_for_output(f"cannot verify tokens: the key set at {url} cannot be fetched")


# --- configuration that cannot work is refused at start ------------------------------------------


def failed_start(project: Path, env: dict[str, str], tmp_path: Path) -> str:
    server = start_server(project, "start", env=env, wait=False, log_dir=tmp_path)
    try:
        code = server.process.wait(30)
    finally:
        server.stop()
    assert code != 0
    return server.output()


def test_short_secret_is_refused_at_start(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"steps/me_step.py": ME_STEP})
    output = failed_start(project, {"JWT_SECRET": "too-short"}, tmp_path)
    assert "JWT_SECRET: auth secret must be at least 32 characters long" in output
    assert "too-short" not in output  # a secret is never echoed


def test_step_that_needs_a_token_without_a_key_is_refused_at_start(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"steps/me_step.py": ME_STEP})
    output = failed_start(project, {}, tmp_path)
    assert "step(s) Me require a bearer token (auth) but no key to verify tokens" in output
    assert "JWT_SECRET" in output


def test_none_in_the_algorithms_is_refused_at_start(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {"steps/me_step.py": ME_STEP, "config.yml": 'auth:\n  algorithms: ["HS256", "none"]\n'},
    )
    output = failed_start(project, {"JWT_SECRET": SECRET}, tmp_path)
    assert "auth.algorithms: 'none' (unsigned tokens) is never accepted" in output


def test_bad_step_auth_config_names_the_file_and_field(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {"steps/me_step.py": ME_STEP.replace('"auth": True', '"auth": {"scope": "x"}')},
    )
    output = failed_start(project, {"JWT_SECRET": SECRET}, tmp_path)
    assert "me_step.py, step 'Me', field 'auth'" in output
    assert 'unknown key(s) scope: the only key is "scopes"' in output


# --- motia dev, CORS and the test kit -----------------------------------------------------------

OPEN_ME = ME_STEP.replace(',\n              "auth": True}', "}").replace('req["auth"]', "None")


def test_dev_reload_that_adds_auth_without_a_key_keeps_the_last_good_version(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", {"steps/me_step.py": OPEN_ME})
    server = server_factory(project, "dev")
    assert server.client.get("/me").json() == {"auth": None}
    (project / "steps" / "me_step.py").write_text(textwrap.dedent(ME_STEP))
    server.wait_for_output("reload failed")
    assert "step(s) Me require a bearer token (auth) but no key" in server.output()
    assert server.client.get("/me").json() == {"auth": None}


def test_refusals_carry_cors_headers_so_browsers_can_read_them(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    files = {
        "steps/me_step.py": ME_STEP,
        "config.yml": 'http:\n  cors:\n    origins: ["https://app.example"]\n',
    }
    server = server_factory(write_project(tmp_path / "project", files), env={"JWT_SECRET": SECRET})
    response = server.client.get("/me", headers={"origin": "https://app.example"})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    # The preflight of a request with a token is answered without one.
    preflight = server.client.options(
        "/me",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
        },
    )
    assert preflight.status_code in (200, 204)


async def test_the_test_kit_calls_protected_steps_with_a_token(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"steps/me_step.py": ME_STEP})
    async with create_tester(project, env={"JWT_SECRET": SECRET}) as tester:
        assert (await tester.get("/me")).status_code == 401
        token = issue_access_token("user-9", scopes=["a"])
        response = await tester.get("/me", headers=bearer(token))
        assert response.status_code == 200
        assert response.json()["auth"]["sub"] == "user-9"
