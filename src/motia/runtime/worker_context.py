"""`ctx` inside a worker process (`"executor": "process"`): the same surface as the server's
`FlowContext`, each call sent to the server over the worker's socket and answered there by
the run's real context (see `motia.runtime.process_pool`).

The worker runs one handler at a time, so a call blocks until its answer arrives. For an
`async def` handler each call returns an awaitable that is already finished, as `ctx` calls
are awaited on the server; for a `def` handler it returns the value, as in a thread.
"""

from __future__ import annotations

import socket
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any

from motia import jsoncodec
from motia.runners.protocol import encode

RULE = 'a step with "executor": "process" exchanges JSON with the server'


class ContextCallFailed(Exception):
    """The server refused or failed a context call (its message says why)."""


class ParentGone(Exception):
    """The server closed the worker's socket: the worker exits."""


class Channel:
    """The worker's end of the socket: frames out, frames in, one line each."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._last_id = 0
        self.shutdown_requested = False

    def send(self, frame: dict[str, Any]) -> None:
        self._sock.sendall(encode(frame))

    def answer(self, frame: dict[str, Any]) -> None:
        """The answer to an invocation; a return value that is not JSON fails the run."""
        try:
            data = encode(frame)
        except TypeError as exc:
            message = f"{RULE}; the handler's return value is not JSON: {exc}"
            error = {"message": message, "name": "TypeError"}
            data = encode({"t": "err", "re": frame.get("re"), "error": error})
        self._sock.sendall(data)

    def receive(self) -> dict[str, Any]:
        line = self._reader.readline()
        if not line:
            raise ParentGone
        frame = jsoncodec.loads(line)
        if not isinstance(frame, dict):
            raise ParentGone
        return frame

    def call(self, inv: int, method: str, args: list[Any]) -> Any:
        self._last_id += 1
        rid = self._last_id
        try:
            frame = encode({"t": "call", "id": rid, "inv": inv, "method": method, "args": args})
        except TypeError as exc:
            raise TypeError(f"{method}: {RULE}; its arguments are not JSON: {exc}") from None
        self._sock.sendall(frame)
        while True:
            answer = self.receive()
            kind = answer.get("t")
            if kind in ("ok", "err") and answer.get("re") == rid:
                if kind == "ok":
                    return answer.get("value")
                error = answer.get("error") or {}
                name = error.get("name")
                message = str(error.get("message", "the call failed"))
                raise ContextCallFailed(f"{name}: {message}" if name else message)
            self.other_frame(answer)

    def other_frame(self, frame: dict[str, Any]) -> None:
        """A frame that arrived while a handler runs: pings are answered, a shutdown is
        remembered for when the handler returns."""
        kind = frame.get("t")
        if kind == "ping":
            self.send({"t": "ok", "re": frame.get("id"), "value": None})
        elif kind == "shutdown":
            self.shutdown_requested = True

    def log(self, inv: int, level: str, message: Any, fields: Any) -> None:
        frame = {"t": "log", "inv": inv, "level": level, "msg": str(message), "fields": fields}
        try:
            self.send(frame)
        except TypeError:  # fields that are not JSON: keep the line, say what they were
            self.send({**frame, "fields": {"fields": repr(fields)}})


class _Ready:
    """An awaitable whose value is already known."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # makes this a generator


class _Caller:
    """Sends one invocation's calls; wraps the values for async handlers."""

    __slots__ = ("_awaitable", "_channel", "_inv")

    def __init__(self, channel: Channel, inv: int, awaitable: bool) -> None:
        self._channel = channel
        self._inv = inv
        self._awaitable = awaitable

    def __call__(self, method: str, *args: Any) -> Any:
        value = self._channel.call(self._inv, method, list(args))
        return _Ready(value) if self._awaitable else value

    def log(self, level: str, message: Any, fields: Any) -> None:
        self._channel.log(self._inv, level, message, fields)


