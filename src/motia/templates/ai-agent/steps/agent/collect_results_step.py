"""Fan-in per run: each tool result is recorded under its call id; the result that
completes the plan hands the run over to the writer, exactly once.

Results of one run come one at a time (a FIFO queue grouped by run id). A duplicate
delivery overwrites its own entry; the message that completes the set records its event
id as `handoffBy` first, so a later duplicate stops there while a retry of that same
message (whose emit was never committed) hands over again."""

from typing import Any

from steps.lib.runs import show, update

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "CollectResults",
    "description": "Gathers the tool results of a run, then hands over to the writer",
    "subscribes": ["agent.tool.result"],
    "emits": ["agent.handoff"],
    "input": {
        "type": "object",
        "properties": {
            "runId": {"type": "string"},
            "callId": {"type": "string"},
            "tool": {"type": "string"},
            "output": {"type": "string"},
            "error": {"type": "string"},
            "attempts": {"type": "integer"},
        },
        "required": ["runId", "callId", "tool"],
    },
    "flows": ["agent"],
    "infrastructure": {"queue": {"type": "fifo"}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    run_id: str = input_data["runId"]
    run: dict[str, Any] = await ctx.state.get("runs", run_id)
    if run.get("handoffBy") not in (None, ctx.event_id):
        ctx.logger.info("Tool result after the hand-off", {"runId": run_id})
        return
    calls: list[dict[str, Any]] = run["toolCalls"]
    for call in calls:
        if call["id"] == input_data["callId"]:
            keys = ("output", "error", "attempts")
            outcome: dict[str, Any] = {k: input_data[k] for k in keys if k in input_data}
            call.update(outcome, status="failed" if "error" in input_data else "done")
            await show(ctx, run_id, call["id"], call)
    done = all(call["status"] in ("done", "failed") for call in calls)
    fields: dict[str, Any] = {"toolCalls": calls}
    if done:
        fields.update(status="writing", handoffBy=ctx.event_id)
    await update(ctx, run_id, **fields)
    if done:
        await ctx.emit({"topic": "agent.handoff", "data": {"runId": run_id, "to": "writer"}})
