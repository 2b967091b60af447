"""The garbage collector once a runtime serves: young objects collected less often unless
the process chose its own thresholds, and cyclic garbage still collected."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import write_project

# Loads and starts the project given as argv[1] in a fresh interpreter, then reports the
# collector's thresholds and whether a reference cycle made after start-up was collected.
PROBE = textwrap.dedent(
    """
    import asyncio, gc, json, sys, weakref
    from pathlib import Path
    from motia.runtime.runtime import Runtime
    from motia.settings import load_settings

    class Node:
        pass

    async def main():
        runtime = Runtime.load(load_settings(Path(sys.argv[1]), "start", log_level="warn"))
        await runtime.start()
        try:
            node = Node()
            node.self = node  # a cycle: reference counting alone never frees it
            gone = weakref.ref(node)
            del node
            # Net allocations (kept, not freed at once) enough for a young-generation pass.
            kept = [[] for _ in range(30_000)]
            print(json.dumps({"threshold": gc.get_threshold(), "enabled": gc.isenabled(),
                              "collected": gone() is None, "kept": len(kept)}))
        finally:
            await runtime.stop()

    asyncio.run(main())
    """
)

HELLO = """
config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello"}
async def handler(req, ctx):
    return {"status": 200, "body": {}}
"""


def _probe(project: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        capture_output=True, text=True, timeout=60, cwd=project,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_started_runtime_collects_young_objects_less_often_and_still_collects_cycles(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path, {"steps/hello_step.py": HELLO})
    report = _probe(project)
    assert report["threshold"] == [10_000, 10, 10]
    assert report["enabled"] is True
    assert report["collected"] is True


def test_thresholds_a_step_module_set_are_kept(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {"steps/hello_step.py": "import gc\ngc.set_threshold(1234, 5, 5)\n" + HELLO.strip()},
    )
    report = _probe(project)
    assert report["threshold"] == [1234, 5, 5]
    assert report["collected"] is True
