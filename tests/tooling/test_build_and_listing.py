"""`motia build` (manifest and OpenAPI, the `start` validation) and `motia routes|flows`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from motia.cli.main import cli
from tests.conftest import write_project
from tests.tooling.support import motia


def test_build_writes_manifest_and_openapi(example_copy: Path) -> None:
    result = motia("build", "--dir", str(example_copy), cwd=example_copy.parent)
    assert result.returncode == 0, result.stderr
    assert "built 11 step(s)" in result.stdout
    manifest = json.loads((example_copy / "dist" / "motia-manifest.json").read_text())
    openapi = json.loads((example_copy / "dist" / "openapi.json").read_text())
    assert openapi["paths"]["/resources/{id}"]["get"]["operationId"] == "GetResource"

    steps = {s["name"]: s for s in manifest["steps"]}
    create = steps["CreateResource"]
    assert (create["type"], create["method"], create["path"]) == ("api", "POST", "/resources")
    assert create["file"] == "steps/api/create_resource_step.py"
    assert create["emits"] == ["resource.created"]
    assert steps["ProcessResource"]["subscribes"] == ["resource.created"]
    assert steps["ResourceReport"]["cron"] == "* * * * *"
    assert steps["HumanReview"]["virtualEmits"] == ["resource.approved"]

    topics = {t["topic"]: t for t in manifest["topics"]}
    assert topics["resource.created"]["emitters"] == ["CreateResource"]
    assert topics["resource.created"]["subscribers"] == ["ProcessResource"]
    assert topics["resource.processed"]["virtualSubscribers"] == ["HumanReview"]
    assert topics["resource.approved"]["virtualEmitters"] == ["HumanReview"]

    (flow,) = manifest["flows"]
    assert flow["name"] == "resource-processing" and len(flow["steps"]) == 11
    edges = {(e["from"], e["topic"], e["to"], e["virtual"]) for e in flow["edges"]}
    assert ("CreateResource", "resource.created", "ProcessResource", False) in edges
    assert ("ProcessResource", "resource.processed", "HumanReview", True) in edges
    assert manifest["streams"] == [
        {
            "name": "resourceStatus",
            "file": "steps/streams/resource_status_stream.py",
            "schema": manifest["streams"][0]["schema"],
            "baseConfig": {"storageType": "default", "ttl": 3600},
        }
    ]


def test_build_refuses_a_project_with_errors_like_start(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/bad_step.py": """
                config = {"type": "api", "name": "Bad", "method": "GET", "path": "/x",
                          "emits": [], "bodySchem": {}}

                async def handler(req, ctx):
                    return {"status": 200}
            """
        },
    )
    result = motia("build", "--dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "error: steps/bad_step.py, step 'Bad', field 'bodySchem': unknown field" in result.stderr
    assert "did you mean 'bodySchema'?" in result.stderr
    assert "motia build: the project has 1 error(s)" in result.stderr
    assert not (tmp_path / "dist").exists()
    start = motia("start", "--dir", str(tmp_path), cwd=tmp_path)
    assert start.returncode == 1
    first_line = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert first_line in start.stderr


def test_routes_table(example_copy: Path) -> None:
    result = CliRunner().invoke(cli, ["routes", "--dir", str(example_copy)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "4 API route(s)" in lines[0]
    row = next(line for line in lines if "/resources/:id" in line)
    assert "GET" in row and "GetResource" in row and "resource-processing" in row
    row = next(line for line in lines if "CreateResource" in line)
    assert "POST" in row and "/resources " in row
    assert any("/live" in line and "LivePage" in line for line in lines)
    row = next(line for line in lines if "DecideApproval" in line)
    assert "POST" in row and "/resources/:id/approval" in row


def test_flows_tables(example_copy: Path) -> None:
    result = CliRunner().invoke(cli, ["flows", "--dir", str(example_copy)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Flow resource-processing: 11 step(s)" in out
    assert "Flow resource-processing: topic edges" in out
    lines = out.splitlines()
    edge = next(
        line
        for line in lines
        if "resource.created" in line and "ProcessResource" in line and "CreateResource" in line
    )
    assert "event" in edge
    virtual = next(
        line
        for line in lines
        if "HumanReview" in line and "ProcessResource" in line and "resource.processed" in line
    )
    assert "virtual" in virtual
    assert any("ResourceReport" in line and "cron * * * * *" in line for line in lines)
