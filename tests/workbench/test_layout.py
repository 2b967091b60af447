"""The flow graph's layout (static/layout.js), run in Node: every node sits in the column
its longest path from a source puts it in, whichever branch reached its predecessor first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.tools import require

LAYOUT = (
    Path(__file__).resolve().parents[2] / "src" / "motia" / "workbench" / "static" / "layout.js"
)

SCRIPT = """
const { layout, NODE_W } = await import(process.argv[1]);
const { nodes, edges } = JSON.parse(process.argv[2]);
const { positions } = layout(nodes.map((id) => ({ id })), edges);
const columns = {};
for (const [id, p] of positions) columns[id] = Math.round(p.x / NODE_W);
console.log(JSON.stringify(columns));
"""


def columns(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    graph = {"nodes": nodes, "edges": [{"source": s, "target": t} for s, t in edges]}
    result = subprocess.run(
        [require("node"), "--input-type=module", "-e", SCRIPT, LAYOUT.as_uri(), json.dumps(graph)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    order: dict[str, int] = json.loads(result.stdout)
    rank = {x: i for i, x in enumerate(sorted(set(order.values())))}
    return {node: rank[x] for node, x in order.items()}


def test_a_node_after_a_shared_predecessor_is_not_put_first() -> None:
    # Route has two successors (Review, Deadline) that meet again in Settle: Deadline's
    # predecessor is reached first through Review's branch, and must still count.
    edges = [
        ("Submit", "Join"),
        ("Join", "Route"),
        ("Route", "Review"),
        ("Route", "Deadline"),
        ("Review", "Settle"),
        ("Deadline", "Settle"),
        ("Settle", "Report"),
    ]
    # Listed from the end, so the join is laid out before the branches that feed it.
    got = columns(["Report", "Settle", "Review", "Deadline", "Route", "Join", "Submit"], edges)
    assert got == {
        "Submit": 0,
        "Join": 1,
        "Route": 2,
        "Review": 3,
        "Deadline": 3,
        "Settle": 4,
        "Report": 5,
    }


def test_a_cycle_is_broken_and_isolated_nodes_go_first() -> None:
    got = columns(["A", "B", "C", "Alone"], [("A", "B"), ("B", "C"), ("C", "A")])
    assert got["A"] < got["B"] < got["C"]
    assert got["Alone"] == 0
