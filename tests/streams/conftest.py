"""Stream test support: a stream project shared by the tests, the published npm client
(`@motiadev/stream-client-node`, installed in tests/streams/client) and a driver process
around it whose JSON lines the tests read with bounded waits."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.tools import npm_install, require

CLIENT_DIR = Path(__file__).resolve().parent / "client"
DRIVER = CLIENT_DIR / "driver.mjs"
CLIENT_PACKAGE = CLIENT_DIR / "node_modules" / "@motiadev" / "stream-client-node"

Observation = dict[str, Any]

# A project exercising every stream feature; tests use their own group ids.
STREAM_PROJECT: dict[str, str] = {
    "motia_config.py": """
        def authenticate(request):
            token = request["token"]
            if token is None:
                return None
            if token.startswith("user-"):
                return {"user": token[len("user-"):], "url": request["url"]}
            raise ValueError(f"unknown token {token!r}")
    """,
    "steps/todo_stream.py": """
        config = {
            "name": "todo",
            "schema": {
                "type": "object",
                "properties": {"description": {"type": "string"}, "done": {"type": "boolean"}},
            },
            "baseConfig": {"storageType": "default"},
        }
    """,
    "steps/scores_stream.py": """
        config = {"name": "scores", "baseConfig": {"storageType": "default"}}
    """,
    "steps/strict_stream.py": """
        config = {
            "name": "strict",
            "schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "count": {"type": "integer"}},
                "required": ["title"],
            },
            "baseConfig": {"storageType": "default"},
        }
    """,
    "steps/ephemeral_stream.py": """
        config = {"name": "ephemeral", "baseConfig": {"storageType": "default", "ttl": 1}}
    """,
    "steps/dash_stream.py": """
        config = {"name": "name-with-dash", "baseConfig": {"storageType": "default"}}
    """,
    "steps/private_stream.py": """
        async def can_access(subscription, auth_context):
            return auth_context is not None and subscription["groupId"] == auth_context["user"]

        config = {
            "name": "private",
            "baseConfig": {"storageType": "default"},
            "canAccess": can_access,
        }
    """,
    "steps/sealed_stream.py": """
        config = {
            "name": "sealed",
            "baseConfig": {"storageType": "default"},
            "canAccess": lambda subscription, auth_context: False,
        }
    """,
    # Runs a list of stream calls in order, in one handler run, through ctx.streams[name].
    "steps/op_step.py": """
        config = {"type": "api", "name": "StreamOps", "method": "POST", "path": "/ops",
                  "emits": []}

        async def handler(req, ctx):
            results = []
            for call in req["body"]["calls"]:
                stream = ctx.streams[call["stream"]]
                op = call["op"]
                if op == "set":
                    result = await stream.set(call["group"], call["id"], call["data"])
                elif op == "update":
                    result = await stream.update(call["group"], call["id"], call["ops"])
                elif op == "delete":
                    result = await stream.delete(call["group"], call["id"])
                elif op == "get":
                    result = await stream.get(call["group"], call["id"])
                elif op == "getGroup":
                    result = await stream.getGroup(call["group"])
                elif op == "send":
                    result = await stream.send(call["channel"], call["event"])
                else:
                    raise ValueError(f"unknown op {op!r}")
                results.append(result)
            return {"status": 200, "body": {"results": results}}
    """,
    # Attribute-style access, and an API body that is a stream item (with `__motia`).
    "steps/todo_item_step.py": """
        config = {"type": "api", "name": "GetTodo", "method": "GET", "path": "/todo/:group/:id",
                  "emits": []}

        async def handler(req, ctx):
            params = req["pathParams"]
            item = await ctx.streams.todo.get(params["group"], params["id"])
            if item is None:
                return {"status": 404, "body": {"error": "no such todo"}}
            return {"status": 200, "body": item}
    """,
}


Call = dict[str, Any]


# Calls for the project's `POST /ops` step.
def set_call(stream: str, group: str, item: str, data: Any) -> Call:
    return {"stream": stream, "op": "set", "group": group, "id": item, "data": data}


def update_call(stream: str, group: str, item: str, ops: list[dict[str, Any]]) -> Call:
    return {"stream": stream, "op": "update", "group": group, "id": item, "ops": ops}


def delete_call(stream: str, group: str, item: str) -> Call:
    return {"stream": stream, "op": "delete", "group": group, "id": item}


def get_call(stream: str, group: str, item: str) -> Call:
    return {"stream": stream, "op": "get", "group": group, "id": item}


def group_call(stream: str, group: str) -> Call:
    return {"stream": stream, "op": "getGroup", "group": group}


def send_call(stream: str, channel: dict[str, str], event_type: str, data: Any) -> Call:
    event = {"type": event_type, "data": data}
    return {"stream": stream, "op": "send", "channel": channel, "event": event}


def ws_url(server: ServerProcess, path: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def stream_ops(server: ServerProcess, *calls: Call) -> list[Any]:
    """Run stream calls through the project's `POST /ops` step; returns their results."""
    response = server.client.post("/ops", json={"calls": list(calls)})
    assert response.status_code == 200, response.text
    results: list[Any] = response.json()["results"]
    return results


