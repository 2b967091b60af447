"""The workbench's JSON API and page against real `motia dev|start` servers."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess, wait_for
from tests.workbench.conftest import EXPECTED_EDGES, EXPECTED_STEPS, TOKEN

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]
JSON = {"content-type": "application/json"}


@pytest.fixture
def dev(server_factory: Factory, failing_example: Path) -> ServerProcess:
    return server_factory(failing_example, "dev")


def api(server: ServerProcess, path: str) -> Any:
    response = server.client.get(f"/__motia/api{path}")
    assert response.status_code == 200, response.text
    return response.json()


def test_flows_graph_shape_and_saved_layout(dev: ServerProcess, failing_example: Path) -> None:
    flows = api(dev, "/flows")["items"]
    assert [f["id"] for f in flows] == ["resource-processing"]
    flow = flows[0]
    assert {s["name"] for s in flow["steps"]} == EXPECTED_STEPS
    assert flow["positions"] == {}
    edges = {(e["source"], e["target"], e["topic"], e["virtual"]) for e in flow["edges"]}
    assert len(flow["edges"]) == EXPECTED_EDGES
    assert ("CreateResource", "AuditResource", "resource.created", False) in edges
    assert ("ProcessResource", "HumanReview", "resource.processed", True) in edges
    nodes = {s["name"]: s for s in flow["steps"]}
    assert (nodes["CreateResource"]["method"], nodes["CreateResource"]["path"]) == (
        "POST",
        "/resources",
    )
    assert nodes["ResourceReport"]["cron"] == "* * * * *"
    assert nodes["HumanReview"]["type"] == "noop"

    saved = dev.client.post(
        "/__motia/api/flows/resource-processing/layout",
        json={"positions": {"HumanReview": {"x": 10, "y": 20.5}}},
    )
    assert saved.json() == {"saved": 1}
    assert api(dev, "/flows")["items"][0]["positions"] == {"HumanReview": {"x": 10.0, "y": 20.5}}
    on_disk = json.loads((failing_example / "motia-workbench.json").read_text())
    assert on_disk["resource-processing"]["HumanReview"] == {"x": 10.0, "y": 20.5}
    bad = dev.client.post("/__motia/api/flows/x/layout", json={"positions": {"A": {"x": "1"}}})
    assert bad.status_code == 400


def test_step_config_schemas_and_source(dev: ServerProcess) -> None:
    step = api(dev, "/steps/CreateResource")
    assert step["config"]["path"] == "/resources"
    assert step["schemas"]["body"]["required"] == ["name"]
    assert "201" in step["schemas"]["responses"]
    assert "async def handler" in step["source"]
    assert dev.client.get("/__motia/api/steps/Nope").status_code == 404


def test_state_put_get_delete(dev: ServerProcess) -> None:
    url = "/__motia/api/state/settings/theme"
    assert dev.client.get(url).status_code == 404
    assert dev.client.put(url, json={"color": "blue"}).json() == {"value": {"color": "blue"}}
    assert api(dev, "/state/settings/theme") == {"value": {"color": "blue"}}
    assert "settings" in api(dev, "/state")["items"]
    assert api(dev, "/state/settings")["items"] == {"theme": {"color": "blue"}}
    bad = dev.client.put(url, content=b"{not json", headers=JSON)
    assert bad.status_code == 400
    # Writes are taken as JSON only: a page of another site cannot send that type.
    assert (
        dev.client.put(url, content=b"{}", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    assert dev.client.delete(url).status_code == 415
    assert dev.client.delete(url, headers=JSON).json() == {"deleted": {"color": "blue"}}
    assert dev.client.get(url).status_code == 404


def test_request_logs_trace_and_streams(dev: ServerProcess) -> None:
    response = dev.client.post("/resources", json={"name": "report.pdf"})
    trace_id = response.headers["x-trace-id"]
    resource_id = response.json()["id"]

    def messages() -> list[str]:
        return [r["msg"] for r in api(dev, f"/logs?traceId={trace_id}")["items"]]

    wait_for(lambda: "Resource processed" in messages())
    assert "Resource accepted" in messages()
    errors = api(dev, f"/logs?traceId={trace_id}&level=error")["items"]
    assert [e["step"] for e in errors] == ["AuditResource"]

    wait_for(lambda: api(dev, f"/traces/{trace_id}")["trace"]["status"] == "failed")
    detail = api(dev, f"/traces/{trace_id}")
    assert detail["trace"]["entryStep"] == "CreateResource"
    spans = {s["step"]: s for s in detail["spans"]}
    assert spans["CreateResource"]["emits"] == ["resource.created"]
    assert spans["AuditResource"]["status"] == "dead"
    assert "auditor unavailable" in spans["AuditResource"]["error"]
    assert any(log["msg"] == "Resource accepted" for log in detail["logs"])
    failed = api(dev, "/traces?status=failed")["items"]
    assert [t["traceId"] for t in failed] == [trace_id]

    streams = api(dev, "/streams")["items"]
    assert streams[0]["name"] == "resourceStatus" and "document" in streams[0]["groups"]
    items = api(dev, "/streams/resourceStatus/document")["items"]
    assert resource_id in {item["id"] for item in items}
    assert dev.client.get("/__motia/api/streams/nope/document").status_code == 404

    queues = {q["step"]: q for q in api(dev, "/queues")["items"]}
    assert queues["AuditResource"]["dead"] == 1
    # Nothing left to take: the oldest waiting message is none, and its age 0.
    assert (queues["AuditResource"]["oldestWaitingAt"], queues["AuditResource"]["oldestAge"]) == (
        None,
        0,
    )


def test_cron_list_and_run_now(dev: ServerProcess) -> None:
    jobs = api(dev, "/cron")["items"]
    assert [(j["name"], j["expression"], j["description"]) for j in jobs] == [
        ("ResourceReport", "* * * * *", "Every minute")
    ]
    assert jobs[0]["nextRun"]
    run = dev.client.post("/__motia/api/cron/ResourceReport/run", headers=JSON).json()
    trace = api(dev, f"/traces/{run['traceId']}")["trace"]
    assert (trace["entryStep"], trace["entryKind"], trace["status"]) == (
        "ResourceReport",
        "cron",
        "ok",
    )
    assert dev.client.post("/__motia/api/cron/CreateResource/run", headers=JSON).status_code == 404


def test_live_feed_yields_a_log_event(dev: ServerProcess) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{dev.url}/__motia/api/live", timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "log":
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(10)
    dev.client.post("/resources", json={"name": "live.txt"})
    thread.join(10)
    kinds = [k for k, _ in events]
    assert "log" in kinds
    log = next(data for kind, data in events if kind == "log")
    assert {"level", "msg", "traceId", "time"} <= set(log)


def test_page_and_static_files(dev: ServerProcess) -> None:
    page = dev.client.get("/__motia/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="static/app.js"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    for name, media in [
        ("app.js", "text/javascript"),
        ("graph.js", "text/javascript"),
        ("app.css", "text/css"),
    ]:
        response = dev.client.get(f"/__motia/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert dev.client.get("/__motia/index.html").status_code == 200
    redirect = dev.client.get("/__motia?token=abc")
    assert redirect.status_code == 307 and redirect.headers["location"] == "/__motia/?token=abc"
    for bad in [
        "/__motia/static/../settings.py",
        "/__motia/static/%2e%2e/app.py",
        "/__motia/static/nope.js",
    ]:
        assert dev.client.get(bad).status_code == 404


def test_every_module_the_page_imports_is_served_as_javascript(dev: ServerProcess) -> None:
    pending, seen = ["app.js"], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        response = dev.client.get(f"/__motia/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript"), name
        pending += re.findall(r'^import [^;]* from "\./([\w.]+)";', response.text, re.MULTILINE)
    assert {"app.js", "api.js", "dom.js", "graph.js", "layout.js", "panel_flows.js"} <= seen


def test_static_files_revalidate_with_their_etag(dev: ServerProcess) -> None:
    first = dev.client.get("/__motia/static/app.js")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = dev.client.get("/__motia/static/app.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = dev.client.get("/__motia/static/app.js", headers={"if-none-match": '"stale"'})
    assert other.status_code == 200 and other.content == first.content
    css = dev.client.get("/__motia/static/app.css", headers={"if-none-match": etag})
    assert css.status_code == 200 and css.headers["etag"] != etag


def test_start_without_token_refuses_the_workbench(
    server_factory: Factory, failing_example: Path
) -> None:
    server = server_factory(failing_example, "start")
    for path in [
        "/__motia/",
        "/__motia/static/app.js",
        "/__motia/api/flows",
        "/__motia/api/dlq",
        "/__motia/api/live",
    ]:
        assert server.client.get(path).status_code == 404, path
    assert server.client.get("/__motia/health").status_code == 200


def test_start_with_token_requires_it(server_factory: Factory, failing_example: Path) -> None:
    server = server_factory(failing_example, "start", env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    # The page itself holds no data: it loads and asks for the token.
    assert server.client.get("/__motia/").status_code == 200
    for path in [
        "/__motia/api/flows",
        "/__motia/api/traces",
        "/__motia/api/state",
        "/__motia/api/live",
    ]:
        assert server.client.get(path).status_code == 401, path
        wrong = server.client.get(path, headers={"authorization": "Bearer wrong-token-0123456789"})
        assert wrong.status_code == 401
    ok = server.client.get("/__motia/api/flows", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["items"]
    assert server.client.get(f"/__motia/api/cron?token={TOKEN}").status_code == 200
    assert TOKEN not in server.output()  # never logged
