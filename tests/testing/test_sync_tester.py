"""`SyncMotiaTester` is the async tester run on its own loop: every member, one signature."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from motia.testing import MotiaTester, SyncMotiaTester, captures
from motia.testing.sync import SyncState
from tests.testing.projects import shop

# The sync tester starts in its constructor.
ASYNC_ONLY = {"start"}


def public_members(cls: type) -> dict[str, Any]:
    return {name: getattr(cls, name) for name in dir(cls) if not name.startswith("_")}


def assert_same_surface(async_cls: type, sync_cls: type) -> None:
    async_members, sync_members = public_members(async_cls), public_members(sync_cls)
    assert sorted(set(async_members) - set(sync_members) - ASYNC_ONLY) == []
    for name, member in async_members.items():
        if name in ASYNC_ONLY:
            continue
        if isinstance(member, property):
            assert isinstance(sync_members[name], property), name
            continue
        assert inspect.iscoroutinefunction(sync_members[name]) is False, name
        assert inspect.signature(sync_members[name]) == inspect.signature(member), name


def test_every_member_of_the_async_tester_is_there_with_its_signature() -> None:
    assert_same_surface(MotiaTester, SyncMotiaTester)
    assert_same_surface(captures.TesterState, SyncState)


def test_each_member_answers_like_the_async_one(tmp_path: Path) -> None:
    with SyncMotiaTester(shop(tmp_path)) as tester:
        assert tester.started
        assert tester.app is tester.aio.app
        assert tester.runtime is tester.aio.runtime
        assert tester.cron_steps() == tester.aio.cron_steps()
        assert "CreateOrder" in tester.steps()
        response = tester.post("/orders", json={"item": "ink"})
        assert response.status_code == 201
        assert tester.request("GET", "/orders/o-ink").json()["item"] == "ink"
        tester.state.set("notes", "a", {"n": 1})
        assert tester.state.items("notes") == {"a": {"n": 1}}
        assert tester.logs_for("no-such-trace") == []
    assert not tester.started
