"""`motia dev` reloads edited, added, broken and fixed step files without restarting."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli._support import api_step
from tests.conftest import ServerProcess, wait_for, write_project

PID_STEP = """
import os

config = {"type": "api", "name": "Pid", "method": "GET", "path": "/pid", "emits": []}


async def handler(req, ctx):
    return {"status": 200, "body": {"pid": os.getpid()}}
"""


WORD_STEP = """
from steps.lib.words import WORD

config = {"type": "api", "name": "Word", "method": "GET", "path": "/word", "emits": []}


async def handler(req, ctx):
    return {"status": 200, "body": {"word": WORD}}
"""


def body_of(server: ServerProcess, path: str) -> Callable[[], Any]:
    def probe() -> Any:
        response = server.client.get(path)
        return response.json() if response.status_code == 200 else None

    return probe


def test_dev_reloads_edits_new_files_and_survives_broken_files(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/version_step.py": api_step("Version", "GET", "/version", "{'v': 1}"),
            "steps/pid_step.py": PID_STEP,
            "steps/lib/__init__.py": "",
            "steps/lib/words.py": "WORD = 'alpha'\n",
            "steps/word_step.py": WORD_STEP,
        },
    )
    server = server_factory(project, "dev")
    pid = server.client.get("/pid").json()["pid"]
    assert pid == server.process.pid
    assert server.client.get("/version").json() == {"v": 1}
    assert server.client.get("/added").status_code == 404
    version_file = project / "steps" / "version_step.py"

    # an edit changes the running server's behaviour
    version_file.write_text(api_step("Version", "GET", "/version", "{'v': 2, 'edited': True}"))
    wait_for(lambda: body_of(server, "/version")() == {"v": 2, "edited": True})

    # editing a helper module the step imports is picked up too
    assert server.client.get("/word").json() == {"word": "alpha"}
    (project / "steps" / "lib" / "words.py").write_text("WORD = 'omega'\n")
    wait_for(lambda: body_of(server, "/word")() == {"word": "omega"})

    # a new file adds its route
    (project / "steps" / "added_step.py").write_text(
        api_step("Added", "GET", "/added", "{'added': True}")
    )
    wait_for(lambda: body_of(server, "/added")() == {"added": True})

    # a syntax error keeps the last good version serving and prints the error
    seen = len(server.output())
    reloads_before = server.output().count("reloaded")
    version_file.write_text("config = {'type': 'api',\ndef handler(:\n")
    server.wait_for_output("reload failed")
    printed = server.output()[seen:]
    assert any("version_step.py" in line and "SyntaxError" in line for line in printed.splitlines())
    assert server.client.get("/version").json() == {"v": 2, "edited": True}
    assert server.client.get("/added").json() == {"added": True}

    # fixing the file reloads it
    version_file.write_text(api_step("Version", "GET", "/version", "{'v': 3}"))
    wait_for(lambda: body_of(server, "/version")() == {"v": 3})
    assert server.output().count("reloaded") > reloads_before

    # never restarted: same process throughout
    assert server.process.poll() is None
    assert server.client.get("/pid").json()["pid"] == pid


def test_dev_reloads_a_same_size_edit_made_within_the_same_second(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """Two quick saves (e.g. format-on-save) can leave a file with the same size and the same
    whole-second mtime as the version already loaded; the reload must still see the new code."""
    project = write_project(
        tmp_path / "project",
        {"steps/flag_step.py": api_step("Flag", "GET", "/flag", "{'v': 'aaa'}")},
    )
    flag_file = project / "steps" / "flag_step.py"
    loaded = flag_file.stat()
    # users' interpreters write bytecode caches: do not inherit PYTHONDONTWRITEBYTECODE
    server = server_factory(project, "dev", env={"PYTHONDONTWRITEBYTECODE": ""})
    assert server.client.get("/flag").json() == {"v": "aaa"}
    assert list((project / "steps" / "__pycache__").glob("flag_step.*.pyc"))

    flag_file.write_text(api_step("Flag", "GET", "/flag", "{'v': 'bbb'}").lstrip())
    os.utime(flag_file, ns=(loaded.st_atime_ns, loaded.st_mtime_ns))
    assert flag_file.stat().st_size == loaded.st_size
    server.wait_for_output("reloaded")  # the watcher saw the change and reloaded the project
    assert server.client.get("/flag").json() == {"v": "bbb"}
