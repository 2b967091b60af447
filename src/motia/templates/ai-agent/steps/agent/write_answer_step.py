"""The writer agent: takes over from the planner with the tool results and composes the
answer, pushing each token to the browser (`runOutput`) as the model produces it."""

from typing import Any

from steps.lib.agents import PLANNER, WRITER, writer_messages
from steps.lib.llm.choose import provider_from_env
from steps.lib.llm.provider import ProviderError
from steps.lib.llm.resilience import CircuitBreaker, call_with_retries
from steps.lib.runs import fail, show, token, update

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "WriteAnswer",
    "description": "The writer agent: composes the answer from the tool results, token by token",
    "subscribes": ["agent.handoff"],
    "emits": [],
    "input": {
        "type": "object",
        "properties": {"runId": {"type": "string"}, "to": {"const": "writer"}},
        "required": ["runId", "to"],
    },
    "flows": ["agent"],
}


def results(run: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("tool", "input", "output", "error")
    return [{k: call[k] for k in keys if k in call} for call in run.get("toolCalls", [])]


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    run_id: str = input_data["runId"]
    run: dict[str, Any] = await ctx.state.get("runs", run_id)
    provider = provider_from_env()
    messages = writer_messages(run["question"], results(run))

    async def write(attempt: int) -> str:
        if attempt > 1:  # a retry starts the answer over
            await ctx.streams.runOutput.send({"groupId": run_id}, {"type": "reset", "data": {}})
        pieces = []
        async for piece in provider.stream_chat(messages):
            pieces.append(piece)
            await token(ctx, run_id, piece)
        return "".join(pieces).strip()

    try:
        answer = await call_with_retries(write, CircuitBreaker(ctx.state, ctx.utils.dates.now))
    except ProviderError as error:
        await fail(ctx, run_id, WRITER, error)
        return
    await show(ctx, run_id, "answer", {"text": answer, "done": True})
    now = ctx.utils.dates.now().isoformat()
    handoff = {"from": PLANNER, "to": WRITER}
    await update(ctx, run_id, status="done", answer=answer, handoff=handoff, finishedAt=now)
