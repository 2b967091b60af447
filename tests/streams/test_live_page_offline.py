"""Live pages in a real headless Chromium with no network but loopback: the stream client
comes from the server itself (/__motia/stream-client.js), so the example's `/live`, the
templates' `/live` pages and a page of our own connect and update live offline."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import ServerProcess, wait_until_ready, write_project
from tests.runners.support import example_node_modules, require
from tests.workbench.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium: skipped when missing locally, a failure when CI is set."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing: str | None = "playwright is not installed (pip install -e '.[dev]')"
    else:
        found = Path(CHROMIUM).exists() or shutil.which(CHROMIUM)
        missing = None if found else f"Chromium not found at {CHROMIUM}"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose requests to anything but loopback are refused (and listed)."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, refused
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def test_the_client_is_served_as_a_module_for_any_origin(
    example_copy: Path, server_factory: Factory
) -> None:
    server = server_factory(example_copy, "start")  # served in production mode as well
    response = server.client.get("/__motia/stream-client.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "export class Stream" in response.text
    assert server.client.head("/__motia/stream-client.js").status_code == 200


def test_the_example_live_page_connects_and_updates_offline(
    example_copy: Path, server_factory: Factory, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    server = server_factory(example_copy, "dev")
    page.goto(f"{server.url}/live")
    page.wait_for_selector("#items li:text('no documents yet')")  # the snapshot arrived
    # The hint names this server, not a fixed port.
    assert f"{server.url}/resources" in page.text_content("#hint")

    response = server.client.post("/resources", json={"name": "Offline report", "kind": "document"})
    assert response.status_code == 201, response.text
    page.wait_for_selector("#items li.processed:text('Offline report: processed')")
    assert refused == []


TEMPLATE_PAGES = {
    # template: (list id, request path, request body, item text once done)
    "python": ("orders", "/orders", {"item": "book", "quantity": 2}, "{id}: processed, total 25"),
    "multi-language": ("quotes", "/quotes", {"item": "lamp", "quantity": 2}, "{id}: priced"),
    "jobs": ("jobs", "/jobs", {"kind": "thumbnails", "items": 3}, "{id}: done, 3/3"),
    # JavaScript API, Python checks and summary, TypeScript report: the lines show up too.
    "pipeline": (
        "batches",
        "/batches",
        {"records": [{"id": "r1", "amount": 10, "country": "FR"}]},
        "{id}: reported",
    ),
}


@pytest.mark.parametrize("template", sorted(TEMPLATE_PAGES))
def test_a_template_live_page_connects_and_updates_offline(
    template: str, tmp_path: Path, server_factory: Factory, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    created = subprocess.run(
        [sys.executable, "-m", "motia", "create", "shop", "-t", template, "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "shop"
    if template in ("multi-language", "jobs"):
        require("ruby")
    if template in ("multi-language", "pipeline", "jobs"):
        (project / "node_modules").symlink_to(example_node_modules())
    list_id, path, body, done = TEMPLATE_PAGES[template]
    server = server_factory(project, "dev")
    page.goto(f"{server.url}/live")
    page.wait_for_selector(f"#{list_id} li:text('no {list_id} yet')")
    assert f"{server.url}{path}" in page.text_content("#hint")

    response = server.client.post(path, json=body)
    assert response.status_code in (201, 202), response.text
    text = done.format(id=response.json()["id"])
    page.wait_for_selector(f"#{list_id} li:text('{text}')")
    if template == "pipeline":
        page.wait_for_selector("#batches ul.lines li:text('FR: 10.00 in 1 record(s)')")
    assert refused == []


def test_the_agent_page_shows_the_plan_and_the_answer_token_by_token_offline(
    tmp_path: Path, server_factory: Factory, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    created = subprocess.run(
        [sys.executable, "-m", "motia", "create", "bot", "-t", "ai-agent", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    server = server_factory(tmp_path / "bot", "dev")
    page.goto(f"{server.url}/agent")
    # Every text the answer shows on its way: the tokens arrive one message at a time.
    page.evaluate(
        """() => {
          const answer = document.getElementById("answer");
          window.seen = [];
          new MutationObserver(() => window.seen.push(answer.textContent))
            .observe(answer, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.click("#ask button")
    page.wait_for_selector("#status.done")
    answer = "The Eiffel Tower in Paris is 330 metres tall. 330 * 3 = 990."
    assert page.text_content("#answer") == answer
    assert page.locator("#calls li").all_text_contents() == [
        "c1 lookup(eiffel tower): The Eiffel Tower in Paris is 330 metres tall.",
        "c2 calculator(330 * 3): 990",
    ]
    seen = [text for text in page.evaluate("window.seen") if text]
    assert "The Eiffel " in seen and len(set(seen)) >= len(answer.split()), seen
    assert refused == []


CLIENT_PROJECT = {
    "steps/todo_stream.py": """
        config = {"name": "todo", "baseConfig": {"storageType": "default"}}
    """,
    "steps/set_todo_step.py": """
        config = {"type": "api", "name": "SetTodo", "method": "POST", "path": "/todo/:id",
                  "emits": []}

        async def handler(req, ctx):
            item = await ctx.streams.todo.set("inbox", req["pathParams"]["id"], req["body"])
            return {"status": 200, "body": item}
    """,
    "steps/delete_todo_step.py": """
        config = {"type": "api", "name": "DeleteTodo", "method": "DELETE",
                  "path": "/todo/:id", "emits": []}

        async def handler(req, ctx):
            await ctx.streams.todo.delete("inbox", req["pathParams"]["id"])
            return {"status": 204}
    """,
    "steps/typing_step.py": """
        config = {"type": "api", "name": "Typing", "method": "POST", "path": "/typing",
                  "emits": []}

        async def handler(req, ctx):
            event = {"type": "typing", "data": req["body"]}
            await ctx.streams.todo.send({"groupId": "inbox"}, event)
            return {"status": 204}
    """,
    "steps/page_step.py": """
        from pathlib import Path

        PAGE = (Path(__file__).parent / "page.html").read_text()
        config = {"type": "api", "name": "Page", "method": "GET", "path": "/page", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html"}}
    """,
    "steps/page.html": """
        <!doctype html>
        <script type="module">
          import { Stream } from "/__motia/stream-client.js";
          const seen = { group: [], item: [], typing: [], errors: [] };
          const stream = new Stream();
          const group = stream.subscribeGroup("todo", "inbox", "title");
          group.addChangeListener((items) => seen.group.push(items));
          group.onEvent("typing", (data) => seen.typing.push(data));
          const item = stream.subscribeItem("todo", "inbox", "t1");
          item.addChangeListener((value) => seen.item.push(value));
          const missing = stream.subscribeGroup("nope", "inbox");
          missing.onEvent("error", (error) => seen.errors.push(error));
          Object.assign(window, { seen, stream, group, item });
        </script>
    """,
}


def start_on_port(project: Path, port: int, log: Path) -> ServerProcess:
    process = subprocess.Popen(
        [sys.executable, "-m", "motia", "dev", "--dir", str(project), "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    server = ServerProcess(process, port, log)
    wait_until_ready(server)
    return server


def test_the_served_client_follows_groups_items_events_errors_and_reconnects(
    tmp_path: Path, server_factory: Factory, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    project = write_project(tmp_path / "app", CLIENT_PROJECT)
    server = server_factory(project, "dev")
    page.goto(f"{server.url}/page")
    # The snapshots: an empty group, a missing item, and an error for an unknown stream.
    page.wait_for_function("seen.group.length === 1 && seen.item.length === 1")
    page.wait_for_function("seen.errors.length === 1")
    assert page.evaluate("seen.errors") == [
        {"code": "STREAM_NOT_FOUND", "message": "Stream nope not found"}
    ]
    assert page.evaluate("[seen.group[0], seen.item[0]]") == [[], None]

    # Creates and updates, kept sorted by the sort key; the item follows its own id only.
    server.client.post("/todo/t1", json={"title": "b"})
    server.client.post("/todo/t2", json={"title": "a"})
    page.wait_for_function("group.getState().length === 2")
    assert page.evaluate("group.getState()") == [
        {"title": "a", "id": "t2"},
        {"title": "b", "id": "t1"},
    ]
    assert page.evaluate("item.getState()") == {"title": "b", "id": "t1"}
    server.client.post("/todo/t1", json={"title": "c"})
    page.wait_for_function("item.getState().title === 'c'")
    assert page.evaluate("group.getState().map((t) => t.id)") == ["t2", "t1"]

    # Custom events reach onEvent; a delete empties the item.
    server.client.post("/typing", json={"user": "bob"})
    page.wait_for_function("seen.typing.length === 1")
    assert page.evaluate("seen.typing") == [{"user": "bob"}]
    server.client.delete("/todo/t1")
    page.wait_for_function("item.getState() === null")
    assert page.evaluate("group.getState()") == [{"title": "a", "id": "t2"}]

    # The server goes away and comes back on the same port: the client joins again.
    port, log = server.port, server.log_path
    assert server.stop(signal.SIGTERM) == 0
    restarted = start_on_port(project, port, log)
    try:
        restarted.client.post("/todo/t1", json={"title": "back"})
        page.wait_for_function("item.getState()?.title === 'back'", timeout=20_000)
        page.wait_for_function("group.getState().length === 2")

        # A closed subscription hears nothing more; the others go on.
        page.evaluate("group.close()")
        before = page.evaluate("seen.group.length")
        restarted.client.post("/todo/t1", json={"title": "after close"})
        page.wait_for_function("item.getState().title === 'after close'")
        assert page.evaluate("seen.group.length") == before
    finally:
        restarted.stop(signal.SIGKILL)
    assert refused == []
