"""The dev workbench against a hostile page, in a real Chromium and a real `motia dev`:
a page of another origin (another loopback port) posts to the internal API and /emit with
`fetch(..., {mode: "no-cors", method: "POST"})`, and a host name of the attacker's that
resolves to 127.0.0.1 (DNS rebinding) loads the workbench. Nothing changes; the same calls
from the workbench's own page do."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port, wait_for, write_project
from tests.tools import unavailable
from tests.workbench.conftest import CHROMIUM, CHROMIUM_ARGS, _reason_missing

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]

PROJECT = {
    "steps/report_step.py": """
        config = {"type": "cron", "name": "Report", "cron": "0 0 1 1 *", "emits": [],
                  "flows": ["office"]}

        async def handler(ctx):
            await ctx.state.set("hostile", "cron", True)
    """,
    "steps/fragile_step.py": """
        from pathlib import Path

        config = {"type": "event", "name": "Fragile", "subscribes": ["job"], "emits": [],
                  "flows": ["office"], "infrastructure": {"queue": {"maxRetries": 0}}}

        async def handler(data, ctx):
            if not (Path(__file__).parent.parent / "healthy").exists():
                raise RuntimeError("down")
            await ctx.state.set("hostile", "redriven", True)
    """,
    "steps/hit_step.py": """
        config = {"type": "event", "name": "Hit", "subscribes": ["hit"], "emits": [],
                  "flows": ["office"]}

        async def handler(data, ctx):
            await ctx.state.set("hostile", "emitted", True)
    """,
}

# Each write the workbench can make, as a cross-site page would try it: a text/plain body
# and one with no type at all (a Blob), both "simple" requests that need no CORS consent.
ATTACK = """
async (target) => {
  const calls = [
    ["/__motia/api/cron/Report/run", ""],
    ["/__motia/api/dlq/purge", JSON.stringify({all: true})],
    ["/__motia/api/dlq/redrive", JSON.stringify({all: true})],
    ["/__motia/api/flows/office/layout", JSON.stringify({positions: {Report: {x: 1, y: 2}}})],
    ["/emit", JSON.stringify({topic: "hit", data: {}})],
  ];
  let sent = 0;
  for (const [path, body] of calls) {
    await fetch(target + path, {mode: "no-cors", method: "POST", body,
                                headers: {"content-type": "text/plain"}});
    await fetch(target + path, {mode: "no-cors", method: "POST", body: new Blob([body])});
    sent += 2;
  }
  return sent;
}
"""

# The same writes from the workbench's own page, as its script makes them.
SAME_ORIGIN = """
async () => {
  const statuses = [];
  for (const [path, body] of [
    ["/__motia/api/flows/office/layout", JSON.stringify({positions: {Report: {x: 1, y: 2}}})],
    ["/emit", JSON.stringify({topic: "hit", data: {}})],
    ["/__motia/api/cron/Report/run", ""],
    ["/__motia/api/dlq/redrive", JSON.stringify({all: true})],
  ]) {
    const response = await fetch(path, {method: "POST", body,
                                        headers: {"content-type": "application/json"}});
    statuses.push(response.status);
  }
  return statuses;
}
"""


def in_chromium(scenario: Callable[[Any], None], *args: str) -> None:
    """Run `scenario(browser)` with a headless Chromium of its own (launched with `args`),
    in a thread: Playwright's sync API allows one instance per thread, and the workbench
    tests may hold one in this thread."""
    missing = _reason_missing()
    if missing is not None:
        unavailable(missing)
    from playwright.sync_api import sync_playwright

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args]
                )
                try:
                    scenario(chromium)
                finally:
                    chromium.close()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(180)
    assert not thread.is_alive(), "the browser scenario did not finish within 180 s"
    if failure:
        raise failure[0]


class EvilPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>evil</title><p>nothing to see</p>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def evil_origin() -> Iterator[str]:
    """Another origin on loopback: the same host, another port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), EvilPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def state(server: ServerProcess) -> dict[str, Any]:
    items: dict[str, Any] = server.client.get("/__motia/api/state/hostile").json()["items"]
    return items


