"""The virtualenvs of figure 12's peers: one per group of bench/peers-requirements.txt, made
under a cache folder of the benchmark (never in the project's environment) and reused while
the group's pinned lines stay the same."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from harness import BENCH

REQUIREMENTS = BENCH / "peers-requirements.txt"
INSTALL_TIMEOUT = 600.0


def cache_root() -> Path:
    """$MOTIA_BENCH_CACHE, else $XDG_CACHE_HOME/motia-bench, else ~/.cache/motia-bench."""
    explicit = os.environ.get("MOTIA_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motia-bench"


def requirement_groups(path: Path = REQUIREMENTS) -> dict[str, list[str]]:
    """`## name` starts a group; the lines under it (comments dropped) are its pins."""
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("## "):
            current = groups.setdefault(line[3:].strip(), [])
        elif line and not line.startswith("#"):
            if current is None:
                raise RuntimeError(f"{path}: {line!r} comes before any '## name' group")
            current.append(line)
    return groups


def peer_python(group: str, log: Path) -> Path:
    """The interpreter of `group`'s virtualenv, made (and its pins installed) when missing;
    raises RuntimeError naming the group and the log when pip fails."""
    pins = requirement_groups()[group]
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12]
    venv = cache_root() / "peers" / f"{group}-{digest}"
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if done.is_file() and python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"  installing {group} ({', '.join(pins)}) into {venv}", flush=True)
    with open(log, "ab") as out:
        steps = [[sys.executable, "-m", "venv", "--clear", str(venv)],
                 [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                  *pins]]
        for argv in steps:
            try:
                result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT,
                                        check=False)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"installing {group} took over {INSTALL_TIMEOUT:g} s "
                                   f"(see {log})") from exc
            if result.returncode != 0:
                raise RuntimeError(f"installing {group} failed ({' '.join(argv[2:4])}, exit "
                                   f"{result.returncode}; see {log})")
    done.write_text("\n".join(pins) + "\n")
    return python
