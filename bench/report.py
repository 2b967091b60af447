"""The table printed at the end of a run, and what the JSON report says about the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from harness import REPO, Figure
from procs import can_pin


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("req/s", "events/s"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.3f} {unit}"
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} {unit}".strip()


def print_table(figures: list[Figure]) -> None:
    rows = [("Figure", "Value", "Baseline", "Ratio", "Target (aim)", "Status")]
    for f in figures:
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_label})" if f.baseline else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        target = f.target + (f" ({f.aim})" if f.aim else "")
        rows.append((f.label, _fmt(f.value, f.unit), baseline, ratio, target, f.status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = "  ".join("-" * w for w in widths)
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print(line)
    print("\nStatus: AIM = target and aim met, PASS = target met, FAIL = target missed.")


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "pinned": can_pin(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    return info


def code_version() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                                timeout=10, check=False)
        return result.stdout.strip()

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return {"commit": git("rev-parse", "--short", "HEAD"),
                "src_modified": bool(git("status", "--porcelain", "--", "src"))}
    return {}
