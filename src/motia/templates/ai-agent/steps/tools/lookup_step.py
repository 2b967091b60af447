from typing import Any

from steps.lib import tools
from steps.lib.tool_calls import INPUT, QUEUE, run_tool

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "LookupTool",
    "description": "Tool: a sentence about a topic, from the built-in knowledge table",
    "subscribes": ["tool.lookup"],
    "emits": ["agent.tool.result"],
    "input": INPUT,
    "flows": ["agent"],
    "infrastructure": {"queue": QUEUE},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    await run_tool(ctx, input_data, "lookup", lambda text: tools.lookup(text))
