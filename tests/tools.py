"""Tools the tests need from the machine (node, npm, ruby) and npm packages they install.
In CI a missing tool fails the test; locally it skips with the reason."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
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


NPM_CACHE_ENV = "MOTIA_TEST_NPM_CACHE"  # an npm cache folder shared by the installs of a run
NODE_MODULES_ROOT = Path(tempfile.gettempdir()) / "motia-test-node-modules"


def npm_env() -> dict[str, str]:
    """The environment for npm: the run's shared cache when `MOTIA_TEST_NPM_CACHE` is set."""
    env = dict(os.environ)
    cache = os.environ.get(NPM_CACHE_ENV)
    if cache:
        env["npm_config_cache"] = cache
    return env


def installed_node_modules(package_dir: Path) -> Path:
    """The `node_modules` of `package_dir`'s package.json and package-lock.json, installed
    with `npm ci` outside the working tree (in a folder named after the two files' content,
    so runs share it until they change) for the caller to link: nothing is written into
    `package_dir`."""
    require("node")
    npm = require("npm")
    manifests = [package_dir / "package.json", package_dir / "package-lock.json"]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in manifests)).hexdigest()[:16]
    root = NODE_MODULES_ROOT / digest
    NODE_MODULES_ROOT.mkdir(parents=True, exist_ok=True)
    with _install_lock, (NODE_MODULES_ROOT / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other test runs on this machine share the folder
        if not (root / "node_modules" / ".package-lock.json").is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            for path in manifests:
                shutil.copy(path, root / path.name)
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=600,
                env=npm_env(),
            )
            if result.returncode != 0:
                pytest.fail(
                    f"`npm ci` for {package_dir} failed ({result.returncode}):\n{result.stderr}"
                )
    return root / "node_modules"
