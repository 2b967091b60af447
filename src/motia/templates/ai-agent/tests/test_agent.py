"""The agent end to end in memory with `motia.testing`: the offline provider, tool calls
as steps, the hand-off to the writer, tokens on the stream; a tool failure retried; the
circuit breaker on the fake clock; and the OpenAI-compatible client against a local
server that streams server-sent events, so the HTTP path runs offline too."""

import asyncio
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from motia.testing import MotiaTester, create_tester

PROJECT = Path(__file__).resolve().parent.parent
QUESTION = "How tall is the Eiffel Tower, and what is 330 * 3?"
ANSWER = "The Eiffel Tower in Paris is 330 metres tall. 330 * 3 = 990."


class ModelServer:
    """A tiny OpenAI-compatible chat completions API on 127.0.0.1: the planner gets a plan
    with one calculator call, the writer a fixed sentence, each streamed as SSE chunks."""

    def __init__(self, port: int = 0, status: int = 200, chunks: list[str] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status, self.chunks = status, chunks
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                headers = dict(self.headers)
                server.requests.append({"path": self.path, "headers": headers, "body": body})
                self.send_response(server.status)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                if server.status >= 400:
                    self.wfile.write(b'{"error": "bad key"}')
                    return
                for chunk in server.chunks or server.reply(body["messages"]):
                    self.wfile.write(f"data: {chunk}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"

    @staticmethod
    def reply(messages: list[dict[str, str]]) -> list[str]:
        planner = messages[0]["content"].startswith("You are the planner")
        text = '{"calls": [{"tool": "calculator", "input": "6 * 7"}]}' if planner else "It is 42."
        pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
        return [json.dumps({"choices": [{"delta": {"content": piece}}]}) for piece in pieces]

    def __enter__(self) -> "ModelServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ask(tester: MotiaTester, question: str = QUESTION) -> str:
    response = await tester.post("/agent/runs", json={"question": question})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def run(tester: MotiaTester, run_id: str) -> dict[str, Any]:
    response = await tester.get(f"/agent/runs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_offline_agent_plans_calls_tools_hands_over_and_streams_the_answer() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            output = tester.stream("runOutput")
            run_id = await ask(tester)
            await tester.wait_until_idle(timeout=20)

            body = await run(tester, run_id)
            assert body["status"] == "done" and body["provider"] == "offline"
            assert body["plan"] == [
                {"id": "c1", "tool": "lookup", "input": "eiffel tower"},
                {"id": "c2", "tool": "calculator", "input": "330 * 3"},
            ]
            assert [(c["tool"], c["status"], c["output"]) for c in body["toolCalls"]] == [
                ("lookup", "done", "The Eiffel Tower in Paris is 330 metres tall."),
                ("calculator", "done", "990"),
            ]
            assert body["handoff"] == {"from": "planner", "to": "writer"}
            assert body["answer"] == ANSWER

            # The answer reached the stream token by token, then whole.
            events = output.in_group(run_id)
            tokens = [e.data["text"] for e in events if e.event_type == "token"]
            assert len(tokens) == len(ANSWER.split()) and "".join(tokens).strip() == ANSWER
            answer = await tester.stream_item("runOutput", run_id, "answer")
            assert answer == {"id": "answer", "text": ANSWER, "done": True}
            status = await tester.stream_item("runOutput", run_id, "status")
            assert status == {"id": "status", "status": "done"}

    asyncio.run(scenario())


def test_the_hand_off_happens_once_even_when_a_tool_result_comes_twice() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            handoffs = tester.watch("agent.handoff")
            run_id = await ask(tester)
            await tester.wait_until_idle(timeout=20)
            # A duplicate delivery of one tool's result, after the hand-off.
            result = {"runId": run_id, "callId": "c2", "tool": "calculator", "output": "0"}
            await tester.emit(
                {"topic": "agent.tool.result", "data": result, "messageGroupId": run_id}
            )
            await tester.wait_until_idle(timeout=20)
            assert handoffs.count == 1
            body = await run(tester, run_id)
            assert body["toolCalls"][1]["output"] == "990" and body["answer"] == ANSWER

    asyncio.run(scenario())


def test_a_question_no_tool_helps_is_answered_without_tool_calls() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            calls = tester.watch("tool.lookup")
            run_id = await ask(tester, "Who will win the next match?")
            await tester.wait_until_idle(timeout=20)
            body = await run(tester, run_id)
            assert body["status"] == "done" and body["plan"] == [] and calls.count == 0
            assert body["answer"].startswith("I have no tool for that question.")

    asyncio.run(scenario())


def test_a_tool_error_is_reported_to_the_writer_without_retrying() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            run_id = await ask(tester, "What is 1 / 0?")
            await tester.wait_until_idle(timeout=20)
            body = await run(tester, run_id)
            (call,) = body["toolCalls"]
            assert call["status"] == "failed" and call["error"] == "division by zero"
            assert call["attempts"] == 1
            assert body["answer"] == "The calculator could not help with '1 / 0': division by zero."

    asyncio.run(scenario())


def test_a_tool_that_crashes_is_retried_by_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            tools = sys.modules["steps.lib.tools"]
            real, crashes = tools.lookup, []

            def flaky(topic: str) -> str:
                if not crashes:
                    crashes.append(topic)
                    raise ConnectionError("the knowledge base is restarting")
                return str(real(topic))

            monkeypatch.setattr(tools, "lookup", flaky)
            run_id = await ask(tester, "Tell me about Mount Everest")
            await tester.wait_until_idle(timeout=20)  # the 1 s backoff passes on the fake clock
            body = await run(tester, run_id)
            (call,) = body["toolCalls"]
            assert crashes == ["mount everest"]
            assert (call["status"], call["attempts"]) == ("done", 2)
            assert body["answer"] == "Mount Everest is 8,849 metres high."

            # One that crashes every time: after 3 attempts the writer hears why.
            monkeypatch.setattr(tools, "lookup", lambda topic: 1 / 0)
            run_id = await ask(tester, "Tell me about Python")
            await tester.wait_until_idle(timeout=20)
            body = await run(tester, run_id)
            (call,) = body["toolCalls"]
            assert (call["status"], call["attempts"]) == ("failed", 3)
            assert call["error"] == "failed 3 times: division by zero"
            assert body["status"] == "done" and tester.failures == []

    asyncio.run(scenario())


def test_the_circuit_breaker_opens_after_failures_and_closes_after_the_cool_down() -> None:
    port = free_port()  # nothing listens there yet: every call fails to connect
    env = {
        "LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "LLM_API_KEY": "sk-test",
        "LLM_MODEL": "test-model",
        "LLM_RETRY_DELAY": "0",
        "LLM_BREAKER_THRESHOLD": "3",
        "LLM_BREAKER_COOLDOWN": "30",
    }

    async def breaker(tester: MotiaTester) -> dict[str, Any]:
        saved: dict[str, Any] = await tester.state.get("llm-breaker", "provider")
        return saved

    async def scenario() -> None:
        async with create_tester(PROJECT, env=env) as tester:
            first = await ask(tester)
            await tester.wait_until_idle(timeout=20)
            body = await run(tester, first)
            assert body["status"] == "failed" and "ConnectError" in body["error"]
            assert (await breaker(tester))["status"] == "open"  # 3 attempts, 3 failures

            with ModelServer(port) as model:
                refused = await ask(tester)
                await tester.wait_until_idle(timeout=20)
                body = await run(tester, refused)
                assert body["error"] == "planner: the provider failed 3 times; next try in 30s"
                assert model.requests == []  # an open breaker does not call the provider

                await tester.advance(31, timeout=20)  # half-open: one trial call
                run_id = await ask(tester)
                await tester.wait_until_idle(timeout=20)
                body = await run(tester, run_id)
                assert (await breaker(tester)) == {"status": "closed", "failures": 0}
                assert body["status"] == "done" and body["provider"] == "openai-compatible"
                assert body["toolCalls"][0]["output"] == "42" and body["answer"] == "It is 42."
                request = model.requests[0]
                assert request["path"] == "/v1/chat/completions"
                assert request["headers"]["authorization"] == "Bearer sk-test"
                assert request["body"]["model"] == "test-model" and request["body"]["stream"]

    asyncio.run(scenario())


def test_a_failed_trial_call_opens_the_breaker_again() -> None:
    env = {"LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "LLM_RETRY_DELAY": "0"}

    async def scenario() -> None:
        async with create_tester(PROJECT, env=env) as tester:
            await ask(tester)
            await tester.wait_until_idle(timeout=20)
            opened = await tester.state.get("llm-breaker", "provider")
            await tester.advance(31, timeout=20)
            run_id = await ask(tester)
            await tester.wait_until_idle(timeout=20)
            again = await tester.state.get("llm-breaker", "provider")
            assert again["status"] == "open" and again["failures"] == 4  # one trial only
            assert again["openedAt"] == pytest.approx(opened["openedAt"] + 31)
            assert "next try in 30s" in (await run(tester, run_id))["error"]

    asyncio.run(scenario())


def test_retries_back_off_exponentially() -> None:
    from steps.lib.llm.provider import ProviderError
    from steps.lib.llm.resilience import CircuitBreaker, call_with_retries

    class State:
        def __init__(self) -> None:
            self.saved: dict[tuple[str, str], Any] = {}

        async def get(self, group: str, key: str) -> Any:
            return self.saved.get((group, key))

        async def set(self, group: str, key: str, value: Any) -> Any:
            self.saved[(group, key)] = value
            return value

    from datetime import UTC, datetime

    async def scenario() -> None:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        async def flaky(attempt: int) -> str:
            if attempt < 4:
                raise ProviderError(f"attempt {attempt} failed")
            return "ok"

        breaker = CircuitBreaker(State(), lambda: datetime(2026, 1, 1, tzinfo=UTC))
        breaker.threshold = 10
        answer = await call_with_retries(flaky, breaker, attempts=4, base_delay=0.5, sleep=sleep)
        assert answer == "ok" and waits == [0.5, 1.0, 2.0]
        assert await breaker.read() == {"status": "closed", "failures": 0}

    asyncio.run(scenario())


def test_the_openai_compatible_client_streams_and_reports_http_errors() -> None:
    from steps.lib.llm.openai_compatible import OpenAICompatible
    from steps.lib.llm.provider import ProviderError

    async def collect(client: OpenAICompatible) -> list[str]:
        return [piece async for piece in client.stream_chat([{"role": "user", "content": "hi"}])]

    with ModelServer() as model:
        pieces = asyncio.run(collect(OpenAICompatible(model.url, "", "m")))
        assert "".join(pieces) == "It is 42." and len(pieces) == 2
        assert "authorization" not in model.requests[0]["headers"]
    with ModelServer(status=401) as model, pytest.raises(ProviderError, match="answered 401"):
        asyncio.run(collect(OpenAICompatible(model.url, "wrong", "m")))
    with ModelServer(chunks=["not json"]) as model, pytest.raises(ProviderError, match="malformed"):
        asyncio.run(collect(OpenAICompatible(model.url, "k", "m")))


def test_the_calculator_refuses_what_is_not_plain_arithmetic() -> None:
    from steps.lib.tools import ToolError, calculator

    assert calculator("2 ** 10 - (3 * -4) / 8") == "1025.5"
    for expression, reason in [
        ("__import__('os')", "only numbers"),
        ("10 ** 1000", "exponent too large"),
        ("(10 ** 99) ** 99", "too large"),
        ("(-8) ** 0.5", "no real result"),
        ("2 +", "not an arithmetic expression"),
    ]:
        with pytest.raises(ToolError, match=reason):
            calculator(expression)


def test_a_model_reply_is_read_as_a_plan_only_when_it_is_one() -> None:
    from steps.lib.agents import read_plan

    fenced = '```json\n{"calls": [{"tool": "lookup", "input": "python"},\n'
    fenced += '{"tool": "browser", "input": "x"}, {"tool": "calculator"}]}\n```'
    assert read_plan(fenced) == [{"id": "c1", "tool": "lookup", "input": "python"}]
    assert read_plan("I would simply answer that.") == []
    assert read_plan('{"calls": "lookup"}') == [] and read_plan("{not json}") == []


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from steps.lib.llm.resilience import CircuitBreaker

    monkeypatch.setenv("LLM_BREAKER_COOLDOWN", "half a minute")
    with pytest.raises(ValueError, match="LLM_BREAKER_COOLDOWN must be a number"):
        CircuitBreaker({}, datetime.now)


def test_bad_input_gets_a_clear_answer() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            empty = await tester.post("/agent/runs", json={"question": ""})
            assert empty.status_code == 400
            assert empty.json()["errors"][0]["field"] == "question"
            assert (await tester.get("/agent/runs/nope")).status_code == 404
            page = await tester.get("/agent")
            assert page.status_code == 200 and "/__motia/stream-client.js" in page.text

    asyncio.run(scenario())
