"""The Motia test kit: run a whole project in-process, or one handler with a mock context.

Two ways to test, both on memory adapters and a clock that only moves when told to:

- **The whole project**: `create_tester(project_dir)` boots every step (HTTP through the
  real ASGI app, events through the real queue with retries and dead letters, cron on the
  real scheduler) and offers `post/get/put/patch/delete`, `emit`, `watch(topic)`,
  `wait_until_idle()`, `state`, `stream(name)`, `run_cron(step)`, `advance(seconds)`,
  `clock` and `logs`.
- **One handler**: `create_mock_context()` is a `FlowContext` that records emits, state
  calls, stream calls and logs: `await handler(input, ctx)`.

Async tests (run with `asyncio.run`, or any async test plugin) use the tester directly:

    async def scenario() -> None:
        async with create_tester("my_project") as tester:
            response = await tester.post("/orders", json={"item": "book"})
            await tester.wait_until_idle()

    def test_orders() -> None:
        asyncio.run(scenario())

Plain sync tests use `SyncMotiaTester` (the same API with plain methods), which the
pytest plugin hands out through the `motia_tester` fixture (registered automatically
when motia is installed):

    def test_orders(motia_tester):
        tester = motia_tester("my_project")       # closed when the test ends
        assert tester.post("/orders", json={"item": "book"}).status_code == 201
        tester.wait_until_idle()

The sync tester runs its own event loop in the calling thread, only while one of its
methods runs, so nothing moves between two calls: state and captures never change under
a test's feet. `tester.run(coro)` runs any coroutine on that loop, against `tester.aio`
(the async tester). The `mock_context` fixture gives a fresh `create_mock_context()`.

`wait_until_idle()` re-raises the first failure of a flow that ended for good since the
last call (an event moved to the dead-letter queue, or a failed cron run); a message that
failed and then succeeded on a retry raises nothing, and API handler errors are answered
with a 500 response instead. See docs/testing.md.
"""

from motia.testing.clock import ManualClock
from motia.testing.mock_context import (
    Call,
    MockContext,
    MockState,
    MockStream,
    MockStreams,
    create_mock_context,
)
from motia.testing.sync import SyncMotiaTester
from motia.testing.tester import (
    EventWatcher,
    FlowFailed,
    HandlerFailure,
    MotiaTester,
    StreamCapture,
    create_tester,
    import_step,
)

__all__ = [
    "Call",
    "EventWatcher",
    "FlowFailed",
    "HandlerFailure",
    "ManualClock",
    "MockContext",
    "MockState",
    "MockStream",
    "MockStreams",
    "MotiaTester",
    "StreamCapture",
    "SyncMotiaTester",
    "create_mock_context",
    "create_tester",
    "import_step",
]
