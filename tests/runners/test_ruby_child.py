"""The Ruby runner's child side (src/motia/runners/ruby), driven over raw protocol frames
with the real `ruby`: the test plays the server, answering context calls by hand."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import motia
from tests.runners.wire import Frame, RawRunner
from tests.tools import require

RUNNER = Path(motia.__file__).resolve().parent / "runners" / "ruby" / "runner.rb"
PROJECT = Path(__file__).resolve().parent / "fixtures" / "ruby_project"
STEP_NAMES = ("_step.rb", ".step.rb", "_stream.rb")
FILES = sorted(str(p) for p in PROJECT.rglob("*.rb") if p.name.endswith(STEP_NAMES))
CTX = {
    "traceId": "trace-1",
    "flows": ["onboarding"],
    "step": "Test",
    "streams": ["todo-items"],
    "eventId": "event-1",
    "attempt": 2,
}


def ruby() -> str:
    return require("ruby")


class CallFailed(Exception):
    """Raised by an answer function: the call is answered with `err`."""


Answer = Callable[[Frame], Any]


class Ruby:
    """A Ruby runner process, with helpers to play the server's side."""

    def __init__(self) -> None:
        self.raw = RawRunner([ruby(), str(RUNNER)], PROJECT)
        self.hello = self.raw.read()

    def load(self, files: list[str] = FILES) -> dict[str, Frame]:
        load_id = self.raw.request({"t": "load", "files": files})
        answer = self.raw.read()
        assert answer["t"] == "ok" and answer["re"] == load_id, answer
        reports = answer["value"]["files"]
        assert [r["file"] for r in reports] == files
        return {str(Path(r["file"]).relative_to(PROJECT)): r for r in reports}

    def invoke(self, file: str, kind: str = "event", input: Any = None, ctx: Frame = CTX) -> int:
        frame = {"t": "invoke", "file": str(PROJECT / file), "kind": kind, "input": input}
        return self.raw.request({**frame, "ctx": ctx})

    def answer(self, call: Frame, answer: Answer | None) -> None:
        try:
            value = answer(call) if answer else None
        except CallFailed as error:
            failure = {"message": str(error), "name": "CallFailed"}
            self.raw.send({"t": "err", "re": call["id"], "error": failure})
        else:
            self.raw.send({"t": "ok", "re": call["id"], "value": value})

    def serve(self, invoke_id: int, answer: Answer | None = None) -> tuple[Frame, list[Frame]]:
        """Answer calls until invocation `invoke_id` is answered; returns its answer and
        the `call` and `log` frames that came before it."""
        seen: list[Frame] = []
        while True:
            frame = self.raw.read()
            if frame["t"] in ("ok", "err") and frame["re"] == invoke_id:
                return frame, seen
            seen.append(frame)
            if frame["t"] == "call":
                self.answer(frame, answer)

    def run(
        self, file: str, kind: str = "event", input: Any = None, answer: Answer | None = None
    ) -> tuple[Frame, list[Frame]]:
        return self.serve(self.invoke(file, kind, input), answer)

    def wait(self, timeout: float = 10.0) -> int:
        return self.raw.process.wait(timeout)


@pytest.fixture
def runner() -> Iterator[Ruby]:
    process = Ruby()
    try:
        yield process
    finally:
        process.raw.close()


@pytest.fixture
def loaded(runner: Ruby) -> Ruby:
    runner.load()
    return runner


def calls(frames: list[Frame]) -> list[tuple[str, list[Any]]]:
    return [(f["method"], f["args"]) for f in frames if f["t"] == "call"]


# --- start and load ---------------------------------------------------------------------


def test_hello_is_the_first_frame(runner: Ruby) -> None:
    hello = runner.hello
    assert hello["t"] == "hello"
    assert hello["protocol"] == 1
    assert hello["runtime"] == "ruby"
    assert re.fullmatch(r"\d+\.\d+\.\d+", hello["version"])
    assert hello["pid"] == runner.raw.process.pid


def test_a_ping_is_answered_at_once(runner: Ruby) -> None:
    rid = runner.raw.request({"t": "ping"})
    assert runner.raw.read() == {"t": "ok", "re": rid, "value": None}


