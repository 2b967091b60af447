"""The planner agent: asks the model which tools answer the question, then calls each
tool by emitting its topic (`tool.<name>`). With no tool to call, it hands over at once."""

from typing import Any

from steps.lib.agents import PLANNER, planner_messages, read_plan
from steps.lib.llm.choose import provider_from_env
from steps.lib.llm.provider import ProviderError
from steps.lib.llm.resilience import CircuitBreaker, call_with_retries
from steps.lib.runs import fail, show, update

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "PlanRun",
    "description": "The planner agent: picks the tool calls that answer the question",
    "subscribes": ["agent.plan"],
    "emits": ["tool.calculator", "tool.lookup", "agent.handoff"],
    "input": {
        "type": "object",
        "properties": {"runId": {"type": "string"}},
        "required": ["runId"],
    },
    "flows": ["agent"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    run_id: str = input_data["runId"]
    run: dict[str, Any] = await ctx.state.get("runs", run_id)
    provider = provider_from_env()

    async def ask(attempt: int) -> str:
        messages = planner_messages(run["question"])
        return "".join([piece async for piece in provider.stream_chat(messages)])

    try:
        reply = await call_with_retries(ask, CircuitBreaker(ctx.state, ctx.utils.dates.now))
    except ProviderError as error:
        await fail(ctx, run_id, PLANNER, error)
        return
    plan = read_plan(reply)
    ctx.logger.info("Planned", {"runId": run_id, "calls": len(plan), "provider": provider.name})
    calls: list[dict[str, str]] = [{**call, "status": "queued"} for call in plan]
    await update(
        ctx,
        run_id,
        status="calling tools" if plan else "writing",
        plan=plan,
        toolCalls=calls,
        provider=provider.name,
    )
    await show(ctx, run_id, "plan", {"calls": plan})
    for call in calls:
        await show(ctx, run_id, call["id"], call)
        data = {"runId": run_id, "callId": call["id"], "input": call["input"]}
        await ctx.emit({"topic": f"tool.{call['tool']}", "data": data})
    if not plan:
        await ctx.emit({"topic": "agent.handoff", "data": {"runId": run_id, "to": "writer"}})
