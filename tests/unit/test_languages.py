"""The one language table: which files each language owns and which runner runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.steps.discovery import FOREIGN_SUFFIXES, is_step_file
from motia.steps.languages import language_of, runner_source_suffixes
from motia.steps.project_config import CONFIG_NAMES


@pytest.mark.parametrize(
    ("name", "language", "runner"),
    [
        ("create_order_step.py", "python", None),
        ("create-order.step.ts", "typescript", "node"),
        ("create-order.step.mts", "typescript", "node"),
        ("create-order.step.cjs", "javascript", "node"),
        ("create_order_step.rb", "ruby", "ruby"),
    ],
)
def test_language_of_a_step_file(name: str, language: str, runner: str | None) -> None:
    found = language_of(Path("steps") / name)
    assert (found.name, found.runner) == (language, runner)


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("a.step.ts", True),
        ("a_step.mjs", True),
        ("a.stream.cts", True),
        ("a_stream.ts", True),
        ("a_stream.rb", True),
        ("a.step.rb", True),
        # `x_stream.*` takes only each language's main suffix.
        ("a_stream.mjs", False),
        ("a.step.tsx", False),
        ("helper.ts", False),
    ],
)
def test_discovery_reads_the_suffixes_from_the_table(name: str, found: bool) -> None:
    assert is_step_file(Path("steps") / name) is found


def test_every_runner_file_suffix_is_a_source_suffix_of_its_runner() -> None:
    for marker, runner in FOREIGN_SUFFIXES:
        assert marker.endswith(runner_source_suffixes(runner))
    assert ".tsx" in runner_source_suffixes("node")
    assert runner_source_suffixes("ruby") == (".rb",)


def test_classic_project_config_names() -> None:
    assert CONFIG_NAMES[0] == "motia.config.ts"
    assert set(CONFIG_NAMES) == {
        f"motia.config.{e}" for e in ("ts", "mts", "cts", "js", "mjs", "cjs")
    }
