"""Rooms, history pages, DMs, presence and stream access, in memory with `motia.testing`."""

import asyncio
from pathlib import Path
from typing import Any

import jwt

from motia.testing import MotiaTester, create_tester, import_step

PROJECT = Path(__file__).resolve().parent.parent
SECRET = "a-test-secret-that-is-longer-than-32-characters"
ENV = {"JWT_SECRET": SECRET}


async def session(tester: MotiaTester, name: str) -> dict[str, str]:
    """Headers that carry `name`'s token."""
    response = await tester.post("/session", json={"name": name})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def join(tester: MotiaTester, headers: dict[str, str], room: str) -> dict[str, Any]:
    response = await tester.post(f"/rooms/{room}/join", headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    headers["authorization"] = f"Bearer {answer['token']}"
    return answer


async def post(tester: MotiaTester, headers: dict[str, str], room: str, text: str) -> Any:
    response = await tester.post(f"/rooms/{room}/messages", json={"text": text}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def page(tester: MotiaTester, headers: dict[str, str], room: str, query: str) -> Any:
    response = await tester.get(f"/rooms/{room}/messages?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_message_is_kept_and_delivered_to_the_room() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada = await session(tester, "Ada")
            assert (await join(tester, ada, "general"))["rooms"] == ["general"]
            messages = tester.stream("messages")
            message = await post(tester, ada, "general", "hello")
            assert message["author"] == "ada" and message["room"] == "general"
            [event] = messages.events
            assert (event.type, event.group_id, event.event_type) == (
                "event",
                "general",
                "message",
            )
            assert event.data == message
            history = await page(tester, ada, "general", "")
            assert history == {"messages": [message], "older": None, "newer": None}
            room = (await tester.get("/rooms/general")).json()
            assert room == {"room": "general", "members": ["ada"], "online": []}

    asyncio.run(scenario())


def test_only_members_post_and_read() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            bob = await session(tester, "bob")
            response = await tester.post(
                "/rooms/general/messages", json={"text": "hi"}, headers=bob
            )
            assert response.status_code == 403
            assert response.json()["error"] == "not_a_member"
            assert (await tester.get("/rooms/general/messages", headers=bob)).status_code == 403
            assert (
                await tester.post("/rooms/general/messages", json={"text": "hi"})
            ).status_code == 401
            await join(tester, bob, "general")
            left = await tester.post("/rooms/general/leave", headers=bob)
            assert left.status_code == 200 and left.json()["rooms"] == []
            response = await tester.post(
                "/rooms/general/messages", json={"text": "hi"}, headers=bob
            )
            assert response.status_code == 403

    asyncio.run(scenario())


def test_history_pages_back_and_catches_up_by_cursor() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada = await session(tester, "ada")
            await join(tester, ada, "general")
            # Posted within the same fake-clock millisecond: the ids still keep the order.
            sent = [await post(tester, ada, "general", f"m{n}") for n in range(7)]
            ids = [m["id"] for m in sent]
            assert ids == sorted(ids)

            newest = await page(tester, ada, "general", "limit=3")
            assert [m["text"] for m in newest["messages"]] == ["m4", "m5", "m6"]
            assert newest["older"] == ids[4]
            middle = await page(tester, ada, "general", f"before={newest['older']}&limit=3")
            assert [m["text"] for m in middle["messages"]] == ["m1", "m2", "m3"]
            first = await page(tester, ada, "general", f"before={middle['older']}&limit=3")
            assert [m["text"] for m in first["messages"]] == ["m0"] and first["older"] is None

            # A client that last saw m2 catches up in pages of 3: m3..m5, then m6.
            resumed = await page(tester, ada, "general", f"after={ids[2]}&limit=3")
            assert [m["text"] for m in resumed["messages"]] == ["m3", "m4", "m5"]
            rest = await page(tester, ada, "general", f"after={resumed['newer']}&limit=3")
            assert [m["text"] for m in rest["messages"]] == ["m6"] and rest["newer"] is None

            response = await tester.get("/rooms/general/messages?limit=500", headers=ada)
            assert response.status_code == 400 and response.json()["error"] == "bad_limit"

    asyncio.run(scenario())


def test_direct_messages_are_seen_by_the_pair_only() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada, bob, eve = [await session(tester, n) for n in ("ada", "bob", "eve")]
            dm = (await tester.post("/dms/bob", headers=ada)).json()
            assert dm == {"room": "dm.ada.bob", "with": "bob"}
            assert (await tester.post("/dms/ada", headers=bob)).json()["room"] == "dm.ada.bob"
            messages = tester.stream("messages")
            sent = await post(tester, ada, "dm.ada.bob", "psst")
            # Delivered to the DM room, and a notice to bob's inbox (not to ada's).
            delivered = [(e.group_id, e.event_type) for e in messages.events]
            assert delivered == [("dm.ada.bob", "message"), ("inbox.bob", "dm")]
            assert (await page(tester, bob, "dm.ada.bob", ""))["messages"] == [sent]

            # One room per pair: the names in the other order are no room of theirs.
            unsorted = await tester.post(
                "/rooms/dm.bob.ada/messages", json={"text": "x"}, headers=ada
            )
            assert unsorted.status_code == 403

            refused = await tester.get("/rooms/dm.ada.bob/messages", headers=eve)
            assert refused.status_code == 403
            response = await tester.post(
                "/rooms/dm.ada.bob/messages", json={"text": "x"}, headers=eve
            )
            assert response.status_code == 403
            # Nor can eve watch the DM or bob's inbox.
            for group in ("dm.ada.bob", "inbox.bob"):
                token = eve["authorization"].removeprefix("Bearer ")
                watch = await tester.get(f"/__motia/streams/messages/{group}?authToken={token}")
                assert watch.status_code == 403, watch.text

    asyncio.run(scenario())


def test_presence_expires_without_heartbeats_on_the_fake_clock() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada = await session(tester, "ada")
            await join(tester, ada, "general")
            assert (await tester.post("/rooms/general/presence", headers=ada)).status_code == 200
            assert [p["user"] for p in await tester.stream_items("presence", "general")] == ["ada"]

            await tester.advance(20)
            await tester.post("/rooms/general/presence", headers=ada)  # the heartbeat renews it
            await tester.advance(20)
            online = (await tester.get("/rooms/general")).json()["online"]
            assert online == ["ada"]

            presence = tester.stream("presence")
            await tester.advance(11)  # 31 s after the last heartbeat
            assert await tester.stream_items("presence", "general") == []
            # Watchers are told, by a `delete` of ada's item, at the next sweep of expired
            # items (once a second, in real time): wait for it, at most 5 seconds.
            for _ in range(50):
                if presence.events:
                    break
                await asyncio.sleep(0.1)
            assert [(e.type, e.group_id, e.id) for e in presence.events] == [
                ("delete", "general", "ada")
            ]
            assert (await tester.get("/rooms/general")).json()["online"] == []

    asyncio.run(scenario())


def test_typing_is_an_event_that_is_not_stored() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada = await session(tester, "ada")
            await join(tester, ada, "general")
            messages = tester.stream("messages")
            assert (await tester.post("/rooms/general/typing", headers=ada)).status_code == 204
            [event] = messages.events
            assert (event.event_type, event.data) == ("typing", {"user": "ada"})
            assert await tester.stream_items("messages", "general") == []

    asyncio.run(scenario())


def test_streams_refuse_rooms_not_joined_and_clients_without_a_token() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            ada = await session(tester, "ada")
            token = ada["authorization"].removeprefix("Bearer ")
            # The token of a session that joined nothing: no room may be watched.
            watch = await tester.get(f"/__motia/streams/messages/general?authToken={token}")
            assert watch.status_code == 403
            assert watch.json()["error"]["code"] == "STREAM_ACCESS_DENIED"
            presence = await tester.get(f"/__motia/streams/presence/general?authToken={token}")
            assert presence.status_code == 403
            assert (await tester.get("/__motia/streams/messages/general")).status_code == 401

            # Joining answers a token naming the room; a new session remembers the rooms.
            joined = await join(tester, ada, "general")
            assert joined["token"] != token
            claims = jwt.decode(joined["token"], SECRET, algorithms=["HS256"])
            assert claims["sub"] == "ada" and claims["rooms"] == ["general"]
            for name in ("messages", "presence"):
                stream = import_step(PROJECT, f"steps/streams/{name}_stream.py")
                assert stream.can_access({"groupId": "general", "id": None}, claims)
                assert not stream.can_access({"groupId": "random", "id": None}, claims)
            assert (await tester.post("/session", json={"name": "ada"})).json()["rooms"] == [
                "general"
            ]

    asyncio.run(scenario())


def test_bad_names_rooms_and_requests_get_clear_refusals() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT, env=ENV) as tester:
            bad_name = await tester.post("/session", json={"name": "Ada Lovelace!"})
            assert bad_name.status_code == 400 and bad_name.json()["error"] == "bad_name"
            ada = await session(tester, "ada")
            bad_room = await tester.post("/rooms/Not%20A%20Room/join", headers=ada)
            assert bad_room.status_code == 400 and bad_room.json()["error"] == "bad_room"
            not_joined = await tester.post("/rooms/general/leave", headers=ada)
            assert not_joined.status_code == 404
            assert not_joined.json()["error"] == "not_a_member"
            to_self = await tester.post("/dms/ada", headers=ada)
            assert to_self.status_code == 400 and to_self.json()["error"] == "bad_name"
            nope = await tester.get("/rooms/nope")
            assert nope.json() == {"error": "no_room", "message": "room not found"}
            empty = await tester.post("/rooms/dm.ada.bob/messages", json={"text": ""}, headers=ada)
            assert empty.status_code == 400
            heartbeat = await tester.post("/rooms/general/presence", headers=ada)
            assert heartbeat.status_code == 403

    asyncio.run(scenario())
