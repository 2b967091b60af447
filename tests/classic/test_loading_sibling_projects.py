"""Projects whose folder names share a prefix (`/x/proj` and `/x/proj2`) never see each
other's modules, and forgetting one project's modules leaves the other's alone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from motia.runtime.loading import load_project
from motia.steps.importer import forget_project_modules
from tests.conftest import write_project

HELPER_STEP = """
from steps.lib.helper import VALUE

config = {"type": "cron", "name": "Uses", "cron": "* * * * *", "emits": []}

async def handler(ctx):
    return VALUE
"""


def _project(root: Path, value: int) -> Path:
    return write_project(
        root,
        {
            "steps/lib/__init__.py": "",
            "steps/lib/helper.py": f"VALUE = {value}\n",
            "steps/uses_step.py": HELPER_STEP,
        },
    )


def test_a_project_never_gets_the_modules_of_one_whose_name_extends_its_own(
    tmp_path: Path,
) -> None:
    short = _project(tmp_path / "proj", 1)
    longer = _project(tmp_path / "proj2", 2)
    [step] = load_project(longer).steps
    assert step.handler is not None and step.handler.__globals__["VALUE"] == 2
    [step] = load_project(short).steps
    assert step.handler is not None and step.handler.__globals__["VALUE"] == 1


def test_forgetting_a_project_keeps_the_modules_of_its_prefix_sibling(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    sibling = write_project(tmp_path / "proj2", {"tool.py": "X = 1\n"})
    spec = importlib.util.spec_from_file_location("sibling_tool", sibling / "tool.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["sibling_tool"] = module
    try:
        forget_project_modules(tmp_path / "proj")
        assert sys.modules.get("sibling_tool") is module
        forget_project_modules(sibling)
        assert "sibling_tool" not in sys.modules
    finally:
        sys.modules.pop("sibling_tool", None)


def test_namespace_packages_shared_with_another_path_entry_are_dropped_whole(
    tmp_path: Path,
) -> None:
    """`src` without `__init__.py` is a namespace package that also spans any other `src/`
    folder on `sys.path` (the current folder's, say): when it is dropped, its submodules go
    with it, or the next project load would trip over an orphaned `src.python`."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "src").mkdir(parents=True)
    noop = """
        config = {"type": "noop", "name": "%s", "virtualEmits": [], "virtualSubscribes": []}
    """
    sys.path.append(str(elsewhere))
    try:
        for name in ("A", "B", "C"):
            root = write_project(tmp_path / name, {f"src/python/{name}_step.py": noop % name})
            project = load_project(root)
            assert project.problems == [] and [s.name for s in project.steps] == [name]
    finally:
        sys.path.remove(str(elsewhere))
