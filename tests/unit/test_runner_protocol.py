"""The runner protocol codec on its own: framing, parsing and every malformed input."""

from __future__ import annotations

import json

import pytest

from motia.runners import protocol
from motia.runners.protocol import (
    Answer,
    Call,
    FileReport,
    FrameDecoder,
    Hello,
    Log,
    ProtocolError,
    RemoteError,
)


def _line(frame: object) -> bytes:
    return json.dumps(frame).encode() + b"\n"


def test_frames_split_across_chunks_and_packed_in_one_chunk() -> None:
    decoder = FrameDecoder()
    data = _line({"t": "hello", "protocol": 1, "runtime": "node", "version": "v20", "pid": 7})
    data += _line({"t": "ok", "re": 1, "value": {"a": [1, 2]}})
    data += _line({"t": "call", "id": 3, "inv": 1, "method": "state.get", "args": ["g", "k"]})
    frames = []
    for index in range(0, len(data), 5):  # five bytes at a time
        frames += decoder.feed(data[index : index + 5])
    assert frames == [
        Hello(protocol=1, runtime="node", version="v20", pid=7),
        Answer(re=1, ok=True, value={"a": [1, 2]}),
        Call(id=3, inv=1, method="state.get", args=["g", "k"]),
    ]
    assert decoder.feed(data) == frames  # and all at once


def test_an_error_answer_carries_the_remote_error() -> None:
    [frame] = FrameDecoder().feed(
        _line(
            {"t": "err", "re": 4, "error": {"message": "boom", "name": "TypeError", "stack": "s"}}
        )
    )
    assert frame == Answer(
        re=4, ok=False, error=RemoteError(message="boom", name="TypeError", stack="s")
    )


def test_an_error_without_details_still_has_a_message() -> None:
    [frame] = FrameDecoder().feed(_line({"t": "err", "re": 4}))
    assert isinstance(frame, Answer) and frame.error == RemoteError(message="unknown error")


def test_log_frames_default_an_unknown_level_to_info_and_allow_no_invocation() -> None:
    frames = FrameDecoder().feed(
        _line({"t": "log", "inv": 2, "level": "warn", "msg": "careful", "fields": {"n": 1}})
        + _line({"t": "log", "inv": None, "level": "shout", "msg": "hi"})
    )
    assert frames == [
        Log(inv=2, level="warn", msg="careful", fields={"n": 1}),
        Log(inv=None, level="info", msg="hi", fields=None),
    ]


def test_unknown_frame_types_and_blank_lines_are_skipped() -> None:
    frames = FrameDecoder().feed(
        b"\n  \n" + _line({"t": "metrics", "x": 1}) + _line({"t": "ok", "re": 1})
    )
    assert frames == [Answer(re=1, ok=True, value=None)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", "not valid JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"x": 1}\n', "no type"),
        (b'{"t": "ok"}\n', "integer 're'"),
        (b'{"t": "ok", "re": true}\n', "integer 're'"),
        (b'{"t": "call", "id": 1, "inv": 1, "method": 5, "args": []}\n', "string 'method'"),
        (b'{"t": "call", "id": 1, "inv": 1, "method": "emit", "args": {}}\n', "list 'args'"),
        (b'{"t": "call", "id": 1, "method": "emit", "args": []}\n', "integer 'inv'"),
        (b'{"t": "hello", "runtime": "node"}\n', "integer 'protocol'"),
    ],
)
def test_malformed_frames_are_protocol_errors(line: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        FrameDecoder().feed(line)


def test_a_line_over_the_limit_is_a_protocol_error_before_it_ends() -> None:
    decoder = FrameDecoder(max_line=1000)
    decoder.feed(b"x" * 900)
    with pytest.raises(ProtocolError, match="longer than 1000 bytes"):
        decoder.feed(b"x" * 200)


def test_requests_are_numbered_and_encoded_one_per_line() -> None:
    requests = protocol.Requests()
    first, load = requests.load(["/p/a.step.ts"])
    second, invoke = requests.invoke("/p/a.step.ts", "event", {"n": 1}, {"traceId": "t"})
    assert (first, second) == (1, 2)
    assert load.endswith(b"\n") and load.count(b"\n") == 1
    assert json.loads(load) == {"t": "load", "id": 1, "files": ["/p/a.step.ts"]}
    assert json.loads(invoke) == {
        "t": "invoke",
        "id": 2,
        "file": "/p/a.step.ts",
        "kind": "event",
        "input": {"n": 1},
        "ctx": {"traceId": "t"},
    }


def test_answers_and_control_frames_encode_as_the_spec_says() -> None:
    assert json.loads(protocol.ok(3, [1, "a\nb"])) == {"t": "ok", "re": 3, "value": [1, "a\nb"]}
    assert protocol.ok(3, "a\nb").count(b"\n") == 1  # newlines inside strings are escaped
    assert json.loads(protocol.err(3, KeyError("nope"))) == {
        "t": "err",
        "re": 3,
        "error": {"message": "'nope'", "name": "KeyError"},
    }
    assert json.loads(protocol.cancel(9)) == {"t": "cancel", "re": 9}
    assert json.loads(protocol.SHUTDOWN) == {"t": "shutdown"}


def test_load_answers_parse_into_file_reports() -> None:
    reports = protocol.parse_load_answer(
        {
            "files": [
                {
                    "file": "/p/a.step.ts",
                    "kind": "step",
                    "config": {"type": "event", "name": "A"},
                    "handler": True,
                    "functions": ["middleware"],
                    "error": None,
                },
                {
                    "file": "/p/b.stream.ts",
                    "kind": "stream",
                    "config": None,
                    "handler": False,
                    "error": {"message": "Unexpected token", "line": 3},
                },
            ]
        }
    )
    assert reports == [
        FileReport(
            "/p/a.step.ts", "step", {"type": "event", "name": "A"}, True, ("middleware",), None
        ),
        FileReport(
            "/p/b.stream.ts",
            "stream",
            None,
            False,
            (),
            RemoteError(message="Unexpected token", line=3),
        ),
    ]


@pytest.mark.parametrize("value", [None, [], {"files": {}}, {"files": [{"kind": "step"}]}])
def test_malformed_load_answers_are_protocol_errors(value: object) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse_load_answer(value)
