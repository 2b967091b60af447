"""JavaScript, TypeScript, Python and Ruby steps in one project, run by the real runtime
with real `node` and `ruby` runner processes."""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
from pathlib import Path

import pytest

from motia.testing import create_tester
from tests.runners.support import multi_language_example, node_project, require


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("node")
    require("ruby")
    return multi_language_example(tmp_path_factory.mktemp("mixed") / "example")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


async def test_one_trace_runs_through_javascript_python_ruby_and_typescript(example: Path) -> None:
    async with create_tester(example) as tester:
        status = tester.stream("document-status")
        response = await tester.post(
            "/documents",
            json={"title": "Invoice 7", "text": "the payment amount is due in thirty days"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        trace_id = response.headers["x-trace-id"]
        assert body["traceId"] == trace_id  # the JS handler saw the request's trace id
        await tester.wait_until_idle(timeout=20)

        # Every step wrote into the trace's state group with its own ctx.
        state = await tester.state.items(trace_id)
        assert state["document"]["id"] == body["id"]  # JavaScript
        assert state["classified"]["category"] == "invoice"  # Python
        assert state["score"] == 80  # Ruby: eight words
        assert state["published"]["status"] == "approved"  # TypeScript
        item = await tester.stream_item("document-status", "documents", body["id"])
        assert item == {
            "id": body["id"],
            "title": "Invoice 7",
            "category": "invoice",
            "score": 80,
            "status": "approved",
        }
        assert status.types == ["create"]
        steps = {r.get("step") for r in tester.logs_for(trace_id)}
        assert {"SubmitDocument", "ClassifyDocument", "ScoreDocument", "PublishDocument"} <= steps


async def test_typescript_zod_body_schema_rejects_bad_input_with_400(example: Path) -> None:
    async with create_tester(example) as tester:
        bad = await tester.post("/documents/d1/ratings", json={"rating": 9, "comment": ""})
        assert bad.status_code == 400
        assert sorted(e["field"] for e in bad.json()["errors"]) == ["comment", "rating"]
        good = await tester.post("/documents/d1/ratings", json={"rating": 4})
        assert good.status_code == 201, good.text
        assert good.json() == {"id": "d1", "rating": 4}
        again = await tester.post("/documents/d1/ratings", json={"rating": 2})
        assert again.status_code == 201
        assert await tester.state.get("ratings", "d1") == [4, 2]


async def test_the_javascript_body_schema_and_a_missing_field(example: Path) -> None:
    async with create_tester(example) as tester:
        response = await tester.post("/documents", json={"title": "No text"})
        assert response.status_code == 400
        assert [e["field"] for e in response.json()["errors"]] == ["text"]


FAILING_STEPS = {
    "steps/crash-api.step.js": """
        exports.config = {
          type: 'api', name: 'CrashApi', method: 'GET', path: '/crash', emits: [],
        }
        exports.handler = async () => { throw new Error('the JS handler broke') }
    """,
    "steps/flaky.step.ts": """
        import { EventConfig, Handlers } from 'motia'
        export const config: EventConfig = {
          type: 'event', name: 'Flaky', subscribes: ['job'], emits: ['job.done'],
          infrastructure: { queue: { maxRetries: 2, backoff: { delay: 1, jitter: false } } },
        }
        export const handler: Handlers['Flaky'] = async (input: any, { emit, state, logger }) => {
          const attempts = ((await state.get<number>('flaky', input.id)) ?? 0) + 1
          await state.set('flaky', input.id, attempts)
          if (attempts < 2) throw new Error(`attempt ${attempts} failed`)
          logger.info('done', { attempts })
          await emit({ topic: 'job.done', data: { id: input.id, attempts } })
        }
    """,
    "steps/undeclared.step.js": """
        exports.config = { type: 'api', name: 'Undeclared', method: 'POST', path: '/undeclared',
                           emits: ['allowed'] }
        exports.handler = async (req, { emit }) => {
          try {
            await emit({ topic: 'not-declared', data: {} })
            return { status: 200, body: { emitted: true } }
          } catch (error) {
            return { status: 422, body: { error: error.message } }
          }
        }
    """,
    "steps/ruby_fail_step.rb": """
        def config
          { type: 'api', name: 'RubyFail', method: 'GET', path: '/ruby-fail', emits: [] }
        end

        def handler(req, context)
          raise ArgumentError, 'the Ruby handler broke'
        end
    """,
}


@pytest.fixture
def failing_project(tmp_path: Path) -> Path:
    require("ruby")
    return write(node_project(tmp_path / "project"), FAILING_STEPS)


async def test_handler_errors_answer_500_and_events_are_retried(failing_project: Path) -> None:
    async with create_tester(failing_project) as tester:
        crash = await tester.get("/crash")
        assert crash.status_code == 500
        assert crash.json() == {
            "error": "Internal server error",
            "traceId": crash.headers["x-trace-id"],
        }
        errors = [r for r in tester.logs_for(crash.headers["x-trace-id"]) if r["level"] == "error"]
        assert any("the JS handler broke" in str(r) for r in errors)

        ruby = await tester.get("/ruby-fail")
        assert ruby.status_code == 500

        done = tester.watch("job.done")
        await tester.emit({"topic": "job", "data": {"id": "j1"}})
        await tester.wait_until_idle()  # the retry's backoff passes on the test clock
        assert await tester.state.get("flaky", "j1") == 2
        assert done.events == [{"id": "j1", "attempts": 2}]


async def test_an_undeclared_emit_rejects_in_the_javascript_handler(failing_project: Path) -> None:
    async with create_tester(failing_project) as tester:
        response = await tester.post("/undeclared", json={})
        assert response.status_code == 422
        assert "not-declared" in response.json()["error"]
        assert "emits" in response.json()["error"]


CONCURRENT_STEPS = {
    "steps/barrier.step.js": """
        // Every request waits until 200 are inside the handler at once.
        let inFlight = 0
        let peak = 0
        const waiting = []
        exports.config = {
          type: 'api', name: 'Barrier', method: 'GET', path: '/barrier', emits: [],
        }
        exports.handler = async () => {
          inFlight += 1
          peak = Math.max(peak, inFlight)
          if (inFlight >= 200) waiting.splice(0).forEach((release) => release())
          else await new Promise((resolve) => { waiting.push(resolve); setTimeout(resolve, 10000) })
          inFlight -= 1
          return { status: 200, body: { peak } }
        }
    """,
    "steps/barrier_step.rb": """
        def config
          { type: 'api', name: 'RubyBarrier', method: 'GET', path: '/ruby-barrier', emits: [] }
        end

        $lock = Mutex.new
        $arrived = ConditionVariable.new
        $in_flight = 0
        $peak = 0

        def handler(req, context)
          $lock.synchronize do
            $in_flight += 1
            $peak = [$peak, $in_flight].max
            $arrived.broadcast
            deadline = Time.now + 10
            $arrived.wait($lock, deadline - Time.now) while $peak < 200 && Time.now < deadline
            $in_flight -= 1
          end
          { status: 200, body: { peak: $peak } }
        end
    """,
}


@pytest.mark.parametrize("path", ["/barrier", "/ruby-barrier"])
async def test_200_invocations_are_in_flight_at_once_on_one_runner(
    tmp_path: Path, path: str
) -> None:
    require("ruby")
    project = write(node_project(tmp_path / "project"), CONCURRENT_STEPS)

    async with create_tester(project) as tester:
        responses = await asyncio.gather(*(tester.get(path) for _ in range(200)))
        assert [r.status_code for r in responses] == [200] * 200
        # Had the runner run them one by one, each would have waited out its 10 s alone
        # and seen a peak far below 200.
        assert {r.json()["peak"] for r in responses} == {200}


KILLABLE_STEPS = {
    "steps/slow.step.js": """
        exports.config = {
          type: 'event', name: 'Slow', subscribes: ['slow'], emits: [],
          infrastructure: { queue: { maxRetries: 3, backoff: { delay: 1, jitter: false } } },
        }
        exports.handler = async (input, { state }) => {
          const attempts = ((await state.get('slow', input.id)) ?? 0) + 1
          await state.set('slow', input.id, attempts)
          if (attempts === 1) await new Promise(() => {})  // hangs until the runner dies
          await state.set('slow-done', input.id, { attempts, pid: process.pid })
        }
    """,
}


async def test_a_runner_killed_mid_invocation_is_restarted_and_the_event_completes(
    tmp_path: Path,
) -> None:
    project = write(node_project(tmp_path / "project"), KILLABLE_STEPS)

    async with create_tester(project) as tester:
        supervisor = tester.runtime.runners.supervisors["node"]
        first_pid = supervisor.pid
        assert first_pid is not None
        await tester.emit({"topic": "slow", "data": {"id": "s1"}})
        for _ in range(200):  # the first attempt has started
            if await tester.state.get("slow", "s1") == 1:
                break
            await asyncio.sleep(0.02)
        os.kill(first_pid, signal.SIGKILL)
        for _ in range(500):  # the runner comes back with a new process
            if supervisor.pid not in (None, first_pid):
                break
            await asyncio.sleep(0.02)
        await tester.wait_until_idle(timeout=10, raise_errors=False)
        await tester.advance(1.5, timeout=10)
        done = await tester.state.get("slow-done", "s1")
        assert done is not None, tester.logs
        assert done["attempts"] == 2
        assert done["pid"] == supervisor.pid != first_pid


TIMEOUT_STEPS = {
    "steps/hangs.step.js": """
        exports.config = {
          type: 'event', name: 'Hangs', subscribes: ['hang'], emits: [],
          infrastructure: {
            handler: { timeout: 0.3 },
            queue: { maxRetries: 1, visibilityTimeout: 5, backoff: { delay: 1, jitter: false } },
          },
        }
        exports.handler = async (input, { state }) => {
          const attempts = ((await state.get('hangs', input.id)) ?? 0) + 1
          await state.set('hangs', input.id, attempts)
          if (attempts === 1) await new Promise(() => {})  // never finishes
          await state.set('hangs-done', input.id, process.pid)
        }
    """,
}


async def test_a_javascript_handler_past_its_timeout_fails_and_the_retry_runs_in_the_same_runner(
    tmp_path: Path,
) -> None:
    project = write(node_project(tmp_path / "project"), TIMEOUT_STEPS)

    async with create_tester(project) as tester:
        pid = tester.runtime.runners.supervisors["node"].pid
        await tester.emit({"topic": "hang", "data": {"id": "h1"}})
        await tester.wait_until_idle(timeout=10)
        assert await tester.state.get("hangs", "h1") == 2
        assert await tester.state.get("hangs-done", "h1") == pid
        assert any("timeout of 0.3 s" in str(record) for record in tester.logs)


BLOCKING_STEPS = {
    "steps/spin.step.js": """
        exports.config = { type: 'api', name: 'Spin', method: 'GET', path: '/spin', emits: [] }
        exports.handler = async () => { for (;;) {} }  // blocks the runner's event loop
    """,
    "steps/pid.step.js": """
        exports.config = { type: 'api', name: 'Pid', method: 'GET', path: '/pid', emits: [] }
        exports.handler = async () => ({ status: 200, body: { pid: process.pid } })
    """,
}


async def test_a_runner_blocked_by_a_handler_is_killed_and_restarted(tmp_path: Path) -> None:
    project = write(node_project(tmp_path / "project"), BLOCKING_STEPS)

    async with create_tester(project, config={"runner_ping_timeout": 1.0}) as tester:
        first = (await tester.get("/pid")).json()["pid"]
        spin = await tester.get("/spin")  # answered once the stuck runner is killed
        assert spin.status_code == 500
        again = await tester.get("/pid")  # waits for the new runner
        assert again.status_code == 200 and again.json()["pid"] != first
        assert any("did not answer for 1 s" in str(record) for record in tester.logs)
