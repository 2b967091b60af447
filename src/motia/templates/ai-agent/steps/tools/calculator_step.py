from typing import Any

from steps.lib import tools
from steps.lib.tool_calls import INPUT, QUEUE, run_tool

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "CalculatorTool",
    "description": "Tool: evaluates an arithmetic expression",
    "subscribes": ["tool.calculator"],
    "emits": ["agent.tool.result"],
    "input": INPUT,
    "flows": ["agent"],
    "infrastructure": {"queue": QUEUE},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    await run_tool(ctx, input_data, "calculator", lambda text: tools.calculator(text))
