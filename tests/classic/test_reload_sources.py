"""`motia dev` reloads on source changes only: a handler writing data into the project
folder never reloads it, while editing a step or a helper module it imports does."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

from motia.runtime.loading import load_project
from motia.runtime.watch import SourceWatch
from tests.conftest import ServerProcess, wait_for, write_project

COUNTER_STEP = """
import json
import sqlite3
from pathlib import Path

from steps.lib.greeting import GREETING

config = {"type": "api", "name": "Count", "method": "POST", "path": "/count", "emits": []}
CALLS = []
ROOT = Path(__file__).resolve().parent.parent


async def handler(req, ctx):
    CALLS.append(1)
    n = len(CALLS)
    # Everything a classic handler writes into its project folder.
    (ROOT / ".data").mkdir(exist_ok=True)
    (ROOT / ".data" / f"item-{n}.json").write_text(json.dumps({"n": n}))
    (ROOT / "logs").mkdir(exist_ok=True)
    with (ROOT / "logs" / "app.log").open("a") as log:
        log.write(f"call {n}\\n")
    (ROOT / "uploads").mkdir(exist_ok=True)
    (ROOT / "uploads" / f"photo-{n}.png").write_bytes(b"\\x89PNG")
    (ROOT / "results.json").write_text(json.dumps({"n": n}))
    (ROOT / "steps" / "cache.json").write_text(json.dumps({"n": n}))
    with sqlite3.connect(ROOT / "app.sqlite") as db:
        db.execute("create table if not exists t (n integer)")
        db.execute("insert into t values (?)", (n,))
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / f"report_{n}.py").write_text(f"N = {n}\\n")  # generated, never imported
    return {"status": 200, "body": {"calls": n, "greeting": GREETING}}
"""


def test_handler_writes_do_not_reload_but_source_edits_do(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/lib/__init__.py": "",
            "steps/lib/greeting.py": "GREETING = 'hello'\n",
            "steps/count_step.py": COUNTER_STEP,
        },
    )
    server = server_factory(project, "dev")
    for expected in range(1, 6):
        answer = server.client.post("/count")
        assert answer.json() == {"calls": expected, "greeting": "hello"}
        time.sleep(0.3)  # spread the writes over more than one watcher batch
    assert (project / ".data" / "item-5.json").exists() and (project / "app.sqlite").exists()
    # A reload would have reset CALLS: module state survived every write.
    assert server.client.post("/count").json()["calls"] == 6
    assert "reloaded" not in server.output()

    # Editing a helper module the step imports reloads (and resets module state).
    (project / "steps" / "lib" / "greeting.py").write_text("GREETING = 'bonjour'\n")
    wait_for(lambda: server.client.post("/count").json()["greeting"] == "bonjour")
    assert server.output().count("reloaded") == 1

    # Editing the step itself reloads.
    step = project / "steps" / "count_step.py"
    step.write_text(step.read_text().replace('"calls": n', '"calls": n, "edited": True'))
    wait_for(lambda: server.client.post("/count").json().get("edited"))
    assert server.output().count("reloaded") == 2


def test_fixing_a_helper_that_never_imported_reloads(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/lib/__init__.py": "",
            "steps/lib/greeting.py": "GREETING = 'hello'\nbroken(\n",
            "steps/count_step.py": COUNTER_STEP,
            "steps/ping_step.py": """
                config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping",
                          "emits": []}

                async def handler(req, ctx):
                    return {"status": 200, "body": "pong"}
            """,
        },
    )
    server = server_factory(project, "dev")
    assert server.client.get("/ping").status_code == 200
    assert server.client.post("/count").status_code == 404
    assert "steps/lib/greeting.py:2" in server.output()
    (project / "steps" / "lib" / "greeting.py").write_text("GREETING = 'fixed'\n")
    wait_for(lambda: server.client.post("/count").status_code == 200)
    assert server.client.post("/count").json()["greeting"] == "fixed"


def test_which_changes_count_as_source(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "steps/lib/__init__.py": "",
            "steps/lib/helper.py": "X = 1\n",
            "steps/lib/late.py": "Y = 1\n",
            "steps/uses_helper_step.py": """
                from steps.lib.helper import X

                config = {"type": "noop", "name": "Uses", "virtualEmits": [],
                          "virtualSubscribes": []}
            """,
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/python3/site-packages/dep.py": "",
            "conda-env/conda-meta/history": "",
            "conda-env/lib/dep.py": "",
        },
    )
    watch = SourceWatch(project)
    loaded = load_project(project)
    assert loaded.errors == []
    watch.remember_imports(loaded)
    assert not watch.is_source(project / "steps/lib/late.py")
    # A module a handler imports after the load counts from then on.
    importlib.import_module("steps.lib.late")

    def source(relative: str) -> bool:
        return watch.is_source(project / relative)

    for relative in (
        "steps/new-thing_step.py",
        "steps/orders/create.step.ts",
        "src/billing_step.rb",
        "steps/chat_stream.py",
        "steps/lib/helper.py",
        "steps/lib/late.py",
        "steps/lib/db.ts",
        "services/mailer.js",
        "config.yml",
        "motia.config.ts",
        "motia_config.py",
        "package.json",
        "tsconfig.json",
    ):
        assert source(relative), relative
    for relative in (
        ".data/state.json",
        ".motia/motia.db",
        "logs/app.log",
        "uploads/a.png",
        "results.json",
        "steps/cache.json",
        "app.sqlite",
        "reports/report_1.py",  # a Python file nothing imported
        "steps/lib/unused.py",
        "types.d.ts",
        "node_modules/zod/index.js",
        ".venv/lib/python3.11/site-packages/pydantic/main.py",
        "venv/lib/python3.11/site-packages/rich/console.py",
        "env/lib/python3/site-packages/dep.py",
        "conda-env/lib/dep.py",
        "web/package.json",  # only the project's own package.json
    ):
        assert not source(relative), relative
