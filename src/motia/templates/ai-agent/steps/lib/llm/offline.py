"""A deterministic provider that needs no key and no network: the planner's reply comes
from simple rules (arithmetic goes to the calculator, known topics to the lookup), the
writer's from the tool results. Both are streamed word by word, as a model would."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from steps.lib.agents import PLANNER_PROMPT
from steps.lib.llm.provider import Message
from steps.lib.tools import KNOWLEDGE

# Seconds between two tokens, a model's pace: without it every token would reach the page
# in the same moment, and it would show the whole answer at once.
TOKEN_PAUSE = 0.02
ARITHMETIC = re.compile(r"[-(]*\d[\d.]*(?:\s*(?:\*\*|[-+*/])\s*[-(]*\d[\d.]*\)*)+")


class OfflineProvider:
    name = "offline"

    async def stream_chat(self, messages: list[Message]) -> AsyncIterator[str]:
        question = messages[-1]["content"]
        if messages[0]["content"] == PLANNER_PROMPT:
            text = json.dumps({"calls": plan(question)})
        else:
            text = write(json.loads(question))
        for index, token in enumerate(re.findall(r"\S+\s*", text)):
            if index:
                await asyncio.sleep(TOKEN_PAUSE)
            yield token


def plan(question: str) -> list[dict[str, str]]:
    lowered = question.lower()
    calls = [
        {"tool": "lookup", "input": topic}
        for topic in sorted(KNOWLEDGE, key=lowered.find)
        if topic in lowered
    ]
    for found in ARITHMETIC.finditer(question):
        calls.append({"tool": "calculator", "input": found.group(0).strip()})
    return calls


def write(request: dict[str, Any]) -> str:
    results: list[dict[str, Any]] = request["results"]
    if not results:
        topics = ", ".join(sorted(KNOWLEDGE))
        return (
            "I have no tool for that question. Ask me some arithmetic, such as 12 * 7, "
            f"or about one of these: {topics}."
        )
    sentences = []
    for result in results:
        if "error" in result:
            tool, text, error = result["tool"], result["input"], result["error"]
            sentences.append(f"The {tool} could not help with {text!r}: {error}.")
        elif result["tool"] == "calculator":
            sentences.append(f"{result['input']} = {result['output']}.")
        else:
            sentences.append(str(result["output"]))
    return " ".join(sentences)
