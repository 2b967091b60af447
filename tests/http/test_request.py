"""The `req` dict a handler receives: headers, queryParams, rawBody and the parsed body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/echo_step.py": """
        config = {"type": "api", "name": "Echo", "method": "POST", "path": "/echo", "emits": []}

        async def handler(req, ctx):
            return {
                "status": 200,
                "body": {
                    "body": req["body"],
                    "bodyType": type(req["body"]).__name__,
                    "rawBody": req["rawBody"],
                    "headers": req["headers"],
                    "queryParams": req["queryParams"],
                    "pathParams": req["pathParams"],
                    "reqType": type(req).__name__,
                },
            }
    """,
    "steps/echo_get_step.py": """
        config = {"type": "api", "name": "EchoGet", "method": "GET", "path": "/echo", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"queryParams": req["queryParams"], "body": req["body"]}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "request", STEPS) as running:
        yield running


def test_req_is_a_plain_dict(server: ServerProcess) -> None:
    echoed = server.client.post("/echo", json={}).json()
    assert echoed["reqType"] == "dict"
    assert echoed["pathParams"] == {}


def test_headers_are_lower_cased(server: ServerProcess) -> None:
    response = server.client.post(
        "/echo", json={}, headers={"X-Custom-Header": "Some Value", "X-UPPER": "A"}
    )
    headers = response.json()["headers"]
    assert headers["x-custom-header"] == "Some Value"
    assert headers["x-upper"] == "A"
    assert all(name == name.lower() for name in headers)


def test_single_query_param_is_a_string(server: ServerProcess) -> None:
    response = server.client.get("/echo", params={"q": "cats", "page": "2"})
    assert response.status_code == 200
    assert response.json()["queryParams"] == {"q": "cats", "page": "2"}


def test_repeated_query_param_is_a_list(server: ServerProcess) -> None:
    response = server.client.get("/echo?tag=a&tag=b&tag=c&one=1")
    assert response.json()["queryParams"] == {"tag": ["a", "b", "c"], "one": "1"}


def test_no_query_string_gives_empty_query_params(server: ServerProcess) -> None:
    assert server.client.get("/echo").json()["queryParams"] == {}


def test_json_body_is_parsed_and_raw_body_kept(server: ServerProcess) -> None:
    raw = '{"name":  "Rex", "tags": [1, 2],\n "nested": {"ok": true}}'
    response = server.client.post(
        "/echo", content=raw.encode(), headers={"content-type": "application/json"}
    )
    echoed = response.json()
    assert echoed["body"] == {"name": "Rex", "tags": [1, 2], "nested": {"ok": True}}
    assert echoed["bodyType"] == "dict"
    assert echoed["rawBody"] == raw


def test_json_content_type_with_charset(server: ServerProcess) -> None:
    response = server.client.post(
        "/echo", content=b"[1, 2]", headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.json()["body"] == [1, 2]


def test_text_plain_body_is_a_string(server: ServerProcess) -> None:
    response = server.client.post(
        "/echo", content="hello, wörld".encode(), headers={"content-type": "text/plain"}
    )
    echoed = response.json()
    assert echoed["body"] == "hello, wörld"
    assert echoed["bodyType"] == "str"
    assert echoed["rawBody"] == "hello, wörld"


def test_form_body_is_a_dict(server: ServerProcess) -> None:
    response = server.client.post("/echo", data={"name": "Rex", "age": "3"})
    echoed = response.json()
    assert echoed["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert echoed["body"] == {"name": "Rex", "age": "3"}
    assert echoed["bodyType"] == "dict"
    assert echoed["rawBody"] == "name=Rex&age=3"
