"""Routing: static and parameterised paths, 404, 405, HEAD and OPTIONS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import allowed_methods, module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/list_items_step.py": """
        config = {
            "type": "api",
            "name": "ListItems",
            "method": "GET",
            "path": "/items",
            "emits": [],
        }

        async def handler(req, ctx):
            return {"status": 200, "body": {"route": "list", "pathParams": req["pathParams"]}}
    """,
    "steps/create_item_step.py": """
        config = {
            "type": "api",
            "name": "CreateItem",
            "method": "POST",
            "path": "/items",
            "emits": [],
        }

        async def handler(req, ctx):
            return {"status": 201, "body": {"route": "create"}}
    """,
    "steps/get_pet_step.py": """
        config = {
            "type": "api",
            "name": "GetPet",
            "method": "GET",
            "path": "/pets/:id",
            "emits": [],
        }

        async def handler(req, ctx):
            return {"status": 200, "body": {"pathParams": req["pathParams"]}}
    """,
    "steps/pet_toy_step.py": """
        config = {
            "type": "api",
            "name": "GetPetToy",
            "method": "GET",
            "path": "/pets/:petId/toys/:toyId",
            "emits": [],
        }

        async def handler(req, ctx):
            return {"status": 200, "body": {"pathParams": req["pathParams"]}}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "routing", STEPS) as running:
        yield running


def test_static_path(server: ServerProcess) -> None:
    response = server.client.get("/items")
    assert response.status_code == 200
    assert response.json() == {"route": "list", "pathParams": {}}


def test_same_path_dispatches_on_method(server: ServerProcess) -> None:
    response = server.client.post("/items", json={})
    assert response.status_code == 201
    assert response.json() == {"route": "create"}


def test_path_param(server: ServerProcess) -> None:
    response = server.client.get("/pets/42")
    assert response.status_code == 200
    assert response.json() == {"pathParams": {"id": "42"}}


def test_several_path_params(server: ServerProcess) -> None:
    response = server.client.get("/pets/rex/toys/ball-7")
    assert response.status_code == 200
    assert response.json() == {"pathParams": {"petId": "rex", "toyId": "ball-7"}}


def test_percent_encoded_path_param_is_decoded(server: ServerProcess) -> None:
    response = server.client.get("/pets/hello%20world")
    assert response.status_code == 200
    assert response.json() == {"pathParams": {"id": "hello world"}}


def test_encoded_slash_stays_inside_path_param(server: ServerProcess) -> None:
    # `%2F` is data inside one segment, not a separator: it must not change the route.
    response = server.client.get("/pets/a%2Fb")
    assert response.status_code == 200
    assert response.json() == {"pathParams": {"id": "a/b"}}


def test_path_param_does_not_span_segments(server: ServerProcess) -> None:
    response = server.client.get("/pets/42/extra")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/", {"route": "list", "pathParams": {}}),
        ("/pets/7/", {"pathParams": {"id": "7"}}),
    ],
)
def test_trailing_slash_is_tolerated(
    server: ServerProcess, path: str, expected: dict[str, object]
) -> None:
    response = server.client.get(path)
    assert response.status_code == 200
    assert response.json() == expected


def test_unknown_path_is_404_json(server: ServerProcess) -> None:
    response = server.client.get("/nothing/here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert isinstance(body["error"], str) and body["error"]
    assert body["traceId"] == response.headers["x-trace-id"]


def test_wrong_method_is_405_with_allow(server: ServerProcess) -> None:
    response = server.client.delete("/items")
    assert response.status_code == 405
    assert allowed_methods(response.headers["allow"]) >= {"GET", "POST"}
    assert "DELETE" not in allowed_methods(response.headers["allow"])
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert body["traceId"] == response.headers["x-trace-id"]


def test_wrong_method_on_param_route_is_405(server: ServerProcess) -> None:
    response = server.client.put("/pets/1", json={})
    assert response.status_code == 405
    allowed = allowed_methods(response.headers["allow"])
    assert "GET" in allowed
    assert "PUT" not in allowed


def test_head_on_get_route_has_no_body(server: ServerProcess) -> None:
    full = server.client.get("/pets/5")
    response = server.client.head("/pets/5")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == full.headers["content-type"]
    assert int(response.headers["content-length"]) == len(full.content)


def test_options_without_preflight_is_204_with_allow(server: ServerProcess) -> None:
    response = server.client.options("/items")
    assert response.status_code == 204
    assert response.content == b""
    assert allowed_methods(response.headers["allow"]) >= {"GET", "POST"}
    assert "access-control-allow-origin" not in response.headers
