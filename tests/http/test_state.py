"""`ctx.state` through API handlers: get/set/delete/get_group/getGroup/clear and calls the
handler forgot to await."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/state_op_step.py": """
        config = {
            "type": "api",
            "name": "StateOp",
            "method": "POST",
            "path": "/state/:op",
            "emits": [],
        }

        async def handler(req, ctx):
            op = req["pathParams"]["op"]
            body = req["body"]
            state = ctx.state
            group = body["group"]
            if op == "set":
                result = await state.set(group, body["key"], body["value"])
            elif op == "get":
                result = await state.get(group, body["key"])
            elif op == "delete":
                result = await state.delete(group, body["key"])
            elif op == "get_group":
                result = await state.get_group(group)
            elif op == "getGroup":
                result = await state.getGroup(group)
            elif op == "clear":
                result = await state.clear(group)
            elif op == "set-unawaited":
                state.set(group, body["key"], body["value"])
                result = "not awaited"
            else:
                return {"status": 404, "body": {"error": f"unknown op {op}"}}
            return {
                "status": 200,
                "body": {"result": result, "isNone": result is None, "type": type(result).__name__},
            }
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "state", STEPS) as running:
        yield running


@pytest.fixture
def group() -> str:
    return f"group-{uuid.uuid4().hex}"


def op(server: ServerProcess, name: str, **payload: Any) -> dict[str, Any]:
    response = server.client.post(f"/state/{name}", json=payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_get_missing_key_is_none(server: ServerProcess, group: str) -> None:
    answer = op(server, "get", group=group, key="missing")
    assert answer == {"result": None, "isNone": True, "type": "NoneType"}


def test_set_returns_value_and_get_reads_it(server: ServerProcess, group: str) -> None:
    value = {"name": "Rex", "tags": ["a"], "nested": {"n": 1}}
    assert op(server, "set", group=group, key="pet", value=value)["result"] == value
    answer = op(server, "get", group=group, key="pet")
    assert answer["result"] == value
    assert answer["type"] == "dict"


@pytest.mark.parametrize("value", [0, "", False, [], {"data": 5}, "text", 3.5])
def test_values_come_back_unwrapped(server: ServerProcess, group: str, value: Any) -> None:
    op(server, "set", group=group, key="v", value=value)
    answer = op(server, "get", group=group, key="v")
    assert answer["result"] == value
    assert answer["isNone"] is False


def test_set_overwrites(server: ServerProcess, group: str) -> None:
    op(server, "set", group=group, key="k", value=1)
    op(server, "set", group=group, key="k", value=2)
    assert op(server, "get", group=group, key="k")["result"] == 2


def test_delete_returns_old_value(server: ServerProcess, group: str) -> None:
    op(server, "set", group=group, key="k", value={"old": True})
    assert op(server, "delete", group=group, key="k")["result"] == {"old": True}
    assert op(server, "get", group=group, key="k")["isNone"] is True
    assert op(server, "delete", group=group, key="k")["isNone"] is True


@pytest.mark.parametrize("name", ["get_group", "getGroup"])
def test_get_group_returns_list(server: ServerProcess, group: str, name: str) -> None:
    assert op(server, name, group=group) == {"result": [], "isNone": False, "type": "list"}
    op(server, "set", group=group, key="a", value={"n": 1})
    op(server, "set", group=group, key="b", value={"n": 2})
    op(server, "set", group=f"{group}-other", key="c", value={"n": 3})
    answer = op(server, name, group=group)
    assert answer["type"] == "list"
    assert sorted(item["n"] for item in answer["result"]) == [1, 2]


def test_clear_empties_group_only(server: ServerProcess, group: str) -> None:
    op(server, "set", group=group, key="a", value=1)
    op(server, "set", group=group, key="b", value=2)
    op(server, "set", group=f"{group}-keep", key="c", value=3)
    op(server, "clear", group=group)
    assert op(server, "get_group", group=group)["result"] == []
    assert op(server, "get", group=group, key="a")["isNone"] is True
    assert op(server, "get_group", group=f"{group}-keep")["result"] == [3]


def test_unawaited_set_is_applied(server: ServerProcess, group: str) -> None:
    answer = op(server, "set-unawaited", group=group, key="k", value={"saved": True})
    assert answer["result"] == "not awaited"
    assert op(server, "get", group=group, key="k")["result"] == {"saved": True}
