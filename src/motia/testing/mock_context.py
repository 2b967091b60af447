"""`create_mock_context()`: a `FlowContext` for unit-testing one handler, with no runtime.

    ctx = create_mock_context(state={"resources": {"r1": {"name": "a"}}})
    await handler({"id": "r1", "name": "a"}, ctx)
    assert ctx.emitted == [{"topic": "resource.processed", "data": {...}}]
    assert ("set", ("resources", "r1", {...})) in ctx.state.calls
    assert ctx.logs[-1]["msg"] == "Resource processed"

Everything runs in memory and at once. Like the real context, each call is awaitable from
an async handler; called where no event loop runs (a sync handler called directly from a
sync test) it returns its result straight away, as it does in a real sync handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from motia import jsoncodec
from motia.adapters.streams.base import StreamUpdateError, apply_ops
from motia.errors import EmitNotDeclared
from motia.logs import Logger, LogRecord
from motia.runtime.context import FlowContext, State, Stream, Streams, Utils
from motia.runtime.events import parse_emit
from motia.runtime.streams import StreamError
from motia.testing._logs import CaptureSink
from motia.testing.clock import ManualClock


class Call(NamedTuple):
    """One recorded context call: `("set", ("group", "key", value))`; compares equal to
    the plain tuple."""

    method: str
    args: tuple[Any, ...]


class _Ready:
    """An awaitable that is already finished, holding a call's result."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self._value
        yield  # makes this a generator


def _result(value: Any) -> Any:
    """Awaitable inside an event loop (async handlers), the value itself outside one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return value
    return _Ready(value)


def _copy(value: Any) -> Any:
    """Stored as JSON, as every real backend does: later changes to the object do not leak
    in, and values that cannot be stored fail here."""
    return jsoncodec.loads(jsoncodec.dumps(value))


class MockState(State):
    """`ctx.state` backed by a dict: `data[group][key]`; every call is in `calls`."""

    def __init__(self, initial: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.data: dict[str, dict[str, Any]] = {
            str(group): {str(k): _copy(v) for k, v in values.items()}
            for group, values in (initial or {}).items()
        }
        self.calls: list[Call] = []

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append(Call(method, args))

    def get(self, group_id: str, key: str) -> Any:
        self._record("get", group_id, key)
        value = self.data.get(str(group_id), {}).get(str(key))
        return _result(None if value is None else _copy(value))

    def set(self, group_id: str, key: str, value: Any) -> Any:
        self._record("set", group_id, key, value)
        stored = _copy(value)
        self.data.setdefault(str(group_id), {})[str(key)] = stored
        return _result(_copy(stored))

    def delete(self, group_id: str, key: str) -> Any:
        self._record("delete", group_id, key)
        group = self.data.get(str(group_id), {})
        old = group.pop(str(key), None)
        if not group:
            self.data.pop(str(group_id), None)
        return _result(old)

    def get_group(self, group_id: str) -> Any:
        self._record("get_group", group_id)
        group = self.data.get(str(group_id), {})
        return _result([_copy(group[key]) for key in sorted(group)])

    getGroup = get_group

    def clear(self, group_id: str) -> Any:
        self._record("clear", group_id)
        self.data.pop(str(group_id), None)
        return _result(None)

    def calls_to(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of every call to `method`, in order."""
        return [call.args for call in self.calls if call.method == method]


class MockStream(Stream):
    """`ctx.streams.<name>` backed by a dict: `items[group][id]`; calls are in `calls`."""

    def __init__(self, name: str, calls: list[Call]) -> None:
        self.name = name
        self.items: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self._all_calls = calls

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append(Call(method, args))
        self._all_calls.append(Call(f"{self.name}.{method}", args))

    def get(self, group_id: str, item_id: str) -> Any:
        self._record("get", group_id, item_id)
        item = self.items.get(str(group_id), {}).get(str(item_id))
        return _result(None if item is None else _copy(item))

    def set(self, group_id: str, item_id: str, data: Any) -> Any:
        self._record("set", group_id, item_id, data)
        if not isinstance(data, dict):
            raise StreamError(
                f"stream '{self.name}': an item must be a dict (a JSON object), "
                f"not {type(data).__name__}"
            )
        item = {**_copy(data), "id": str(item_id)}
        self.items.setdefault(str(group_id), {})[str(item_id)] = item
        return _result(_copy(item))

    def update(self, group_id: str, item_id: str, ops: Any) -> Any:
        self._record("update", group_id, item_id, ops)
        current = self.items.get(str(group_id), {}).get(str(item_id), {})
        try:
            data = apply_ops({k: v for k, v in current.items() if k != "id"}, ops)
        except StreamUpdateError as exc:
            raise StreamError(f"stream '{self.name}': {exc}") from None
        item = {**_copy(data), "id": str(item_id)}
        self.items.setdefault(str(group_id), {})[str(item_id)] = item
        return _result(_copy(item))

    def delete(self, group_id: str, item_id: str) -> Any:
        self._record("delete", group_id, item_id)
        group = self.items.get(str(group_id), {})
        old = group.pop(str(item_id), None)
        return _result(old)

    def get_group(self, group_id: str) -> Any:
        self._record("get_group", group_id)
        return _result([_copy(item) for item in self.items.get(str(group_id), {}).values()])

    getGroup = get_group

    def send(self, channel: Any, event: Any) -> Any:
        self._record("send", channel, event)
        return _result(None)

    @property
    def sent(self) -> list[tuple[Any, Any]]:
        """`(channel, event)` of every `send`, in order."""
        return [(call.args[0], call.args[1]) for call in self.calls if call.method == "send"]