class WorkerLogger:
    __slots__ = ("_caller",)

    def __init__(self, caller: _Caller) -> None:
        self._caller = caller

    def debug(self, message: Any, fields: Any = None) -> None:
        self._caller.log("debug", message, fields)

    def info(self, message: Any, fields: Any = None) -> None:
        self._caller.log("info", message, fields)

    def warn(self, message: Any, fields: Any = None) -> None:
        self._caller.log("warn", message, fields)

    warning = warn

    def error(self, message: Any, fields: Any = None) -> None:
        self._caller.log("error", message, fields)


class WorkerState:
    __slots__ = ("_caller",)

    def __init__(self, caller: _Caller) -> None:
        self._caller = caller

    def get(self, group_id: str, key: str) -> Any:
        return self._caller("state.get", str(group_id), str(key))

    def set(self, group_id: str, key: str, value: Any) -> Any:
        return self._caller("state.set", str(group_id), str(key), value)

    def delete(self, group_id: str, key: str) -> Any:
        return self._caller("state.delete", str(group_id), str(key))

    def get_group(self, group_id: str) -> Any:
        return self._caller("state.getGroup", str(group_id))

    getGroup = get_group

    def clear(self, group_id: str) -> Any:
        return self._caller("state.clear", str(group_id))


class WorkerStream:
    __slots__ = ("_caller", "_name")

    def __init__(self, caller: _Caller, name: str) -> None:
        self._caller = caller
        self._name = name

    def get(self, group_id: str, item_id: str) -> Any:
        return self._caller("streams.get", self._name, group_id, item_id)

    def set(self, group_id: str, item_id: str, data: Any) -> Any:
        return self._caller("streams.set", self._name, group_id, item_id, data)

    def update(self, group_id: str, item_id: str, ops: Any) -> Any:
        return self._caller("streams.update", self._name, group_id, item_id, ops)

    def delete(self, group_id: str, item_id: str) -> Any:
        return self._caller("streams.delete", self._name, group_id, item_id)

    def get_group(self, group_id: str) -> Any:
        return self._caller("streams.getGroup", self._name, group_id)

    getGroup = get_group

    def send(self, channel: Any, event: Any) -> Any:
        return self._caller("streams.send", self._name, channel, event)


class WorkerStreams:
    __slots__ = ("_caller", "_names")

    def __init__(self, caller: _Caller, names: list[str]) -> None:
        self._caller = caller
        self._names = names

    def __getitem__(self, name: str) -> WorkerStream:
        if name not in self._names:
            known = ", ".join(self._names) or "none"
            raise KeyError(f"no stream named '{name}' (streams: {known})")
        return WorkerStream(self._caller, name)

    def __getattr__(self, name: str) -> WorkerStream:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def keys(self) -> list[str]:
        return sorted(self._names)


class _Dates:
    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)


class _Utils:
    __slots__ = ("dates",)

    def __init__(self) -> None:
        self.dates = _Dates()


class WorkerContext:
    """`ctx` of a handler that runs in a worker process."""

    def __init__(self, channel: Channel, inv: int, meta: dict[str, Any], awaitable: bool) -> None:
        caller = _Caller(channel, inv, awaitable)
        self._caller = caller
        self.trace_id: str = str(meta.get("traceId", ""))
        self.flows: list[str] = list(meta.get("flows") or [])
        self.event_id: str | None = meta.get("eventId")
        self.attempt: int = int(meta.get("attempt") or 1)
        self.topic: str | None = meta.get("topic")
        self.logger = WorkerLogger(caller)
        self.state = WorkerState(caller)
        self.streams = WorkerStreams(caller, list(meta.get("streams") or []))
        self.utils = _Utils()

    @property
    def traceId(self) -> str:
        return self.trace_id

    def rate_limit(self, key: str, *, requests: int, per: float | str) -> Any:
        raise NotImplementedError(
            'ctx.rate_limit is not available in a step with "executor": "process"; call it '
            "in a step that runs in the server and emit to this one"
        )

    rateLimit = rate_limit

    def emit(self, event: Any) -> Any:
        """Checked by the server (declared topics, form) and sent with the run's emits."""
        return self._caller("emit", event)
