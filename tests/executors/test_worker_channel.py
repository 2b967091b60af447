"""The worker's end of the socket (`motia.runtime.worker_context.Channel`) against a real
socket pair: a context call waits for its own answer, answers pings that arrive meanwhile,
remembers a shutdown, and turns an error answer into an exception in the handler."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from motia.runtime.worker_context import Channel, ContextCallFailed, ParentGone, WorkerContext


@pytest.fixture
def pair() -> Iterator[tuple[Channel, socket.socket]]:
    worker_end, server_end = socket.socketpair()
    server_end.settimeout(5)
    yield Channel(worker_end), server_end
    worker_end.close()
    server_end.close()


def _frames(sock: socket.socket, count: int) -> list[dict[str, Any]]:
    reader = sock.makefile("rb")
    return [json.loads(reader.readline()) for _ in range(count)]


def _send(sock: socket.socket, *frames: dict[str, Any]) -> None:
    sock.sendall(b"".join(json.dumps(frame).encode() + b"\n" for frame in frames))


def test_a_call_answers_pings_and_remembers_a_shutdown_while_it_waits(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, server = pair
    ctx = WorkerContext(channel, 7, {"traceId": "t1", "flows": ["f"], "streams": []}, False)
    result: list[Any] = []
    caller = threading.Thread(target=lambda: result.append(ctx.state.get("g", "k")))
    caller.start()
    (call,) = _frames(server, 1)
    assert call == {"t": "call", "id": 1, "inv": 7, "method": "state.get", "args": ["g", "k"]}
    _send(
        server,
        {"t": "ping", "id": 40},
        {"t": "shutdown"},
        {"t": "ok", "re": 99, "value": "not ours"},
        {"t": "ok", "re": 1, "value": {"v": 1}},
    )
    caller.join(5)
    assert result == [{"v": 1}]
    assert _frames(server, 1) == [{"t": "ok", "re": 40, "value": None}]
    assert channel.shutdown_requested


def test_an_error_answer_raises_in_the_handler_and_async_handlers_await_values(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, server = pair
    ctx = WorkerContext(channel, 3, {"traceId": "t1", "streams": ["items"]}, True)
    _send(server, {"t": "err", "re": 1, "error": {"message": "no", "name": "EmitNotDeclared"}})
    with pytest.raises(ContextCallFailed, match="EmitNotDeclared: no"):
        ctx.emit({"topic": "x", "data": {}})
    _send(server, {"t": "ok", "re": 2, "value": [1, 2]})
    awaitable = ctx.streams.items.get_group("g")
    with pytest.raises(StopIteration) as done:
        awaitable.__await__().send(None)
    assert done.value.value == [1, 2]
    with pytest.raises(AttributeError, match="no stream named 'other'"):
        _ = ctx.streams.other
    ctx.logger.info("hello", {"n": 1})
    sent = _frames(server, 3)
    assert sent[2] == {"t": "log", "inv": 3, "level": "info", "msg": "hello", "fields": {"n": 1}}


def test_a_closed_socket_ends_the_worker(pair: tuple[Channel, socket.socket]) -> None:
    channel, server = pair
    server.close()
    with pytest.raises(ParentGone):
        channel.receive()
