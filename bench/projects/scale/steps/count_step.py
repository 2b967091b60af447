"""Figure 13b/c: the trivial subscriber of `scale.count`; it only counts."""

from typing import Any

from steps.counter import count

config = {"type": "event", "name": "Count", "subscribes": ["scale.count"], "emits": [],
          "flows": ["scale"]}


async def handler(input_data: Any, ctx: Any) -> None:
    count("Count")
