"""What a test captures and reads from a running project: events on a topic, stream
changes, and the project's state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from motia.runtime.events import Event
from motia.runtime.streams import StreamEvent

if TYPE_CHECKING:
    from motia.testing.tester import MotiaTester


class EventWatcher:
    """What `tester.watch(topic)` returns: every event emitted on the topic from then on."""

    def __init__(self, topic: str, stop: Callable[[EventWatcher], None]) -> None:
        self.topic = topic
        self.records: list[Event] = []
        self._stop = stop

    def hear(self, event: Event) -> None:
        """Keep `event` if it is on this watcher's topic (the tester calls this)."""
        if event.topic == self.topic:
            self.records.append(event)

    @property
    def events(self) -> list[Any]:
        """The `data` of each captured event, in emission order."""
        return [event.data for event in self.records]

    @property
    def last(self) -> Any:
        """The `data` of the latest event; None when nothing was captured."""
        return self.records[-1].data if self.records else None

    @property
    def count(self) -> int:
        return len(self.records)

    def get(self, index: int) -> Any:
        return self.records[index].data

    def clear(self) -> None:
        self.records.clear()

    def close(self) -> None:
        """Stop capturing."""
        self._stop(self)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.events)

    def __repr__(self) -> str:
        return f"EventWatcher({self.topic!r}, count={self.count})"


class StreamCapture:
    """What `tester.stream(name)` returns: every change and custom event of the stream from
    then on, as `StreamEvent`s (`type` is create, update, delete or event)."""

    def __init__(self, name: str, stop: Callable[[StreamCapture], None]) -> None:
        self.name = name
        self.events: list[StreamEvent] = []
        self._stop = stop

    def hear(self, event: StreamEvent) -> None:
        """Keep `event` if it belongs to this stream (the tester calls this)."""
        if event.stream == self.name:
            self.events.append(event)

    @property
    def last(self) -> StreamEvent | None:
        return self.events[-1] if self.events else None

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def types(self) -> list[str]:
        """The type of each event, in order: `['create', 'update', ...]`."""
        return [event.type for event in self.events]

    def in_group(self, group_id: str) -> list[StreamEvent]:
        return [event for event in self.events if event.group_id == group_id]

    def clear(self) -> None:
        self.events.clear()

    def close(self) -> None:
        self._stop(self)

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"StreamCapture({self.name!r}, count={self.count})"


class TesterState:
    """`tester.state`: read and change the project's state directly."""

    def __init__(self, tester: MotiaTester) -> None:
        self._tester = tester

    async def get(self, group_id: str, key: str) -> Any:
        return await self._tester.runtime.state.get(str(group_id), str(key))

    async def set(self, group_id: str, key: str, value: Any) -> Any:
        return await self._tester.runtime.state.set(str(group_id), str(key), value)

    async def delete(self, group_id: str, key: str) -> Any:
        return await self._tester.runtime.state.delete(str(group_id), str(key))

    async def get_group(self, group_id: str) -> list[Any]:
        return await self._tester.runtime.state.get_group(str(group_id))

    async def items(self, group_id: str) -> dict[str, Any]:
        return await self._tester.runtime.state.items(str(group_id))

    async def clear(self, group_id: str) -> None:
        await self._tester.runtime.state.clear(str(group_id))

    async def groups(self) -> list[str]:
        return await self._tester.runtime.state.groups()
