"""Figure 12: the trivial subscriber; its handler does what every peer's does
(bench/peers/tally.py, on the path through PYTHONPATH or the measuring child)."""

from typing import Any

from tally import handled

config = {
    "type": "event",
    "name": "Peer",
    "subscribes": ["bench.peer"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    handled(input_data.get("sent", 0.0))