def test_load_reports_configs_as_json(runner: Ruby) -> None:
    reports = runner.load()
    greet = reports["steps/greet_step.rb"]
    assert greet["kind"] == "step"
    assert greet["handler"] is True
    assert greet["functions"] == []
    assert greet["error"] is None
    # Symbol keys and symbol values become strings, deeply.
    assert greet["config"] == {
        "type": "event",
        "name": "Greet",
        "subscribes": ["user.created"],
        "emits": [{"topic": "user.greeted", "label": "Greeted"}],
        "flows": ["onboarding"],
    }
    api = reports["steps/api/create_item_step.rb"]
    assert api["config"]["name"] == "CreateItem"
    assert api["config"]["bodySchema"]["properties"] == {"name": {"type": "string"}}
    assert "middleware" not in api["config"]
    assert api["functions"] == ["middleware"]
    assert reports["steps/cron/cleanup.step.rb"]["config"]["cron"] == "0 * * * *"
    stream = reports["streams/todo_items_stream.rb"]
    assert stream["kind"] == "stream"
    assert stream["handler"] is False
    assert stream["functions"] == ["canAccess"]
    assert stream["config"]["base_config"] == {"storageType": "default", "ttl": 3600}
    assert "can_access" not in stream["config"]


def test_load_errors_are_reported_and_the_runner_goes_on(runner: Ruby) -> None:
    reports = runner.load()
    syntax = reports["steps/broken_syntax_step.rb"]
    assert syntax["config"] is None and syntax["handler"] is False
    assert "syntax error" in syntax["error"]["message"]
    assert syntax["error"]["line"] == 3

    raising = reports["steps/raises_at_load_step.rb"]
    assert raising["config"] is None
    assert raising["error"]["message"] == "missing API key (ArgumentError)"
    assert raising["error"]["line"] == 5
    assert f"{PROJECT}/steps/raises_at_load_step.rb:5" in raising["error"]["stack"]
    assert "runners/ruby" not in raising["error"]["stack"]

    no_config = reports["steps/no_config_step.rb"]
    assert "does not define `config`" in no_config["error"]["message"]
    assert no_config["error"]["line"] is None

    # A failed file cannot be invoked; the others still can.
    answer, _ = runner.run("steps/raises_at_load_step.rb")
    assert answer["t"] == "err"
    assert "not loaded" in answer["error"]["message"]
    answer, _ = runner.run("steps/format_step.rb", input={"text": "still here"})
    assert answer == {"t": "ok", "re": answer["re"], "value": "STILL HERE!"}


def test_files_defining_the_same_top_level_names_stay_apart(loaded: Ruby) -> None:
    results = [loaded.run(f"steps/dup_{n}_step.rb")[0]["value"] for n in ("one", "two", "one")]
    # Each file keeps its own constants, helper methods and top-level @variables.
    assert results == [
        {"label": "dup-one", "calls": 1},
        {"label": "dup-two", "calls": 1},
        {"label": "dup-one", "calls": 2},
    ]


def test_require_relative_in_a_step_file(loaded: Ruby) -> None:
    answer, _ = loaded.run("steps/format_step.rb", input={"text": "zoë 🚀"})
    assert answer["value"] == "ZOË 🚀!"


# --- invocations ------------------------------------------------------------------------


def test_event_handler_with_context_calls(loaded: Ruby) -> None:
    def server(call: Frame) -> Any:
        if call["method"] == "state.get":
            return {"profile": {"city": "Paris", "id": "group-7"}, "tags": ["vip"]}
        if call["method"] == "state.set":
            raise CallFailed("state is read-only")
        return None

    answer, frames = loaded.run("steps/greet_step.rb", input={"name": "Ada"}, answer=server)
    assert answer["t"] == "ok"
    assert answer["value"] == {
        "greeting": "Hello Ada from Paris",
        "stored": False,
        "tags": ["vip"],
    }
    invoke_id = answer["re"]
    assert all(f["inv"] == invoke_id for f in frames)
    assert calls(frames) == [
        ("state.get", ["trace-1", "user"]),
        (
            "emit",
            [
                {
                    "topic": "user.greeted",
                    "data": {"name": "Ada", "city": "Paris", "at": "2024-01-02T03:04:05.000Z"},
                    "messageGroupId": "group-7",
                }
            ],
        ),
        ("state.set", ["trace-1", "greeted", True]),
    ]
    # The handler rescued the failed call and logged it.
    log = frames[-1]
    assert log == {
        "t": "log",
        "inv": invoke_id,
        "level": "warn",
        "msg": "could not store",
        "fields": {"error": "state is read-only"},
    }
    # Call ids are the runner's own, one per call.
    ids = [f["id"] for f in frames if f["t"] == "call"]
    assert len(set(ids)) == len(ids)


