"""The runner tests' shared project: Node packages come from the multi-language example,
installed outside the working tree (the example folder itself is never written to)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.tools import installed_node_modules, npm_install, require

__all__ = [
    "MULTI_LANGUAGE_EXAMPLE",
    "example_node_modules",
    "multi_language_example",
    "node_project",
    "npm_install",
    "require",
]

ROOT = Path(__file__).resolve().parents[2]
MULTI_LANGUAGE_EXAMPLE = ROOT / "examples" / "multi-language"


def example_node_modules() -> Path:
    """The example's npm packages, installed once outside the working tree."""
    return installed_node_modules(MULTI_LANGUAGE_EXAMPLE)


def node_project(root: Path) -> Path:
    """Make `root` a Node project that uses the multi-language example's packages."""
    node_modules = example_node_modules()
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(MULTI_LANGUAGE_EXAMPLE / "package.json", root / "package.json")
    (root / "node_modules").symlink_to(node_modules)
    return root


def multi_language_example(target: Path, *ignored: str) -> Path:
    """A copy of the multi-language example at `target`, with its npm packages linked in;
    `ignored` names more files to leave out of the copy."""
    node_modules = example_node_modules()
    shutil.copytree(
        MULTI_LANGUAGE_EXAMPLE,
        target,
        ignore=shutil.ignore_patterns(".motia", "__pycache__", "node_modules", *ignored),
    )
    (target / "node_modules").symlink_to(node_modules)
    return target
