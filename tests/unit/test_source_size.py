"""No source file of the package passes 600 lines: past that, a module does several jobs and
is split (the workbench's scripts and the runners' child code included). The templates that
`motia create` copies are user projects, not package code."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "motia"
LIMIT = 600
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".rb")
NOT_PACKAGE_CODE = ("templates",)


def oversized(root: Path, limit: int = LIMIT) -> list[str]:
    """`path: N lines` for each source file under `root` longer than `limit` lines."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_PACKAGE_CODE or path.suffix not in SOURCE_SUFFIXES:
            continue
        if not path.is_file():
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{relative}: {lines} lines")
    return found


def test_no_package_source_file_is_over_600_lines() -> None:
    found = oversized(PACKAGE)
    assert not found, f"split these files (at most {LIMIT} lines each):\n" + "\n".join(found)


def test_the_check_names_each_long_file_and_skips_the_templates(tmp_path: Path) -> None:
    (tmp_path / "http").mkdir()
    (tmp_path / "http" / "app.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "workbench").mkdir()
    (tmp_path / "workbench" / "app.js").write_text("let x = 1\n" * (LIMIT + 5))
    (tmp_path / "workbench" / "short.js").write_text("let x = 1\n" * LIMIT)
    (tmp_path / "workbench" / "data.json").write_text("1\n" * (LIMIT + 1))
    (tmp_path / "templates" / "python").mkdir(parents=True)
    (tmp_path / "templates" / "python" / "big_step.py").write_text("x = 1\n" * (LIMIT + 1))
    assert oversized(tmp_path) == [
        f"http/app.py: {LIMIT + 1} lines",
        f"workbench/app.js: {LIMIT + 5} lines",
    ]
