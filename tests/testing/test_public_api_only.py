"""The test kit drives the runtime through its public API only: no `obj._private` on an
object that is not its own (`self`/`cls`), no `getattr(obj, "_private")`, and a kit class
built on a runtime class (the mock context on `FlowContext`, the capture sink on `LogSink`)
touches no private name of that base through `self` either."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import types
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


def inherited_private_reaches(module: types.ModuleType, source: str) -> list[tuple[int, str]]:
    """(line, text) of each `self._name` in a class of `module` where `_name` belongs to
    one of the class's bases from outside the test kit."""
    found: list[tuple[int, str]] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        foreign = set().union(*map(private_names_of, foreign_bases(getattr(module, node.name))))
        for child in ast.walk(node):
            if (
                isinstance(child, ast.Attribute)
                and isinstance(child.value, ast.Name)
                and child.value.id in ("self", "cls")
                and child.attr in foreign
            ):
                found.append((child.lineno, ast.unparse(child)))
    return found


def foreign_bases(cls: type) -> list[type]:
    kit = motia.testing.__name__
    return [
        base
        for base in cls.__mro__[1:]
        if base is not object and not (base.__module__ + ".").startswith(kit + ".")
    ]


def private_names_of(cls: type) -> set[str]:
    """The private members of `cls` (slots and methods included) and the private
    attributes its own code sets on `self`."""
    names = {name for name in vars(cls) if _private(name)}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # a class without Python source (builtins)
        return names
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and _private(node.attr)
        ):
            names.add(node.attr)
    return names


def test_the_check_finds_private_names_of_a_runtime_base() -> None:
    sample = (
        "from motia.logs import LogSink\n"
        "class Quiet(LogSink):\n"
        "    def __init__(self) -> None:\n"
        "        super().__init__()\n"
        "        self._own = 1\n"
        "    def emit(self, record):\n"
        "        self._listeners.clear()\n"
        "        self._own += 1\n"
    )
    module = types.ModuleType("sample")
    exec(compile(sample, "sample", "exec"), module.__dict__)
    assert inherited_private_reaches(module, sample) == [(7, "self._listeners")]


def test_kit_classes_leave_the_private_names_of_their_runtime_bases_alone() -> None:
    offenders = []
    for path in sorted(TESTING.rglob("*.py")):
        relative = path.relative_to(TESTING.parent.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for line, text in inherited_private_reaches(module, path.read_text(encoding="utf-8")):
            offenders.append(f"{relative}.py:{line}: {text}")
    assert offenders == []