class MockStreams(Streams):
    """`ctx.streams`: any name works unless `names` restricts them; `calls` records every
    stream call as `("<stream>.<method>", args)`."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        self._names = None if names is None else frozenset(names)
        self._mocks: dict[str, MockStream] = {}
        self.calls: list[Call] = []

    def __getitem__(self, name: str) -> MockStream:
        stream = self._mocks.get(name)
        if stream is None:
            if self._names is not None and name not in self._names:
                known = ", ".join(sorted(self._names)) or "none are defined"
                raise KeyError(f"no stream named '{name}' ({known})")
            stream = self._mocks[name] = MockStream(name, self.calls)
        return stream

    def __getattr__(self, name: str) -> MockStream:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None

    def __contains__(self, name: object) -> bool:
        if self._names is not None:
            return name in self._names
        return name in self._mocks

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> list[str]:
        return sorted(self._names if self._names is not None else self._mocks)


class MockContext(FlowContext):
    """The same surface as `FlowContext` (it is one, for type checkers and `isinstance`),
    with everything recorded:

    - `emitted`: every `ctx.emit(...)` as `{"topic", "data"[, "messageGroupId"]}`;
    - `state`: a `MockState` (`.data`, `.calls`);
    - `logs`: every log record (`{"level", "msg", "step", "traceId", ...fields}`);
    - `streams`: `MockStreams` (`ctx.streams.name.items`, `.calls`);
    - `clock`: the `ManualClock` behind `ctx.utils.dates.now()`.
    """

    def __init__(
        self,
        *,
        trace_id: str = "mock-trace-id",
        flows: list[str] | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
        step: str = "MockStep",
        emits: Iterable[str] | None = None,
        streams: Iterable[str] | None = None,
        attempt: int = 1,
        event_id: str | None = None,
        now: datetime | None = None,
    ) -> None:
        # The real context's services are never built: every member is overridden here.
        self.trace_id = trace_id
        self.flows = list(flows or [])
        self.attempt = attempt
        self.event_id = event_id
        self.step = step
        self.declared_emits = frozenset(emits) if emits is not None else None
        self.clock = ManualClock(now) if now is not None else ManualClock()
        self.sink = CaptureSink("debug")
        self.emitted: list[dict[str, Any]] = []
        self._mock_state = MockState(state)
        self._mock_streams = MockStreams(streams)
        self._mock_logger = Logger(self.sink, step, trace_id, self.flows)
        self._mock_utils = Utils(self.clock)

    @property
    def logger(self) -> Logger:
        return self._mock_logger

    @property
    def state(self) -> MockState:
        return self._mock_state

    @property
    def streams(self) -> MockStreams:
        return self._mock_streams

    @property
    def utils(self) -> Utils:
        return self._mock_utils

    @property
    def logs(self) -> list[LogRecord]:
        return self.sink.records

    @property
    def topics(self) -> list[str]:
        """The topics emitted so far, in order."""
        return [event["topic"] for event in self.emitted]

    def emit(self, event: Any) -> Any:
        parsed = parse_emit(event, self.trace_id, self.flows)
        if self.declared_emits is not None and parsed.topic not in self.declared_emits:
            raise EmitNotDeclared(self.step, parsed.topic, sorted(self.declared_emits))
        record: dict[str, Any] = {"topic": parsed.topic, "data": parsed.data}
        if parsed.message_group_id is not None:
            record["messageGroupId"] = parsed.message_group_id
        self.emitted.append(record)
        return _Ready(None)

    def __repr__(self) -> str:
        return f"MockContext(trace_id={self.trace_id!r}, emitted={len(self.emitted)})"


def create_mock_context(
    trace_id: str = "mock-trace-id",
    flows: list[str] | None = None,
    state: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    step: str = "MockStep",
    emits: Iterable[str] | None = None,
    streams: Iterable[str] | None = None,
    attempt: int = 1,
    event_id: str | None = None,
    now: datetime | None = None,
) -> MockContext:
    """A context for calling one handler directly: `await handler(input, ctx)`.

    `state` seeds the state (`{group: {key: value}}`); `emits` (optional) makes `emit`
    refuse undeclared topics as the runtime does; `streams` (optional) limits the stream
    names; `now` sets what `ctx.utils.dates.now()` returns (move it with `ctx.clock`).
    """
    return MockContext(
        trace_id=trace_id,
        flows=flows,
        state=state,
        step=step,
        emits=emits,
        streams=streams,
        attempt=attempt,
        event_id=event_id,
        now=now,
    )
