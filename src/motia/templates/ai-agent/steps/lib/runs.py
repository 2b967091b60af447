"""A run of the agent: its record in state (group `runs`), and what the browser sees on
the `runOutput` stream (group = the run id: items `status`, `plan`, one per tool call,
`answer`; and a `token` event for each piece of the answer)."""

from typing import Any

STREAM_ITEMS = ("status", "plan", "answer")


async def update(ctx: Any, run_id: str, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into the run's record and show its status on the stream."""
    run: dict[str, Any] = await ctx.state.get("runs", run_id) or {"id": run_id}
    run.update(fields)
    await ctx.state.set("runs", run_id, run)
    status = {"status": run["status"], **({"error": run["error"]} if "error" in run else {})}
    await ctx.streams.runOutput.set(run_id, "status", status)
    return run


async def show(ctx: Any, run_id: str, item: str, data: dict[str, Any]) -> None:
    await ctx.streams.runOutput.set(run_id, item, data)


async def token(ctx: Any, run_id: str, text: str) -> None:
    await ctx.streams.runOutput.send({"groupId": run_id}, {"type": "token", "data": {"text": text}})


async def fail(ctx: Any, run_id: str, agent: str, error: Exception) -> None:
    """A provider that stays down ends the run with a message, not a crash to redeliver."""
    fields = {"runId": run_id, "agent": agent, "error": str(error)}
    ctx.logger.warn("The model is unavailable", fields)
    now = ctx.utils.dates.now().isoformat()
    await update(ctx, run_id, status="failed", error=f"{agent}: {error}", finishedAt=now)
