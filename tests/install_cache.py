"""What the newcomer tests install, built once per run: a wheel of this checkout in a
wheelhouse that also holds everything the templates' requirements.txt files name (so a
created project installs with `pip install --no-index --find-links`), and an npm cache
holding the packages of the templates with a `package.json` (so their `npm install` runs
offline).

`.ci/run` builds both once and passes them in MOTIA_TEST_WHEELHOUSE and MOTIA_TEST_NPM_CACHE;
without those variables the session fixtures build them in the run's temporary folder:

    python -m tests.install_cache DEST    # writes DEST/wheelhouse and DEST/npm-cache
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from motia.cli.docker.dockerfile import MOTIA_REQUIREMENT
from tests.tools import NPM_CACHE_ENV

__all__ = ["NPM_CACHE_ENV", "WHEELHOUSE_ENV", "build_npm_cache", "build_wheelhouse"]

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "src" / "motia" / "templates"
WHEELHOUSE_ENV = "MOTIA_TEST_WHEELHOUSE"
PACKAGE = "motia-python"


class BuildFailed(Exception):
    """A tool failed while building the install cache; the message has its output."""


def _run(args: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise BuildFailed(
            f"`{' '.join(args)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def template_requirements() -> list[str]:
    """Every requirement line of every template's requirements.txt, without comments."""
    lines: set[str] = set()
    for path in sorted(TEMPLATES.glob("*/requirements.txt")):
        for line in path.read_text().splitlines():
            requirement = line.split(" #")[0].strip()
            if requirement and not requirement.startswith("#"):
                lines.add(requirement)
    return sorted(lines)


def package_wheel(wheelhouse: Path) -> Path:
    wheels = sorted(wheelhouse.glob("motia_python-*.whl"))
    if len(wheels) != 1:
        raise BuildFailed(f"expected one motia_python wheel in {wheelhouse}, found {wheels}")
    return wheels[0]


def build_wheelhouse(dest: Path) -> Path:
    """Build the wheel of this checkout into `dest`, then every wheel the templates'
    requirements need (from the package index, once)."""
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(REPO)])
    wheel = package_wheel(dest)
    requirements = []
    # The image of `motia docker setup` adds the scale-out stores' extras.
    for line in [*template_requirements(), MOTIA_REQUIREMENT]:
        if line.startswith(PACKAGE):  # this checkout's wheel, never a published release
            extras = line[len(PACKAGE) :].strip()
            requirements.append(f"{PACKAGE}{extras} @ {wheel.as_uri()}")
        else:
            requirements.append(line)
    _run([*pip, "wheel", "--quiet", "--wheel-dir", str(dest), *requirements])
    return dest


def build_npm_cache(dest: Path) -> Path:
    """Fill the npm cache `dest` with the packages of every template that has a
    `package.json`, and their metadata, so that `npm install --offline` resolves them
    without a lock file."""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildFailed("`npm` is not on PATH")
    dest.mkdir(parents=True, exist_ok=True)
    for package_json in sorted(TEMPLATES.glob("*/package.json")):
        with tempfile.TemporaryDirectory(prefix="motia-npm-") as scratch:
            shutil.copy(package_json, scratch)
            _run(
                [npm, "install", "--no-audit", "--no-fund", "--cache", str(dest)],
                cwd=Path(scratch),
            )
    return dest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.install_cache DEST", file=sys.stderr)
        return 2
    dest = Path(argv[0]).resolve()
    try:
        build_wheelhouse(dest / "wheelhouse")
        build_npm_cache(dest / "npm-cache")
    except BuildFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{WHEELHOUSE_ENV}={dest / 'wheelhouse'}")
    print(f"{NPM_CACHE_ENV}={dest / 'npm-cache'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
