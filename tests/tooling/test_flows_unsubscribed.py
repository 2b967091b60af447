"""`motia flows` lists the topics that steps emit and no step subscribes to: their events
go nowhere, usually because of a typo on one side."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from motia.cli.main import cli
from tests.conftest import write_project

STEPS = {
    "steps/place_step.py": """
        config = {"type": "api", "name": "PlaceOrder", "method": "POST", "path": "/orders",
                  "emits": ["order.placed", "order.plcaed"], "flows": ["orders"]}

        async def handler(req, ctx):
            return {"status": 202}
    """,
    "steps/ship_step.py": """
        config = {"type": "event", "name": "Ship", "subscribes": ["order.placed"],
                  "emits": [{"topic": "order.shipped", "label": "shipped"}], "flows": ["orders"]}

        async def handler(data, ctx):
            pass
    """,
    "steps/tick_step.py": """
        config = {"type": "cron", "name": "Tick", "cron": "* * * * *",
                  "emits": ["order.plcaed"], "virtualEmits": ["drawn.only"]}

        async def handler(ctx):
            pass
    """,
    "steps/courier_step.py": """
        config = {"type": "noop", "name": "Courier", "virtualSubscribes": ["order.shipped"],
                  "virtualEmits": [], "flows": ["orders"]}
    """,
}


def flows_output(project: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["flows", "--dir", str(project)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_flows_lists_emitted_topics_nobody_subscribes_to(tmp_path: Path) -> None:
    lines = flows_output(write_project(tmp_path, STEPS))
    start = lines.index("2 emitted topic(s) that no step subscribes to; their events go nowhere:")
    rows = [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in lines[start:]
        if line.startswith("│")
    ]
    assert rows == [
        ["order.plcaed", "PlaceOrder, Tick", "-"],
        ["order.shipped", "Ship", "Courier"],
    ]


def test_flows_says_nothing_when_every_topic_is_subscribed(tmp_path: Path) -> None:
    files = dict(STEPS)
    del files["steps/tick_step.py"]
    files["steps/place_step.py"] = files["steps/place_step.py"].replace(', "order.plcaed"', "")
    files["steps/ship_step.py"] = files["steps/ship_step.py"].replace(
        '[{"topic": "order.shipped", "label": "shipped"}]', "[]"
    )
    output = "\n".join(flows_output(write_project(tmp_path, files)))
    assert "no step subscribes" not in output
    assert "Flow orders" in output
