"""The runner tests' shared project: Node packages come from the multi-language example."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.tools import npm_install, require

__all__ = ["MULTI_LANGUAGE_EXAMPLE", "node_project", "npm_install", "require"]

ROOT = Path(__file__).resolve().parents[2]
MULTI_LANGUAGE_EXAMPLE = ROOT / "examples" / "multi-language"


def node_project(root: Path) -> Path:
    """Make `root` a Node project that uses the multi-language example's packages."""
    npm_install(MULTI_LANGUAGE_EXAMPLE)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(MULTI_LANGUAGE_EXAMPLE / "package.json", root / "package.json")
    (root / "node_modules").symlink_to(MULTI_LANGUAGE_EXAMPLE / "node_modules")
    return root
