"""The `chat` template's page in a real headless Chromium: two browser contexts (two
users) talk through `GET /chat` over the served stream client: room messages, typing,
presence, a DM, and a reconnect that catches up on what was posted meanwhile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.workbench.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow
SECRET = "a-browser-test-secret-longer-than-32-characters"


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


class Link:
    """The WebSocket of one browser context, routed through Playwright so the test can cut
    it and keep it down for a while, as a dropped network would."""

    def __init__(self) -> None:
        self.down = False
        self.routes: list[Any] = []

    def handle(self, route: Any) -> None:
        if self.down:
            route.close()  # the page sees a closed socket and retries 2 s later
            return
        route.connect_to_server()
        self.routes.append(route)

    def cut(self) -> None:
        self.down = True
        for route in self.routes:
            route.close()
        self.routes.clear()


def user_page(browser: Any, url: str, name: str, errors: list[str]) -> tuple[Any, Any, Link]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    link = Link()
    context.route_web_socket(re.compile(r"^wss?://"), link.handle)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{name}: {error}"))
    page.goto(f"{url}/chat?name={name}")
    page.wait_for_selector(f"#status:text('signed in as {name}')")
    return context, page, link


def join(page: Any, room: str) -> None:
    page.fill("#room", room)
    page.click("#join button")
    page.wait_for_selector(f"#rooms button.current[data-room='{room}']")


def send(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.click("#send button")


def shows(page: Any, line: str) -> None:
    """Wait until the message list has exactly this line (author, then text)."""
    script = (
        "line => [...document.querySelectorAll('#messages li')].some(li => li.textContent === line)"
    )
    page.wait_for_function(script, arg=line)


def test_two_users_chat_through_the_page(
    browser: Any, tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "motia", "create", "talk", "-t", "chat", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    server = server_factory(tmp_path / "talk", "dev", env={"JWT_SECRET": SECRET})
    errors: list[str] = []
    ada_context, ada, _ = user_page(browser, server.url, "ada", errors)
    bob_context, bob, bob_link = user_page(browser, server.url, "bob", errors)
    try:
        join(ada, "general")
        join(bob, "general")
        bob.wait_for_selector("#online:text('ada, bob')")  # heartbeats, on the presence stream

        ada.type("#text", "hi")  # typing shows on bob's page, as an ephemeral event
        bob.wait_for_selector("#typing:text('ada is typing…')")
        send(ada, "hello bob")
        shows(bob, "ada: hello bob")
        send(bob, "hello ada")
        shows(ada, "bob: hello ada")

        # A DM: ada's page hears of it in her inbox and lists the room.
        bob.fill("#peer", "ada")
        bob.click("#dm button")
        bob.wait_for_selector("#rooms button.current[data-room='dm.ada.bob']")
        send(bob, "psst")
        ada.click("#rooms button[data-room='dm.ada.bob']")
        shows(ada, "bob: psst")

        # Bob's socket drops and stays down while ada posts: the event never reaches him.
        bob.click("#rooms button[data-room='general']")
        bob_link.cut()
        ada.click("#rooms button[data-room='general']")
        send(ada, "while you were away")
        shows(ada, "ada: while you were away")
        assert "while you were away" not in bob.text_content("#messages")
        # Back online: the re-join's sync makes the page fetch what came after its last one.
        bob_link.down = False
        shows(bob, "ada: while you were away")
        lines = bob.locator("#messages li").all_text_contents()
        assert lines == ["ada: hello bob", "bob: hello ada", "ada: while you were away"]

        # A room bob has not joined is refused to his stream connection.
        response = server.client.post("/session", json={"name": "bob"})
        token = response.json()["token"]
        watch = server.client.get(f"/__motia/streams/messages/random?authToken={token}")
        assert watch.status_code == 403
    finally:
        ada_context.close()
        bob_context.close()
    assert not errors, f"JavaScript errors in the pages: {errors}"
