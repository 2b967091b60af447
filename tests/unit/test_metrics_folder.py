"""The counts `--workers` processes leave in their shared folder, added up by whichever
process answers a scrape: real files, two writers in one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motia.runtime.metrics import MetricsFolder, RunMetrics

STEP_RUN = ("Create", "api", "ok")


def total(metrics: RunMetrics, snapshots: list[dict[str, Any]]) -> int:
    line = next(
        line
        for line in metrics.render(snapshots, []).splitlines()
        if line.startswith("motia_step_runs_total{")
    )
    return int(line.rsplit(" ", 1)[1])


def test_an_answer_is_never_below_the_one_before_whichever_process_gives_it(
    tmp_path: Path,
) -> None:
    one, two = RunMetrics(), RunMetrics()
    one_folder, two_folder = MetricsFolder(tmp_path), MetricsFolder(tmp_path)
    one.runs.inc(STEP_RUN)
    two.runs.inc(STEP_RUN)
    one_folder.write(one.snapshot())
    two_folder.write(two.snapshot())
    one.runs.inc(STEP_RUN, 5)  # counted since its last periodic write
    answers = [
        total(one, one_folder.exchange(one.snapshot())),
        total(two, two_folder.exchange(two.snapshot())),
        total(one, one_folder.exchange(one.snapshot())),
    ]
    # The second process answers after the first did: it reads the first's new count.
    assert answers == [7, 7, 7]


def test_each_writer_keeps_a_file_of_its_own_in_the_same_process(tmp_path: Path) -> None:
    """A later writer (a process given the pid of one that stopped) never replaces the
    counts an earlier one left."""
    first, later = RunMetrics(), RunMetrics()
    first.runs.inc(STEP_RUN, 3)
    MetricsFolder(tmp_path).write(first.snapshot())
    later_folder = MetricsFolder(tmp_path)
    later_folder.write(later.snapshot())
    assert len(list(tmp_path.glob("*.json"))) == 2
    assert total(later, later_folder.exchange(later.snapshot())) == 3


def test_a_half_written_or_foreign_file_is_skipped(tmp_path: Path) -> None:
    metrics = RunMetrics()
    metrics.runs.inc(STEP_RUN, 2)
    (tmp_path / "broken.json").write_text('{"pid": 1, "coun')
    (tmp_path / "other.partial").write_text("not read")
    folder = MetricsFolder(tmp_path)
    assert total(metrics, folder.exchange(metrics.snapshot())) == 2