def test_an_unrescued_call_error_fails_the_invocation(loaded: Ruby) -> None:
    def refuse(call: Frame) -> Any:
        raise CallFailed("topic undeclared is not in emits")

    answer, frames = loaded.run("steps/unrescued_call_step.rb", answer=refuse)
    assert answer["t"] == "err"
    assert answer["error"]["message"] == "topic undeclared is not in emits"
    assert answer["error"]["name"] == "Motia::CallError"
    assert calls(frames) == [("emit", [{"topic": "undeclared", "data": {}}])]
    assert "unrescued_call_step.rb:6" in answer["error"]["stack"]


def test_api_handler_with_middleware(loaded: Ruby) -> None:
    request = {
        "body": {"name": "milk"},
        "headers": {"content-type": "application/json"},
        "pathParams": {"list_id": "groceries"},
        "queryParams": {"page": "2"},
        "rawBody": '{"name":"milk"}',
    }
    answer, frames = loaded.run("steps/api/create_item_step.rb", "api", request)
    assert answer["t"] == "ok"
    assert answer["value"] == {
        "status": 201,
        "body": {
            "name": "milk",
            "list": "groceries",
            "page": "2",
            "checked": "yes",
            "raw": '{"name":"milk"}',
            "trace": "trace-1",
        },
        "headers": {"x-item": "new"},
    }
    assert [(f["level"], f["msg"], f["fields"]) for f in frames] == [
        ("info", "creating item", {"list": "groceries"})
    ]


def test_api_binary_body_is_sent_as_a_buffer(loaded: Ruby) -> None:
    answer, _ = loaded.run("steps/binary_api_step.rb", "api", {"body": None, "headers": {}})
    assert answer["value"] == {
        "status": 200,
        "body": {"type": "Buffer", "data": [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF]},
        "headers": {"content-type": "image/png"},
    }


def test_cron_handler_gets_only_the_context(loaded: Ruby) -> None:
    answer, frames = loaded.run("steps/cron/cleanup.step.rb", "cron", None)
    assert answer["value"] == "done"
    assert frames[0]["t"] == "log" and frames[0]["msg"] == "cleaning up"
    assert frames[0]["fields"] is None
    assert calls(frames) == [
        ("emit", [{"topic": "cleanup.done", "data": {"flows": ["onboarding"]}}])
    ]


def test_an_unrescued_exception_answers_err(loaded: Ruby) -> None:
    answer, _ = loaded.run("steps/failing_step.rb", input={"amount": 42})
    assert answer["t"] == "err"
    error = answer["error"]
    assert error["message"] == "card declined for 42"
    # A class defined in the step file is named as the user wrote it.
    assert error["name"] == "PaymentDeclined"
    stack = error["stack"].splitlines()
    assert stack[0].startswith(f"{PROJECT}/steps/failing_step.rb:8:in")
    assert stack[1].startswith(f"{PROJECT}/steps/failing_step.rb:12:in")
    assert not any("runners/ruby" in line for line in stack)


def test_input_is_a_record(loaded: Ruby) -> None:
    data = {
        "user": {"name": "Ada", "displayName": "Ada L.", "roles": [{"id": "admin"}]},
        "list": [{"a": 1}, [1], 2],
        "count": 3,
        "format": "x",
    }
    answer, _ = loaded.run("steps/record_step.rb", input=data)
    assert answer["t"] == "ok", answer
    value = answer["value"]
    assert value["method_access"] == value["symbol_access"] == value["string_access"] == "Ada"
    assert value["dig"] == "admin"
    assert value["key"] == [True, True, False]
    assert value["missing"] is True
    assert value["camel_fallback"] == "Ada L."
    assert value["equals_hash"] is True
    assert value["equals_string_keys"] is True
    assert value["to_h"] == data["user"]
    assert value["pairs"] == [
        ["user", "Motia::Record"],
        ["list", "Array"],
        ["count", "Integer"],
        ["format", "String"],
    ]
    assert value["json"] == value["to_json"] == data["user"]
    assert value["arrays"] == ["Motia::Record", "Array", "Integer"]
    # Field names that are also Enumerable or Kernel methods still read the field.
    assert value["count_field"] == 3
    assert value["format_field"] == "x"
    assert value["dup_independent"] is True
    assert value["respond"] == [True, False]
    assert value["inspect"] == '#<Motia::Record id="admin">'
    assert value["splat"] == "Ada"


