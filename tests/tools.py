"""Tools the tests need from the machine (node, npm, ruby) and npm packages they install.
In CI a missing tool fails the test; locally it skips with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

_install_lock = threading.Lock()


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require(binary: str) -> str:
    """The path of `binary` on PATH."""
    path = shutil.which(binary)
    if path is None:
        unavailable(f"`{binary}` is not on PATH, and this test needs it")
    assert path is not None
    return path


def npm_install(project: Path) -> Path:
    """`npm ci` in `project` unless its node_modules is complete already."""
    require("node")
    npm = require("npm")
    with _install_lock:
        if (project / "node_modules" / ".package-lock.json").is_file():
            return project
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"`npm ci` in {project} failed ({result.returncode}):\n{result.stderr}")
    return project
