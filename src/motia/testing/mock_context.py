"""`create_mock_context()`: a `FlowContext` for unit-testing one handler, with no runtime.

    ctx = create_mock_context(state={"resources": {"r1": {"name": "a"}}})
    await handler({"id": "r1", "name": "a"}, ctx)
    assert ctx.emitted == [{"topic": "resource.processed", "data": {...}}]
    assert ("set", ("resources", "r1", {...})) in ctx.state.calls
    assert ctx.logs[-1]["msg"] == "Resource processed"

It is the runtime's own context over memory stores, so emits, state, streams, logs and
their errors behave as in a run; the mock only records the calls. Memory stores never wait,
so each call finishes at once: from an async handler it is awaitable (an error is raised
where it is awaited, as in the runtime); called where no event loop runs (a sync handler
called directly from a sync test) it returns its result straight away, as it does in a
real sync handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from motia.adapters.factory import backend_class
from motia.adapters.state.base import StateAdapter
from motia.logs import Logger, LogRecord
from motia.runtime.context import FlowContext, Services, State, Stream, Streams
from motia.runtime.invocation import Invocation
from motia.runtime.streams import StreamHub, StreamService
from motia.settings import Settings
from motia.steps.config import StreamConfig
from motia.steps.model import StreamDefinition
from motia.testing._logs import CaptureSink
from motia.testing.clock import ManualClock


class Call(NamedTuple):
    """One recorded context call: `("set", ("group", "key", value))`; compares equal to
    the plain tuple."""

    method: str
    args: tuple[Any, ...]


def run_now(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never waits (a memory store's) to its end, with or without an
    event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("a mock context call waited for I/O; the mock context's stores never do")


class _Ready:
    """An awaitable that is already finished, holding a call's result or error."""

    __slots__ = ("_error", "_value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def __await__(self) -> Generator[Any, None, Any]:
        if self._error is not None:
            raise self._error
        return self._value
        yield  # makes this a generator


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _RunAtOnce:
    """The mock context's bridge: each call runs to its end when it is made."""

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation

    def state_call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self.invocation.state_ops += 1
        return self._call(coro)

    def stream_call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self.invocation.stream_ops += 1
        return self._call(coro)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if not _in_loop():
            return run_now(coro)  # sync code: the value, or the error raised here
        try:
            return _Ready(run_now(coro))
        except Exception as exc:
            return _Ready(error=exc)


class MockState(State):
    """`ctx.state` over a memory store; `data` shows what it holds, `calls` what was asked."""

    def __init__(self, adapter: StateAdapter, bridge: _RunAtOnce) -> None:
        super().__init__(adapter, bridge)
        self._store = adapter
        self.calls: list[Call] = []

    @property
    def data(self) -> dict[str, dict[str, Any]]:
        """What the state holds, `data[group][key]` (a copy)."""
        return {group: run_now(self._store.items(group)) for group in run_now(self._store.groups())}

    def get(self, group_id: str, key: str) -> Any:
        self.calls.append(Call("get", (group_id, key)))
        return super().get(group_id, key)

    def set(self, group_id: str, key: str, value: Any) -> Any:
        self.calls.append(Call("set", (group_id, key, value)))
        return super().set(group_id, key, value)

    def delete(self, group_id: str, key: str) -> Any:
        self.calls.append(Call("delete", (group_id, key)))
        return super().delete(group_id, key)

    def get_group(self, group_id: str) -> Any:
        self.calls.append(Call("get_group", (group_id,)))
        return super().get_group(group_id)

    getGroup = get_group

    def clear(self, group_id: str) -> Any:
        self.calls.append(Call("clear", (group_id,)))
        return super().clear(group_id)

    def calls_to(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of every call to `method`, in order."""
        return [call.args for call in self.calls if call.method == method]


class MockStream(Stream):
    """`ctx.streams.<name>`; `items` shows what it holds, `calls` what was asked."""

    def __init__(
        self, service: StreamService, name: str, bridge: _RunAtOnce, all_calls: list[Call]
    ) -> None:
        super().__init__(service, name, bridge)
        self.name = name
        self.calls: list[Call] = []
        self._service_store = service.store
        self._all_calls = all_calls

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append(Call(method, args))
        self._all_calls.append(Call(f"{self.name}.{method}", args))

    @property
    def items(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What the stream holds, `items[group][id]` as stored (`{...data, "id"}`; a copy)."""
        store = self._service_store
        return {
            group: {item["id"]: item for item in run_now(store.get_group(self.name, group))}
            for group in run_now(store.groups(self.name))
        }

    def get(self, group_id: str, item_id: str) -> Any:
        self._record("get", group_id, item_id)
        return super().get(group_id, item_id)

    def set(self, group_id: str, item_id: str, data: Any) -> Any:
        self._record("set", group_id, item_id, data)
        return super().set(group_id, item_id, data)

    def update(self, group_id: str, item_id: str, ops: Any) -> Any:
        self._record("update", group_id, item_id, ops)
        return super().update(group_id, item_id, ops)

    def delete(self, group_id: str, item_id: str) -> Any:
        self._record("delete", group_id, item_id)
        return super().delete(group_id, item_id)

    def get_group(self, group_id: str) -> Any:
        self._record("get_group", group_id)
        return super().get_group(group_id)

    getGroup = get_group

    def send(self, channel: Any, event: Any) -> Any:
        self._record("send", channel, event)
        return super().send(channel, event)

    @property
    def sent(self) -> list[tuple[Any, Any]]:
        """`(channel, event)` of every `send`, in order."""
        return [(call.args[0], call.args[1]) for call in self.calls if call.method == "send"]


class MockStreams(Streams):
    """`ctx.streams`: any name works (a stream without a schema) unless `names` lists the
    streams there are; `calls` records every stream call as `("<stream>.<method>", args)`."""

    def __init__(
        self, service: StreamService, bridge: _RunAtOnce, names: Iterable[str] | None = None
    ) -> None:
        self.calls: list[Call] = []
        self._mocks: dict[str, MockStream] = {}
        self._open = names is None
        self._stream_service = service
        self._run_bridge = bridge
        super().__init__(service, bridge)
        for name in names or ():
            self._define(name)

    def _define(self, name: str) -> None:
        service = self._stream_service
        definition = StreamDefinition(Path(f"<mock stream {name}>"), StreamConfig(name=name))
        service.apply([*service.definitions.values(), definition])

    def __getitem__(self, name: str) -> MockStream:
        mock = self._mocks.get(name)
        if mock is None:
            if self._open and name not in self._stream_service.definitions:
                self._define(name)
            super().__getitem__(name)  # an unknown stream is refused as in the runtime
            mock = MockStream(self._stream_service, name, self._run_bridge, self.calls)
            self._mocks[name] = mock
        return mock

    def __getattr__(self, name: str) -> MockStream:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None


class MockContext(FlowContext):
    """A real `FlowContext` over memory stores, with everything recorded:

    - `emitted`: every `ctx.emit(...)` as `{"topic", "data"[, "messageGroupId", "fireAt",
      "key"]}` (a cancelled or replaced scheduled emit is gone);
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
        self.step = step
        self.declared_emits = frozenset(emits) if emits is not None else None
        self.clock = ManualClock(now) if now is not None else ManualClock()
        self.sink = CaptureSink("debug")
        memory = backend_class("memory")(Settings(Path.cwd()), self.clock)
        state_store = memory.state()
        for group, values in (state or {}).items():
            for key, value in values.items():
                run_now(state_store.set(str(group), str(key), value))
        logger = Logger(self.sink, None, None, [])
        stream_service = StreamService(memory.streams(), StreamHub(), logger)
        self._invocation = Invocation()
        bridge = _RunAtOnce(self._invocation)
        super().__init__(
            Services(state_store, logger, self.clock, stream_service),
            step=step,
            emits=self.declared_emits or frozenset(),
            trace_id=trace_id,
            flows=list(flows or []),
            invocation=self._invocation,
            event_id=event_id,
            attempt=attempt,
            bridge=bridge,
        )
        self._mock_state = MockState(state_store, bridge)
        self._mock_streams = MockStreams(stream_service, bridge, streams)

    @property
    def state(self) -> MockState:
        return self._mock_state

    @property
    def streams(self) -> MockStreams:
        return self._mock_streams

    @property
    def emitted(self) -> list[dict[str, Any]]:
        """Every emit so far (a cancelled or replaced scheduled one is gone), in order:
        `{"topic", "data"[, "messageGroupId", "fireAt", "key"]}`."""
        records: list[dict[str, Any]] = []
        for event in self._invocation.outbox:
            record: dict[str, Any] = {"topic": event.topic, "data": event.data}
            if event.message_group_id is not None:
                record["messageGroupId"] = event.message_group_id
            if event.fire_at is not None:  # scheduled: when it fires (epoch seconds)
                record["fireAt"] = event.fire_at
            if event.key is not None:
                record["key"] = event.key
            records.append(record)
        return records

    @property
    def topics(self) -> list[str]:
        """The topics emitted so far, in order."""
        return [event.topic for event in self._invocation.outbox]

    @property
    def logs(self) -> list[LogRecord]:
        return self.sink.records

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
