"""A step's flow control is shown where its settings are: `motia build`'s manifest, the
workbench's flow graph and `motia flows`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from motia.cli.main import cli
from motia.manifest import build_manifest
from motia.runtime.loading import load_project
from motia.workbench_model import flows
from tests.conftest import write_project

STEP = """
def by_tenant(data):
    return data["tenant"]


config = {
    "type": "event",
    "name": "Sync",
    "subscribes": ["sync"],
    "emits": [],
    "flows": ["sync"],
    "concurrency": {"limit": 2, "key": by_tenant},
    "throttle": {"limit": 10, "period": "1m", "key": "data.account"},
    "idempotencyKey": "data.id",
    "priority": 3,
}


async def handler(data, ctx):
    pass
"""


def test_manifest_workbench_and_flows_show_flow_control(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/sync_step.py": STEP})
    project = load_project(tmp_path)
    assert project.errors == []
    expected = {
        "concurrency": {"limit": 2, "key": "<function by_tenant>"},
        "throttle": {"limit": 10, "period": 60.0, "key": "data.account"},
        "idempotencyKey": "data.id",
        "idempotencyWindow": 86400.0,
        "priority": 3,
    }
    [entry] = build_manifest(tmp_path, project)["steps"]
    assert entry["flowControl"] == expected
    [flow] = flows(project.steps, tmp_path)
    assert flow["steps"][0]["flowControl"] == expected
    result = CliRunner().invoke(cli, ["flows", "--dir", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert (
        "on sync (concurrency 2 per <function by_tenant>, throttle 10/60 s per data.account, "
        "idempotent on data.id, priority 3)" in result.output
    )
