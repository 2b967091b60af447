"""`motia dev` reloads on source changes only: a handler writing data into the project
folder never reloads it, while editing a step or a helper module it imports does."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


def test_which_changes_count_as_source(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "steps/lib/__init__.py": "",
            "steps/lib/helper.py": "X = 1\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/python3/site-packages/dep.py": "",
            "conda-env/conda-meta/history": "",
            "conda-env/lib/dep.py": "",
        },
    )
    watch = SourceWatch(project)
    sys.path.insert(0, str(project))
    try:
        importlib.import_module("steps.lib.helper")
        watch.remember_imports()
    finally:
        sys.path.remove(str(project))
        for name in ("steps.lib.helper", "steps.lib", "steps"):
            sys.modules.pop(name, None)

    def source(relative: str) -> bool:
        return watch.is_source(project / relative)

    for relative in (
        "steps/new-thing_step.py",
        "steps/orders/create.step.ts",
        "src/billing_step.rb",
        "steps/chat_stream.py",
        "steps/lib/helper.py",
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
