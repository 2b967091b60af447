"""pytest plugin for the Motia test kit, registered through the `pytest11` entry point.

Fixtures:

- `motia_tester`: a factory, `motia_tester(project_dir=None, *, env=None, config=None)`,
  returning a started `SyncMotiaTester` (the project directory defaults to pytest's root
  directory); every tester it made is closed when the test ends.
- `mock_context`: a fresh `create_mock_context()`.

Motia itself is imported only when a fixture is used, so the plugin costs nothing in test
runs that do not use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from motia.testing.mock_context import MockContext
    from motia.testing.sync import SyncMotiaTester

TesterFactory = Callable[..., "SyncMotiaTester"]


@pytest.fixture
def motia_tester(request: pytest.FixtureRequest) -> Iterator[TesterFactory]:
    """`motia_tester(project_dir=None, *, env=None, config=None, clock=None)`: a started
    `SyncMotiaTester` for the project, closed at the end of the test."""
    from motia.testing.sync import SyncMotiaTester

    made: list[SyncMotiaTester] = []

    def factory(
        project_dir: str | os.PathLike[str] | None = None, **options: Any
    ) -> SyncMotiaTester:
        root = project_dir if project_dir is not None else request.config.rootpath
        tester = SyncMotiaTester(root, **options)
        made.append(tester)
        return tester

    yield factory
    errors: list[BaseException] = []
    for tester in reversed(made):
        try:
            tester.close()
        except Exception as exc:  # close every tester, then report
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def mock_context() -> MockContext:
    """A fresh `create_mock_context()` (trace id `mock-trace-id`)."""
    from motia.testing.mock_context import create_mock_context

    return create_mock_context()
