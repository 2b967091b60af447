"""What every tool step does around its tool: run it, and report the result to the
agent (`agent.tool.result`, grouped by run so the fan-in sees one result at a time)."""

from collections.abc import Callable
from typing import Any

from motia import QueueConfig
from steps.lib.tools import ToolError

# A tool that crashes is retried by the queue this many times (1 s, then 2 s later).
MAX_RETRIES = 2
QUEUE: QueueConfig = {
    "maxRetries": MAX_RETRIES,
    "backoff": {"type": "exponential", "delay": 1, "jitter": False},
}
INPUT = {
    "type": "object",
    "properties": {
        "runId": {"type": "string"},
        "callId": {"type": "string"},
        "input": {"type": "string"},
    },
    "required": ["runId", "callId", "input"],
}


async def run_tool(
    ctx: Any, data: dict[str, Any], tool: str, function: Callable[[str], str]
) -> None:
    result: dict[str, Any] = {**data, "tool": tool, "attempts": ctx.attempt}
    try:
        result["output"] = function(data["input"])
    except ToolError as error:  # a wrong input: the agent hears why, nothing to retry
        result["error"] = str(error)
    except Exception as error:
        if ctx.attempt <= MAX_RETRIES:
            fields = {"tool": tool, "error": str(error)}
            ctx.logger.warn("Tool failed; the queue retries it", fields)
            raise
        result["error"] = f"failed {ctx.attempt} times: {error}"
    await ctx.emit({"topic": "agent.tool.result", "data": result, "messageGroupId": data["runId"]})
