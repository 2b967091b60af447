"""The SQLite files stay bounded under a real `motia start`: the write-ahead log is folded
back and cut while writes keep coming, and logs and traces older than the retention are
pruned while the server runs, not only every few minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, wait_for, write_project

MB = 1024 * 1024
TOKEN = "growth-test-token-0123456789"

# Mixed load as a service sees it: each POST writes state and emits an event whose
# handler updates a stream item and logs; logs and traces are recorded for the workbench.
BUSY: dict[str, str] = {
    "config.yml": f"""
        workbench:
          token: {TOKEN}
    """,
    "steps/create_item_step.py": """
        config = {"type": "api", "name": "CreateItem", "method": "POST", "path": "/items",
                  "emits": ["item.created"], "flows": ["items"]}
        async def handler(req, ctx):
            item = req["body"]
            await ctx.state.set("items", item["id"], item)
            await ctx.emit({"topic": "item.created", "data": item})
            return {"status": 201, "body": {"id": item["id"]}}
    """,
    "steps/publish_item_step.py": """
        config = {"type": "event", "name": "PublishItem", "subscribes": ["item.created"],
                  "flows": ["items"]}
        async def handler(item, ctx):
            await ctx.streams.feed.set("all", item["id"], {"name": item["name"]})
            ctx.logger.info("item published", {"id": item["id"]})
    """,
    "steps/feed_stream.py": """
        config = {"name": "feed", "schema": {"type": "object"},
                  "baseConfig": {"storageType": "default"}}
    """,
}


def test_the_wal_stays_bounded_while_writes_keep_coming(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "items", BUSY)
    data = tmp_path / "data"
    server = server_factory(project, env={"MOTIA_DATA_DIR": str(data)})
    wal = data / "motia.db-wal"
    # Without the size-triggered truncation this load grew the WAL to 124 MB.
    posts, writers = 12_000, 8
    sizes: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            sizes.append(wal.stat().st_size if wal.exists() else 0)
            time.sleep(0.05)

    def write(offset: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(offset, posts, writers):
                item = {"id": f"item-{i % 2000}", "name": "widget " * 20}
                response = client.post("/items", json=item)
                assert response.status_code == 201, response.text

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    done.set()
    watcher.join()

    print(f"{posts} POSTs; the WAL peaked at {max(sizes) / MB:.1f} MB")
    assert max(sizes) <= 64 * MB, f"the WAL reached {max(sizes) / MB:.1f} MB"


LOGGER: dict[str, str] = {
    "config.yml": f"""
        workbench:
          token: {TOKEN}
          retention: 2
    """,
    "steps/ping_step.py": """
        config = {"type": "api", "name": "Ping", "method": "POST", "path": "/ping",
                  "flows": ["pings"]}
        async def handler(req, ctx):
            ctx.logger.info("ping " + req["body"]["batch"])
            return {"status": 200, "body": {"ok": True}}
    """,
}


def test_logs_and_traces_are_pruned_soon_after_the_retention(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "pings", LOGGER)
    server = server_factory(project, env={"MOTIA_DATA_DIR": str(tmp_path / "data")})
    auth = {"authorization": f"Bearer {TOKEN}"}

    def logged(batch: str) -> int:
        response = server.client.get(
            "/__motia/api/logs", params={"search": f"ping {batch}", "limit": 1000}, headers=auth
        )
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    def traced() -> int:
        response = server.client.get("/__motia/api/traces?limit=1000", headers=auth)
        return len(response.json()["items"])

    for _ in range(600):
        assert server.client.post("/ping", json={"batch": "old"}).status_code == 200
    wait_for(lambda: logged("old") == 600, timeout=10)
    assert traced() >= 600
    written = time.monotonic()

    # Retention 2 s, pruned every 10 s in batches smaller than the backlog: all gone well
    # before the old five-minute sweep would have started.
    wait_for(lambda: logged("old") == 0 and traced() == 0, timeout=30, interval=0.5)
    print(f"600 logs and traces pruned {time.monotonic() - written:.1f} s after they were written")
    assert server.client.post("/ping", json={"batch": "new"}).status_code == 200
    wait_for(lambda: logged("new") == 1, timeout=10)
