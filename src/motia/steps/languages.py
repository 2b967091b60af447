"""The languages steps are written in: their file suffixes, the runner that runs them and
how people call them. Discovery, the loader, reloads, type generation and `motia generate`
all read this one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Language:
    name: str  # as Step.language, the manifest and the workbench show it
    display: str
    # The runner process that runs its files ("node", "ruby"); None: Python, in-process.
    runner: str | None
    # Suffixes a step or stream file may have (`x.step.ts`, `x_step.rb`).
    step_suffixes: tuple[str, ...]
    # Suffixes of every source file the language's modules import, helpers included.
    source_suffixes: tuple[str, ...]

    @property
    def main_suffix(self) -> str:
        """The suffix new files get (`motia generate step`)."""
        return self.step_suffixes[0]


PYTHON = Language("python", "Python", None, (".py",), (".py",))
TYPESCRIPT = Language(
    "typescript", "TypeScript", "node", (".ts", ".mts", ".cts"), (".ts", ".mts", ".cts", ".tsx")
)
JAVASCRIPT = Language(
    "javascript", "JavaScript", "node", (".js", ".mjs", ".cjs"), (".js", ".mjs", ".cjs")
)
RUBY = Language("ruby", "Ruby", "ruby", (".rb",), (".rb",))

LANGUAGES: dict[str, Language] = {
    language.name: language for language in (PYTHON, TYPESCRIPT, JAVASCRIPT, RUBY)
}
RUNNER_LANGUAGES = tuple(language for language in LANGUAGES.values() if language.runner)


def language_of(path: Path) -> Language:
    """The language a step file is written in; Python when no other claims its suffix."""
    for language in RUNNER_LANGUAGES:
        if path.suffix in language.source_suffixes:
            return language
    return PYTHON


def runner_source_suffixes(runner: str | None = None) -> tuple[str, ...]:
    """The source suffixes of the languages one runner runs (all runners when None)."""
    return tuple(
        suffix
        for language in RUNNER_LANGUAGES
        if runner is None or language.runner == runner
        for suffix in language.source_suffixes
    )


def runner_names() -> list[str]:
    """Every runner, in table order."""
    return list(dict.fromkeys(language.runner for language in RUNNER_LANGUAGES if language.runner))
