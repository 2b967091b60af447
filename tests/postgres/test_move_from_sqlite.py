"""The move from SQLite that docs/scaling.md describes: the state of a project on SQLite,
copied through the workbench JSON API into the same project on PostgreSQL while both run,
is what the project reads there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, write_project

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]

TOKEN = "move-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

CART_FILES: dict[str, str] = {
    "steps/__init__.py": "",
    "steps/set_cart_step.py": """
        config = {"type": "api", "name": "SetCart", "method": "PUT", "path": "/carts/:id",
                  "emits": [], "flows": ["carts"]}
        async def handler(req, ctx):
            await ctx.state.set("carts", req["pathParams"]["id"], req["body"])
            return {"status": 200, "body": {}}
    """,
    "steps/get_carts_step.py": """
        config = {"type": "api", "name": "GetCarts", "method": "GET", "path": "/carts",
                  "emits": [], "flows": ["carts"]}
        async def handler(req, ctx):
            items = await ctx.state.get_group("carts")
            return {"status": 200, "body": {"items": items}}
    """,
}


def copy_state(old_url: str, new_url: str) -> None:
    """The loop of docs/scaling.md, "Moving a project from SQLite"."""
    old = httpx.Client(base_url=f"{old_url}/__motia/api", headers=AUTH)
    new = httpx.Client(base_url=f"{new_url}/__motia/api", headers=AUTH)
    for group in old.get("/state").json()["items"]:
        for key, value in old.get(f"/state/{group}").json()["items"].items():
            new.put(f"/state/{group}/{key}", json=value).raise_for_status()
    old.close()
    new.close()


def test_state_copied_from_sqlite_through_the_workbench_api_is_read_on_postgres(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", CART_FILES)
    token = {"MOTIA_WORKBENCH_TOKEN": TOKEN}
    on_sqlite = servers(project, env=token)
    carts = {f"c{i}": {"items": [f"sku-{i}"], "total": i * 10} for i in range(5)}
    for cart, value in carts.items():
        assert on_sqlite.client.put(f"/carts/{cart}", json=value).status_code == 200
    assert (project / ".motia").is_dir(), "the first server is not on SQLite"

    on_postgres = servers(project, env={**pg_env, **token})
    assert on_postgres.client.get("/carts").json()["items"] in ([], {}, None)

    copy_state(on_sqlite.url, on_postgres.url)

    got = on_postgres.client.get("/carts").json()["items"]
    as_list = got if isinstance(got, list) else list(got.values())
    assert sorted(as_list, key=lambda v: v["total"]) == list(carts.values())