async def async_stream_ops(client: httpx.AsyncClient, *calls: Call) -> list[Any]:
    response = await client.post("/ops", json={"calls": list(calls)})
    assert response.status_code == 200, response.text
    results: list[Any] = response.json()["results"]
    return results


# --- the npm client ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stream_client() -> str:
    """The `node` executable, with tests/streams/client installed (`npm ci` if needed)."""
    node = require("node")
    npm_install(CLIENT_DIR)
    if not CLIENT_PACKAGE.is_dir():
        pytest.fail(f"`npm ci` in {CLIENT_DIR} did not install {CLIENT_PACKAGE.name}")
    return node


class Driver:
    """A running driver.mjs: its stdout, parsed into observations by a reader thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.observations: list[Observation] = []
        self.noise: list[str] = []  # stdout lines that are not JSON
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line:
                continue
            with self._changed:
                try:
                    self.observations.append(json.loads(line))
                except json.JSONDecodeError:
                    self.noise.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def snapshot(self) -> list[Observation]:
        with self._changed:
            return list(self.observations)

    def mark(self) -> int:
        """A position in the observations; pass it as `after` to look only at newer ones."""
        with self._changed:
            return len(self.observations)

    def wait_for(
        self,
        predicate: Callable[[Observation], bool],
        timeout: float = 10,
        after: int = 0,
        what: str = "an observation",
    ) -> Observation:
        """The first observation (from index `after`) matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for observation in self.observations[after:]:
                    if predicate(observation):
                        return observation
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (
                    self.process.poll() is not None and not self._reader.is_alive()
                ):
                    break
                self._changed.wait(min(remaining, 0.2))
        raise AssertionError(f"driver: no {what} within {timeout} s; saw:\n{self.describe()}")

    def wait_state(
        self,
        label: str,
        predicate: Callable[[Any], bool],
        timeout: float = 10,
        after: int = 0,
    ) -> Any:
        """The first state of subscription `label` (from `after`) that matches `predicate`."""
        observation = self.wait_for(
            lambda o: o["kind"] == "state" and o["label"] == label and predicate(o["state"]),
            timeout,
            after,
            what=f"matching state of {label!r}",
        )
        return observation["state"]

    def wait_event(self, label: str, event_type: str, timeout: float = 10, after: int = 0) -> Any:
        """The data of the first custom event `event_type` delivered to `label`."""
        observation = self.wait_for(
            lambda o: o["kind"] == "event" and o["label"] == label and o["type"] == event_type,
            timeout,
            after,
            what=f"{event_type!r} event on {label!r}",
        )
        return observation["data"]

    def of_kind(self, kind: str, label: str | None = None, after: int = 0) -> list[Observation]:
        return [
            o
            for o in self.snapshot()[after:]
            if o["kind"] == kind and (label is None or o.get("label") == label)
        ]

    def states(self, label: str, after: int = 0) -> list[Any]:
        return [o["state"] for o in self.of_kind("state", label, after)]

    def frames(self, after: int = 0) -> list[dict[str, Any]]:
        return [o["frame"] for o in self.of_kind("frame", after=after)]

    def command(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def subscribe(self, label: str, stream: str, group: str, item: str | None = None) -> None:
        self.command(
            {"op": "subscribe", "label": label, "stream": stream, "group": group, "id": item}
        )

    def unsubscribe(self, label: str) -> None:
        self.command({"op": "unsubscribe", "label": label})

    def stop(self, timeout: float = 5) -> int:
        """Close stdin (the driver exits by itself on EOF); kill it if it does not."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout)
        return self.process.returncode

    def describe(self) -> str:
        lines = [json.dumps(o) for o in self.snapshot()[-60:]]
        stderr = ""
        if self.process.poll() is not None and self.process.stderr is not None:
            stderr = self.process.stderr.read()
        return "\n".join([*lines, *self.noise[-10:], stderr])


DriverFactory = Callable[..., Driver]


@pytest.fixture
def driver_factory(stream_client: str) -> Iterator[DriverFactory]:
    """Start driver.mjs processes: `driver_factory(url, subscriptions=[...], token=...)`;
    each subscription is `{label, stream, group, id?, events?}`."""
    started: list[Driver] = []

    def start(
        url: str,
        subscriptions: list[dict[str, Any]] | None = None,
        *,
        token: str | None = None,
        events: list[str] | None = None,
        seconds: float = 30,
    ) -> Driver:
        config = {
            "url": url,
            "token": token,
            "seconds": seconds,
            "events": events or ["error"],
            "subscriptions": subscriptions or [],
        }
        process = subprocess.Popen(
            [stream_client, str(DRIVER), json.dumps(config)],
            cwd=CLIENT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        driver = Driver(process)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.stop()