def dead_letters(server: ServerProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = server.client.get("/__motia/api/dlq").json()["items"]
    return items


def test_a_cross_site_page_cannot_write_through_the_workbench(
    tmp_path: Path, server_factory: Factory, evil_origin: str
) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    dev = server_factory(project, "dev")
    job = dev.client.post("/emit", json={"topic": "job", "data": {"n": 1}})
    assert job.status_code == 200
    wait_for(lambda: len(dead_letters(dev)) == 1)
    (project / "healthy").write_text("")  # from now on a redrive would succeed

    def scenario(browser: Any) -> None:
        context = browser.new_context()
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            refused: list[int] = []
            page.on(
                "response",
                lambda r: refused.append(r.status) if r.url.startswith(dev.url) else None,
            )
            page.goto(evil_origin)
            assert page.evaluate(ATTACK, dev.url) == 10
            wait_for(lambda: len(refused) == 10)
            assert sorted(set(refused)) == [403], refused

            # Nothing happened: no cron run, no event, the dead letter is still there, no layout.
            jobs = dev.client.get("/__motia/api/cron").json()["items"]
            assert jobs[0]["lastRun"] is None
            assert state(dev) == {}
            assert len(dead_letters(dev)) == 1
            assert not (project / "motia-workbench.json").exists()

            # The workbench's own page makes the same calls and they work: the test can fail.
            page.goto(f"{dev.url}/__motia/")
            assert page.evaluate(SAME_ORIGIN) == [200, 200, 200, 200]
            wait_for(lambda: state(dev) == {"cron": True, "emitted": True, "redriven": True})
            assert dead_letters(dev) == []
            layout = json.loads((project / "motia-workbench.json").read_text())
            assert layout["office"] == {"Report": {"x": 1.0, "y": 2.0}}
        finally:
            context.close()

    in_chromium(scenario)


def test_dns_rebinding_a_foreign_host_name_gets_nothing(
    tmp_path: Path, server_factory: Factory
) -> None:
    """A name of the attacker's resolving to 127.0.0.1: to the browser the page and the API
    are one origin, so only the Host header tells them apart."""
    project = write_project(tmp_path / "project", PROJECT)
    dev = server_factory(project, "dev")
    rules = "--host-resolver-rules=MAP rebind.example 127.0.0.1"

    def scenario(chromium: Any) -> None:
        page = chromium.new_page()
        page.set_default_timeout(10_000)
        response = page.goto(f"http://rebind.example:{dev.port}/__motia/")
        assert response is not None and response.status == 403
        assert "workbench.allowedHosts" in response.text()
        statuses = page.evaluate(
            """async () => [
              (await fetch("/__motia/api/cron/Report/run", {method: "POST",
                  headers: {"content-type": "application/json"}})).status,
              (await fetch("/__motia/api/state/hostile")).status,
              (await fetch("/emit", {method: "POST", body: '{"topic": "hit", "data": {}}',
                  headers: {"content-type": "application/json"}})).status,
            ]"""
        )
        assert statuses == [403, 403, 403]
        # The same page under localhost is the workbench.
        local = page.goto(f"http://localhost:{dev.port}/__motia/")
        assert local is not None and local.status == 200

    in_chromium(scenario, rules)
    assert state(dev) == {}
    assert dev.client.get("/__motia/api/cron").json()["items"][0]["lastRun"] is None


def test_configured_host_names_are_served(tmp_path: Path, server_factory: Factory) -> None:
    files = {**PROJECT, "config.yml": "workbench:\n  allowedHosts: [motia.internal]\n"}
    dev = server_factory(write_project(tmp_path / "project", files), "dev")
    for host, status in (("motia.internal:3000", 200), ("other.example", 403), ("[::1]:1", 200)):
        response = dev.client.get("/__motia/api/cron", headers={"host": host})
        assert response.status_code == status, (host, response.text)
    # The health check and API steps answer under any name.
    assert dev.client.get("/__motia/health", headers={"host": "other.example"}).status_code == 200
