"""The settings reference in docs/configuration.md, written from the settings table.

    python -m motia.settings.reference [--check] [docs/configuration.md]

rewrites the part of the page between the markers (the prose around it is kept); with
`--check` it changes nothing and exits 1 when the page is not current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motia.settings.model import TABLE
from motia.settings.row import Setting

BEGIN = (
    "<!-- settings-reference: begin. Generated from src/motia/settings/model.py by "
    "`python -m motia.settings.reference`; edit the settings there. -->"
)
END = "<!-- settings-reference: end -->"


def reference_table() -> str:
    lines = [
        "| Key | Environment variable | Type | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for row in TABLE:
        env = f"`{row.env}`" + "".join(f" (or `{alias}`)" for alias in row.env_aliases)
        cells = (f"`{row.key}`", env, row.kind.describe(), _default(row), row.doc)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _default(row: Setting) -> str:
    if row.shown is not None:
        return row.shown
    dev, start = row.kind.show(row.default_for("dev")), row.kind.show(row.default_for("start"))
    return dev if dev == start else f"{dev} in `motia dev`, {start} in `motia start`"


def render(page: str) -> str:
    """`page` with the text between the markers replaced by the current reference."""
    head, begin, rest = page.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page has no {BEGIN!r} ... {END!r} markers")
    return f"{head}{BEGIN}\n\n{reference_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motia.settings.reference")
    parser.add_argument("page", nargs="?", type=Path, default=Path("docs/configuration.md"))
    parser.add_argument("--check", action="store_true", help="fail if the page is not current")
    args = parser.parse_args(argv)
    page = args.page.read_text(encoding="utf-8")
    current = render(page)
    if current == page:
        return 0
    if args.check:
        print(
            f"{args.page} is not current: run python -m motia.settings.reference", file=sys.stderr
        )
        return 1
    args.page.write_text(current, encoding="utf-8")
    print(f"wrote {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