def test_return_values_become_json(loaded: Ruby) -> None:
    answer, _ = loaded.run("steps/values_step.rb")
    assert answer["value"] == {
        "symbol": "sym",
        "time": "2024-05-06T07:08:09.000Z",
        "float": 1.5,
        "nan": None,
        "set": [1, 2],
        "struct": {"a": 1, "b": ["x"]},
        "nested": [{"deep": {"mixed": "keys"}}],
        "bytes": "café",
        "invalid": "bad \ufffd byte",
    }


def test_streams_and_context_fields(loaded: Ruby) -> None:
    def server(call: Frame) -> Any:
        method, args = call["method"], call["args"]
        item = {"title": "write tests", "id": "a"}
        if method == "streams.set":
            return {**args[3], "id": args[2]}
        return {"streams.get": item, "streams.getGroup": [item], "streams.delete": item}.get(method)

    answer, frames = loaded.run("steps/streams_step.rb", input={"group": "g1"}, answer=server)
    assert answer["value"] == {
        "title": "write tests",
        "same": True,
        "count": 1,
        "gone": "a",
        "attempt": 2,
        "event": "event-1",
    }
    assert calls(frames) == [
        ("streams.set", ["todo-items", "g1", "a", {"title": "write tests"}]),
        ("streams.get", ["todo-items", "g1", "a"]),
        (
            "streams.send",
            ["todo-items", {"groupId": "g1"}, {"type": "typing", "data": {"who": "ada"}}],
        ),
        ("streams.getGroup", ["todo-items", "g1"]),
        ("streams.delete", ["todo-items", "g1", "a"]),
        ("state.clear", ["g1"]),
    ]


def test_can_access_runs_the_stream_config_lambda(loaded: Ruby) -> None:
    file = "streams/todo_items_stream.rb"
    allowed = {"subscription": {"groupId": "u1"}, "authContext": {"userId": "u1"}}
    other = {"subscription": {"groupId": "u1"}, "authContext": {"userId": "u2"}}
    anonymous = {"subscription": {"groupId": "u1"}, "authContext": None}
    results = [loaded.run(file, "canAccess", i)[0]["value"] for i in (allowed, other, anonymous)]
    assert results == [True, False, False]


def test_logger_frames(loaded: Ruby) -> None:
    answer, frames = loaded.run("steps/logs_step.rb", input={"user": {"id": 7}})
    assert answer["value"] is None
    invoke_id = answer["re"]
    assert frames == [
        {"t": "log", "inv": invoke_id, "level": "debug", "msg": "debugging", "fields": None},
        {
            "t": "log",
            "inv": invoke_id,
            "level": "info",
            "msg": "with fields",
            "fields": {"user": {"id": 7}, "level": "high"},
        },
        {
            "t": "log",
            "inv": invoke_id,
            "level": "warn",
            "msg": "keyword fields",
            "fields": {"count": 2},
        },
        {
            "t": "log",
            "inv": invoke_id,
            "level": "error",
            "msg": "not a hash",
            "fields": {"value": "just text"},
        },
    ]


def test_200_invocations_in_flight_answered_out_of_order(loaded: Ruby) -> None:
    count = 200
    invoke_ids = {loaded.invoke("steps/echo_step.rb", input={"n": n}): n for n in range(count)}
    # Every handler is waiting on its state.get at the same time...
    pending: list[Frame] = []
    while len(pending) < count:
        frame = loaded.raw.read()
        assert frame["t"] == "call", frame
        pending.append(frame)
    assert {f["inv"] for f in pending} == set(invoke_ids)
    # ...and each gets its own answer, whatever the order they come in.
    pending.sort(key=lambda f: (f["id"] * 7919) % count)
    for call in pending:
        loaded.raw.send({"t": "ok", "re": call["id"], "value": {"for": call["args"][1]}})
    results = {}
    for _ in range(count):
        frame = loaded.raw.read()
        assert frame["t"] == "ok", frame
        results[frame["re"]] = frame["value"]
    for invoke_id, n in invoke_ids.items():
        assert results[invoke_id] == {"n": n, "value": {"for": f"key-{n}"}}


