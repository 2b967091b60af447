"""A file replaced while others read it is always whole."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from motia.files import replace_atomically


def test_readers_never_see_a_partial_file_and_no_temporary_is_left(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "layout.json"
    replace_atomically(target, json.dumps({"n": -1}))
    stop = threading.Event()
    seen: list[int] = []
    broken: list[str] = []

    def read() -> None:
        while not stop.is_set():
            text = target.read_text(encoding="utf-8")
            try:
                seen.append(json.loads(text)["n"])
            except ValueError:
                broken.append(text)

    def write(start: int) -> None:
        for n in range(start, start + 300):
            replace_atomically(target, json.dumps({"n": n, "pad": "x" * 4096}))

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(k * 1000,)) for k in range(2)]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stop.set()
    reader.join()

    assert broken == []
    assert seen
    assert json.loads(target.read_text())["n"] in {299, 1299}
    assert [p.name for p in target.parent.iterdir()] == ["layout.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "layout.json"
    replace_atomically(target, "old")
    with pytest.raises(UnicodeEncodeError):
        replace_atomically(target, "\ud800")  # not encodable: the write fails midway
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["layout.json"]
