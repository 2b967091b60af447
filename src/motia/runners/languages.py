"""The languages that run in runner processes: which files, which binary, which script."""

from __future__ import annotations

import functools
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNERS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RunnerLanguage:
    name: str  # "node" | "ruby": the runner's name in logs and in Step.language
    label: str  # how people call the language's runtime
    binary: str
    binary_env: str  # an environment variable that names another binary
    script: Path
    install_hint: str

    def binary_path(self) -> str | None:
        return shutil.which(os.environ.get(self.binary_env) or self.binary)

    def command(self, binary: str) -> list[str]:
        return [*_die_with_parent(), binary, str(self.script)]


@functools.cache
def _die_with_parent() -> tuple[str, ...]:
    """On Linux, a runner gets SIGKILL when the server dies, even a `kill -9` while one of its
    handlers blocks it (a runner otherwise exits when its socket closes). `setpriv` sets
    that and execs the runner, so no Python code runs in the forked child."""
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()


NODE = RunnerLanguage(
    name="node",
    label="Node.js",
    binary="node",
    binary_env="MOTIA_NODE",
    script=RUNNERS_DIR / "node" / "runner.mjs",
    install_hint="install Node.js 18 or newer (`apt-get install nodejs`, or https://nodejs.org), "
    "or set MOTIA_NODE to its path",
)
RUBY = RunnerLanguage(
    name="ruby",
    label="Ruby",
    binary="ruby",
    binary_env="MOTIA_RUBY",
    script=RUNNERS_DIR / "ruby" / "runner.rb",
    install_hint="install Ruby 3.0 or newer (`apt-get install ruby`), "
    "or set MOTIA_RUBY to its path",
)
LANGUAGES = {language.name: language for language in (NODE, RUBY)}
