"""The two agents' instructions, and how their answers are read. The planner picks tool
calls; the writer, to whom the planner hands the results, composes the final answer."""

import json
import re
from typing import Any

from steps.lib.llm.provider import Message
from steps.lib.tools import KNOWLEDGE, TOOLS

PLANNER = "planner"
WRITER = "writer"

PLANNER_PROMPT = f"""You are the {PLANNER} agent. Decide which tools answer the user's
question. Tools: "calculator" (input: an arithmetic expression such as "330 * 3") and
"lookup" (input: one topic of {sorted(KNOWLEDGE)}). Reply with JSON only:
{{"calls": [{{"tool": "calculator", "input": "..."}}]}}; an empty list if no tool helps."""

WRITER_PROMPT = f"""You are the {WRITER} agent. The {PLANNER} agent ran tools for the
user's question; the user message is JSON with the question and each tool's output or
error. Answer the question in a few plain sentences, using only those results."""


# One call of the plan: {"id": "c1", "tool": "calculator", "input": "330 * 3"}.
ToolCall = dict[str, str]


def planner_messages(question: str) -> list[Message]:
    return [{"role": "system", "content": PLANNER_PROMPT}, {"role": "user", "content": question}]


def writer_messages(question: str, results: list[dict[str, Any]]) -> list[Message]:
    content = json.dumps({"question": question, "results": results})
    return [{"role": "system", "content": WRITER_PROMPT}, {"role": "user", "content": content}]


def read_plan(text: str) -> list[ToolCall]:
    """The tool calls of the planner's reply; calls to unknown tools are dropped."""
    found = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        reply = json.loads(found.group(0)) if found else {}
    except ValueError:
        reply = {}
    calls = reply.get("calls") if isinstance(reply, dict) else None
    plan: list[ToolCall] = []
    for call in calls if isinstance(calls, list) else []:
        if isinstance(call, dict) and call.get("tool") in TOOLS and call.get("input"):
            number = f"c{len(plan) + 1}"
            plan.append({"id": number, "tool": call["tool"], "input": str(call["input"])})
    return plan
