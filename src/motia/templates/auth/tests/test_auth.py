"""Sign-up, email verification through a real local SMTP server, login, refresh-token
rotation with reuse detection, logout and a protected route, in memory with `motia.testing`."""

import asyncio
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from motia.testing import MotiaTester, create_tester

PROJECT = Path(__file__).resolve().parent.parent
SECRET = "a-test-secret-that-is-longer-than-32-characters"
PASSWORD = "correct horse battery"


class Inbox:
    """An SMTP handler that keeps every mail it receives."""

    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def settings(port: int) -> dict[str, str]:
    return {"JWT_SECRET": SECRET, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}


async def sign_up(tester: MotiaTester, email: str = "ada@example.com") -> dict[str, Any]:
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    response = await tester.post("/auth/signup", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def link_in(mail: Message) -> str:
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    found = re.search(r"http://\S+(/auth/verify\?token=\S+)", text)
    assert found, text
    return found.group(1)


async def verified_user(tester: MotiaTester, inbox: Inbox) -> None:
    await sign_up(tester)
    await tester.wait_until_idle()
    assert (await tester.get(link_in(inbox.mails[-1]))).status_code == 200


async def login(tester: MotiaTester) -> dict[str, str]:
    body = {"email": "ada@example.com", "password": PASSWORD}
    response = await tester.post("/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_sign_up_verify_by_mail_log_in_and_read_the_profile(inbox: tuple[Inbox, int]) -> None:
    mails, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            user = await sign_up(tester, "Ada@Example.com")
            assert user["email"] == "ada@example.com" and user["verified"] is False
            assert "passwordHash" not in user
            await tester.wait_until_idle()

            [mail] = mails.mails
            assert mail["To"] == "ada@example.com"
            refused = await tester.post(
                "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
            )
            assert refused.status_code == 403 and refused.json()["error"] == "email_not_verified"

            link = link_in(mail)
            assert (await tester.get(link)).json() == {"verified": True, "email": "ada@example.com"}
            assert (await tester.get(link)).status_code == 400  # a link works once

            tokens = await login(tester)
            me = await tester.get("/me", headers=bearer(tokens["accessToken"]))
            assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
            assert (await tester.get("/me")).status_code == 401
            stored = await tester.state.get("users", f"user:{user['id']}:profile")
            assert stored["passwordHash"].startswith("$argon2id$")

    asyncio.run(scenario())


def test_wrong_passwords_and_unknown_users_get_the_same_answer(inbox: tuple[Inbox, int]) -> None:
    mails, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            await verified_user(tester, mails)
            for email, password in (("ada@example.com", "wrong password!"), ("x@y.z", PASSWORD)):
                answer = await tester.post(
                    "/auth/login", json={"email": email, "password": password}
                )
                assert answer.status_code == 401
                assert answer.json() == {
                    "error": "invalid_credentials",
                    "message": "wrong email or password",
                }

    asyncio.run(scenario())


def test_a_refresh_token_works_once_and_a_reused_one_signs_the_session_out(
    inbox: tuple[Inbox, int],
) -> None:
    mails, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            await verified_user(tester, mails)
            first = await login(tester)
            rotated = await tester.post(
                "/auth/refresh", json={"refreshToken": first["refreshToken"]}
            )
            assert rotated.status_code == 200
            second = rotated.json()
            assert second["refreshToken"] != first["refreshToken"]

            # The first token again: someone else has it. Both tokens stop working.
            reused = await tester.post(
                "/auth/refresh", json={"refreshToken": first["refreshToken"]}
            )
            assert reused.status_code == 401 and reused.json()["error"] == "token_reused"
            after = await tester.post(
                "/auth/refresh", json={"refreshToken": second["refreshToken"]}
            )
            assert after.status_code == 401 and after.json()["error"] == "session_revoked"

            # Another login is another session, untouched.
            third = await login(tester)
            again = await tester.post("/auth/refresh", json={"refreshToken": third["refreshToken"]})
            assert again.status_code == 200

    asyncio.run(scenario())


def test_logout_revokes_the_session(inbox: tuple[Inbox, int]) -> None:
    mails, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            await verified_user(tester, mails)
            tokens = await login(tester)
            body = {"refreshToken": tokens["refreshToken"]}
            assert (await tester.post("/auth/logout", json=body)).status_code == 401  # no token
            out = await tester.post(
                "/auth/logout", json=body, headers=bearer(tokens["accessToken"])
            )
            assert out.status_code == 204
            refused = await tester.post("/auth/refresh", json=body)
            assert refused.status_code == 401 and refused.json()["error"] == "session_revoked"

    asyncio.run(scenario())


def test_bad_sign_ups_and_links_are_refused(inbox: tuple[Inbox, int]) -> None:
    _, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            await sign_up(tester)
            again = await tester.post(
                "/auth/signup", json={"email": "ADA@example.com", "password": PASSWORD, "name": "A"}
            )
            assert again.status_code == 409 and again.json()["error"] == "email_taken"
            short = await tester.post(
                "/auth/signup", json={"email": "b@example.com", "password": "short", "name": "B"}
            )
            assert short.status_code == 400
            assert short.json()["errors"][0]["field"] == "password"
            bad = await tester.get("/auth/verify?token=made-up")
            assert bad.status_code == 400 and bad.json()["error"] == "invalid_token"

    asyncio.run(scenario())


def test_sign_up_is_rate_limited(inbox: tuple[Inbox, int]) -> None:
    _, port = inbox

    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(port)) as tester:
            statuses = []
            for n in range(6):
                body = {"email": f"u{n}@example.com", "password": PASSWORD, "name": "U"}
                statuses.append((await tester.post("/auth/signup", json=body)).status_code)
            assert statuses == [201] * 5 + [429]

    asyncio.run(scenario())


def test_a_mail_server_that_is_down_is_retried_then_dead_lettered() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=settings(free_port())) as tester:
            user = await sign_up(tester)
            await tester.wait_until_idle(raise_errors=False)  # backoff on the fake clock
            [letter] = await tester.dead_letters()
            assert letter.subscriber == "SendVerification" and letter.attempts == 6
            assert letter.data == {"userId": user["id"]}

    asyncio.run(scenario())
