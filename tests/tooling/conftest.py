"""Session fixtures of the tooling tests: the install cache (a wheel of this checkout with
a wheelhouse of its dependencies, and an npm cache), built once per run unless `.ci/run`
built them already and named them in the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.install_cache import (
    NPM_CACHE_ENV,
    WHEELHOUSE_ENV,
    BuildFailed,
    build_npm_cache,
    build_wheelhouse,
    package_wheel,
)
from tests.tools import require, unavailable


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the wheel of this checkout and every wheel the templates install."""
    given = os.environ.get(WHEELHOUSE_ENV)
    try:
        if given:
            path = Path(given)
            package_wheel(path)  # it holds the package, or this says what is wrong
            return path
        return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
    except BuildFailed as exc:
        unavailable(f"no wheelhouse for the newcomer tests: {exc}")
        raise


@pytest.fixture(scope="session")
def npm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An npm cache holding the packages of the templates with a package.json."""
    given = os.environ.get(NPM_CACHE_ENV)
    if given:
        return Path(given)
    require("npm")
    try:
        return build_npm_cache(tmp_path_factory.mktemp("npm-cache"))
    except BuildFailed as exc:
        unavailable(f"no npm cache for the newcomer tests: {exc}")
        raise
