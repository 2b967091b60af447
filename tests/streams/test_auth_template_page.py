"""The `auth` template's page in a real headless Chromium: sign up, verify through the
mail a real local SMTP server received, log in, refresh the tokens and log out."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port, wait_for
from tests.streams.test_chat_template_page import browser  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow
SECRET = "a-browser-test-secret-longer-than-32-characters"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_sign_up_verify_log_in_refresh_and_log_out_in_the_page(
    browser: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    server_factory: Callable[..., ServerProcess],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    created = subprocess.run(
        [sys.executable, "-m", "motia", "create", "acct", "-t", "auth", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    env = {"JWT_SECRET": SECRET, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}
    server = server_factory(tmp_path / "acct", "dev", env=env)
    errors: list[str] = []
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/account")
        signup = page.locator("#signup")
        signup.locator("[name=name]").fill("Ada")
        signup.locator("[name=email]").fill("ada@example.com")
        signup.locator("[name=password]").fill("correct horse battery")
        signup.locator("button").click()
        page.wait_for_selector("#message:text('Check ada@example.com')")

        # Logging in before the address is verified is refused, with the reason shown.
        login = page.locator("#login")
        login.locator("[name=email]").fill("ada@example.com")
        login.locator("[name=password]").fill("correct horse battery")
        login.locator("button").click()
        page.wait_for_selector("#message.error:text('verify your email address first')")

        wait_for(lambda: inbox.mails, what="the verification mail")
        body = message_from_bytes(inbox.mails[-1]).get_payload(decode=True)
        assert isinstance(body, bytes)
        link = re.search(rb"http://\S+(/auth/verify\?token=[\w-]+)", body)
        assert link, body
        page.goto(f"{server.url}{link.group(1).decode()}")
        assert '"verified":true' in page.content().replace(" ", "")

        page.goto(f"{server.url}/account")
        login.locator("[name=email]").fill("ada@example.com")
        login.locator("[name=password]").fill("correct horse battery")
        login.locator("button").click()
        page.wait_for_selector("#who:text('Ada <ada@example.com>')")

        page.click("#refresh")
        page.wait_for_selector("#message.ok:text('New tokens')")
        assert page.is_visible("#profile")

        page.click("#logout")
        page.wait_for_selector("#message:text('Logged out.')")
        assert page.is_hidden("#profile") and page.is_visible("#login")
        assert errors == []
    finally:
        context.close()
