"""The test kit drives the runtime through its public API only: no `obj._private` on an
object that is not its own (`self`/`cls`), no `getattr(obj, "_private")`."""

from __future__ import annotations

import ast
from pathlib import Path

import motia.testing

TESTING = Path(motia.testing.__file__).parent


def private_reaches(source: str) -> list[tuple[int, str]]:
    """(line, text) of each reach into another object's private attributes."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_the_check_finds_private_reaches() -> None:
    sample = (
        "cron = len(getattr(runtime.cron, '_running', ()))\n"
        "for entries in queue._queues.values():\n"
        "    pass\n"
        "self._tester._pending.clear()\n"
        "self._own = cls._table\n"
    )
    assert [line for line, _ in private_reaches(sample)] == [1, 2, 4]


def test_the_test_kit_uses_public_api_only() -> None:
    files = sorted(TESTING.rglob("*.py"))
    assert len(files) > 5  # the kit itself, not an empty folder
    offenders = [
        f"{path.relative_to(TESTING.parent.parent)}:{line}: {text}"
        for path in files
        for line, text in private_reaches(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