# --- lifecycle and channel --------------------------------------------------------------


def test_shutdown_finishes_in_flight_work_then_exits_0(loaded: Ruby) -> None:
    invoke_id = loaded.invoke("steps/echo_step.rb", input={"n": 1})
    call = loaded.raw.read()
    assert call["t"] == "call"
    loaded.raw.send({"t": "shutdown"})
    time.sleep(0.3)
    assert loaded.raw.process.poll() is None, "exited with an invocation in flight"
    # Context calls of the in-flight invocation are still answered.
    loaded.raw.send({"t": "ok", "re": call["id"], "value": "late"})
    answer = loaded.raw.read()
    assert answer == {"t": "ok", "re": invoke_id, "value": {"n": 1, "value": "late"}}
    assert loaded.wait(5) == 0


def test_shutdown_when_idle_exits_0(loaded: Ruby) -> None:
    loaded.raw.send({"t": "shutdown"})
    assert loaded.wait(5) == 0


def test_eof_exits_promptly(loaded: Ruby) -> None:
    loaded.invoke("steps/echo_step.rb", input={"n": 1})
    assert loaded.raw.read()["t"] == "call"
    started = time.monotonic()
    loaded.raw.sock.close()
    loaded.wait(5)
    assert time.monotonic() - started < 2


def test_puts_in_a_handler_does_not_touch_the_channel(loaded: Ruby) -> None:
    answer, frames = loaded.run("steps/printer_step.rb", input={"a": 1})
    assert answer["value"] == "printed"
    assert frames == []
    answer, _ = loaded.run("steps/format_step.rb", input={"text": "after"})
    assert answer["value"] == "AFTER!"
    loaded.raw.send({"t": "shutdown"})
    assert loaded.wait(5) == 0
    assert loaded.raw.process.stdout is not None
    stdout = loaded.raw.process.stdout.read().decode()
    assert '{"t":"ok","re":1,"value":"not a frame"}\n' in stdout
    assert "partial line without newline and more\n" in stdout
    assert "#<Motia::Record a=1>" in stdout


def test_frames_split_across_writes_and_many_per_write(loaded: Ruby) -> None:
    def invoke(frame_id: int, text: str) -> bytes:
        file = str(PROJECT / "steps/format_step.rb")
        return (
            f'{{"t":"invoke","id":{frame_id},"file":"{file}","kind":"event",'
            f'"input":{{"text":"{text}"}},"ctx":{{}}}}\n'
        ).encode()

    sock = loaded.raw.sock
    first = invoke(101, "split")
    sock.sendall(first[:25])
    time.sleep(0.05)
    sock.sendall(first[25:60])
    time.sleep(0.05)
    # The rest of the first frame, frames the runner ignores, and two more invokes.
    ignored = b'{"t":"cancel","re":5}\n\n{"t":"future-frame","x":1}\n'
    sock.sendall(first[60:] + ignored + invoke(102, "two") + invoke(103, "three"))
    answers = {}
    for _ in range(3):
        frame = loaded.raw.read()
        answers[frame["re"]] = frame["value"]
    assert answers == {101: "SPLIT!", 102: "TWO!", 103: "THREE!"}


def test_a_line_over_64_mib_is_a_protocol_error(loaded: Ruby) -> None:
    chunk = b"x" * (1 << 20)
    loaded.raw.sock.settimeout(10)
    try:
        for _ in range(65):
            loaded.raw.sock.sendall(chunk)
        loaded.raw.sock.sendall(b"x")
    except OSError:
        pass  # the runner may close its end before all of it is sent
    assert loaded.wait(10) != 0
    assert loaded.raw.process.stderr is not None
    assert "longer than 67108864 bytes" in loaded.raw.process.stderr.read().decode()
