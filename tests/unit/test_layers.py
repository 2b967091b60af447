"""The package's layers point down only, and the light entry points stay light.

Every module of `src/motia` is read with `ast`; every import is checked, including those
inside functions and under `if TYPE_CHECKING:`. A module may import its own package and any
package of a lower tier; packages of the same tier do not import each other.

Imports under `TYPE_CHECKING` follow the same rule: an annotation that points up couples the
lower layer to the upper one just as much, even though it never runs. The only exceptions are
listed in `ANNOTATION_ONLY`, each with its reason; the test checks that each one really is
under `TYPE_CHECKING`, so it can never load the upper module at run time or close a cycle.

The package root and `motia.types` hand out public names such as `FlowContext` through a
module `__getattr__`: user code asking for the name loads its module then, the package's own
code never goes through them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "motia"

# Top to bottom. Each entry is a tier: its names are the first component after `motia.`.
TIERS: list[tuple[str, ...]] = [
    # The package root and `python -m motia`: the public names, resolved lazily.
    ("__init__", "__main__"),
    ("cli",),
    # The test kit drives the HTTP app to call API steps, so it sits just above it.
    ("testing",),
    ("http",),
    # Documents derived from a loaded project, for the CLI and the HTTP app; the runtime
    # never needs them (`motia dev` hands the runtime the types writer).
    ("manifest", "openapi", "typegen", "workbench_model"),
    ("runtime",),
    # What a project is (steps), how other languages run (runners) and how a bearer
    # token is checked (auth).
    ("steps", "runners", "auth"),
    ("adapters",),
    ("settings",),
    # The framework's background tasks, which log how they end.
    ("tasks",),
    # Leaves. `types` holds the TypedDicts users annotate with and imports nothing at run
    # time; logs write JSON with `jsoncodec`, the one leaf below them. `system_paths` is the
    # one spelling of the `/__motia` URL prefix. `files` replaces a file atomically.
    ("errors", "logs", "clock", "types", "system_paths", "tracecontext", "files"),
    ("jsoncodec", "redaction", "randomness"),
]
TIER_OF = {name: len(TIERS) - index for index, names in enumerate(TIERS) for name in names}

# Above the runtime, adapters are reached through their contracts (`base`) and the factory
# that opens the configured stores; a concrete store is the adapters' own business.
# The pending state writes of an event handler are the runtime's to hold for the queue.
ADAPTER_DOORS = ("motia.adapters.factory", "motia.adapters.state.pending")
ADAPTER_CONTRACT_SUFFIX = ".base"

# (importing module, imported module) -> why the annotation may point up.
ANNOTATION_ONLY = {
    ("motia.types", "motia.runtime.context"): (
        "the public handler aliases name the real FlowContext, so handlers annotated "
        "with it type-check against them exactly"
    ),
}

# Imports that break the rule today and are being moved; keyed by package so the entries
# survive a module being split. Remove an entry once its imports are gone.
PENDING: dict[tuple[str, str], str] = {}

# User project files copied by `motia create`, not package code.
NOT_PACKAGE_CODE = ("templates",)


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    importer: str
    target: str
    type_checking: bool

    def where(self) -> str:
        return f"{self.file.relative_to(SRC.parent)}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def package_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in NOT_PACKAGE_CODE
    ]


def is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = importer.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    found = []
    for alias in node.names:
        # `from motia.x import y` imports the module `motia.x.y` when there is one.
        candidate = f"{base}.{alias.name}"
        if is_module(candidate):
            found.append(candidate)
        elif base == "motia" and alias.name == "__version__":
            found.append("motia.__version__")
        else:
            found.append(base)
    return found


def imports_of(path: Path) -> list[Import]:
    text = path.read_text(encoding="utf-8")
    return parse_imports(text, path, module_name(path), path.name == "__init__.py")


def parse_imports(text: str, path: Path, importer: str, is_package: bool) -> list[Import]:
    tree = ast.parse(text, filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_checking)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(node, importer, is_package):
                if target == "motia" or target.startswith("motia."):
                    found.append(Import(path, node.lineno, importer, target, type_checking))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, type_checking)

    visit(tree, False)
    return found


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def problem(imp: Import) -> str | None:
    """Why `imp` breaks the layers, or None when it points down."""
    source, target = top(imp.importer), top(imp.target)
    if imp.target == "motia.__version__":
        return None  # a constant of the light root
    if source not in TIER_OF:
        return f"{imp.importer} is in no tier: add its package to TIERS"
    if target not in TIER_OF:
        return f"{imp.target} is in no tier: add its package to TIERS"
    if (imp.importer, imp.target) in ANNOTATION_ONLY and imp.type_checking:
        return None
    if (source, target) in PENDING or (source, imp.target) in PENDING:
        return None
    if source == target:
        return None
    if TIER_OF[source] < TIER_OF[target]:
        return f"{source} imports {target}, a layer above it"
    if TIER_OF[source] == TIER_OF[target]:
        return f"{source} imports {target}, a package beside it in the same layer"
    if (
        target == "adapters"
        and TIER_OF[source] > TIER_OF["runtime"]
        and imp.target not in ADAPTER_DOORS
        and not imp.target.endswith(ADAPTER_CONTRACT_SUFFIX)
    ):
        return f"{source} imports {imp.target}: above the runtime use the adapter contracts"
    return None


def all_imports() -> list[Import]:
    return [imp for path in package_modules() for imp in imports_of(path)]


def test_every_import_points_down() -> None:
    offending = [
        f"{imp.where()}: {imp.importer} -> {imp.target}: {reason}"
        + (" (under TYPE_CHECKING)" if imp.type_checking else "")
        for imp in all_imports()
        if (reason := problem(imp)) is not None
    ]
    assert not offending, "imports that break the layers:\n" + "\n".join(offending)


def test_annotation_only_exceptions_stay_annotations() -> None:
    for importer, target in ANNOTATION_ONLY:
        uses = [imp for imp in all_imports() if (imp.importer, imp.target) == (importer, target)]
        assert uses, f"{importer} no longer imports {target}: drop it from ANNOTATION_ONLY"
        at_run_time = [imp.where() for imp in uses if not imp.type_checking]
        assert not at_run_time, f"{importer} imports {target} at run time: {at_run_time}"


def test_every_package_module_is_in_a_tier() -> None:
    placed = {top(module_name(path)) for path in package_modules()}
    assert placed <= set(TIER_OF), f"not in any tier: {sorted(placed - set(TIER_OF))}"


# The checker itself, on imports written for the purpose.
@pytest.mark.parametrize(
    ("importer", "target", "type_checking", "expected"),
    [
        ("motia.runtime.runtime", "motia.steps.model", False, None),
        ("motia.runtime.runtime", "motia.http.app", False, "a layer above"),
        ("motia.runners.remote", "motia.runtime.context", True, "a layer above"),
        ("motia.types", "motia.runtime.context", True, None),
        ("motia.types", "motia.runtime.context", False, "a layer above"),
        ("motia.http.app", "motia.testing.tester", False, "a layer above"),
        ("motia.manifest", "motia.openapi", False, "beside it"),
        ("motia.cli.dlq", "motia.adapters.queue.base", False, None),
        ("motia.cli.dlq", "motia.adapters.factory", False, None),
        ("motia.http.internal_api", "motia.adapters.sqlite.queue", False, "adapter contracts"),
        ("motia.runtime.bus", "motia.adapters.sqlite.queue", False, None),
        ("motia.settings", "motia.adapters.factory", False, "a layer above"),
        ("motia.brand_new", "motia.errors", False, "in no tier"),
    ],
)
def test_the_check_names_what_points_up(
    importer: str, target: str, type_checking: bool, expected: str | None
) -> None:
    imp = Import(PACKAGE / "x.py", 1, importer, target, type_checking)
    reason = problem(imp)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_imports_inside_functions_and_type_checking_are_read() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from motia.http.app import MotiaApp\n"
        "def later():\n"
        "    from motia.cli import main\n"
        "    import motia.typegen.project\n"
        "from . import bus\n"
        "from ..steps import model\n"
    )
    path = PACKAGE / "runtime" / "probe.py"
    imports = parse_imports(text, path, "motia.runtime.probe", is_package=False)
    found = [(imp.line, imp.target, imp.type_checking) for imp in imports]
    assert found == [
        (3, "motia.http.app", True),
        (5, "motia.cli.main", False),
        (6, "motia.typegen.project", False),
        (7, "motia.runtime.bus", False),
        (8, "motia.steps.model", False),
    ]


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.split()


def test_version_does_not_import_the_runtime() -> None:
    loaded = _loaded_after(
        "import sys\nfrom motia.cli.main import cli\nsys.argv = ['motia', '--version']\n"
        "try:\n    cli()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code"
    )
    assert "0.1.0" in loaded  # `motia, version 0.1.0`, printed before the module list
    assert not [name for name in loaded if name.startswith("motia.runtime")]
    assert "pydantic" not in loaded


def test_an_adapter_import_stays_light() -> None:
    loaded = _loaded_after("import motia.adapters.memory.state")
    assert "motia.adapters.memory.state" in loaded
    assert not [name for name in loaded if name.startswith(("motia.runtime", "motia.steps"))]
    assert "pydantic" not in loaded and "jsonschema" not in loaded


def test_public_names_resolve_lazily() -> None:
    loaded = _loaded_after("import motia\nassert motia.__version__")
    assert [name for name in loaded if name.startswith("motia")] == ["motia"]
    loaded = _loaded_after(
        "import motia\nfrom motia import FlowContext, ApiRequest, MotiaError\n"
        "from motia.runtime.context import FlowContext as Real\nassert FlowContext is Real\n"
        "import motia.types\nassert motia.types.FlowContext is Real\n"
        "assert set(motia.__all__) <= set(dir(motia))\n"
        "for name in motia.__all__:\n    getattr(motia, name)"
    )
    assert "motia.runtime.context" in loaded


def test_unknown_public_name_is_an_attribute_error() -> None:
    import motia

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        motia.Nope  # noqa: B018
    with pytest.raises(ImportError):
        exec("from motia import Nope", {})


def test_root_names_agree_for_type_checkers_and_at_run_time() -> None:
    """`__all__`, the lazy table and the `TYPE_CHECKING` imports that IDEs read list the
    same names, each from the same module."""
    import motia

    root = PACKAGE / "__init__.py"
    seen_by_checkers = {
        (alias.name, imp.target)
        for imp in imports_of(root)
        if imp.type_checking
        for node in ast.walk(ast.parse(root.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.lineno == imp.line
        for alias in node.names
    }
    lazy = set(motia._HOMES.items())
    assert seen_by_checkers == lazy
    assert set(motia.__all__) == set(motia._HOMES) | {"__version__"}
