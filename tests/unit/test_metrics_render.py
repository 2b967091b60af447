"""The Prometheus text of the run metrics: sums over processes, cumulative buckets, escaping."""

from __future__ import annotations

from motia.runtime.metrics import Gauge, RunMetrics


def test_snapshots_of_several_processes_add_up_with_cumulative_buckets() -> None:
    one, two = RunMetrics(), RunMetrics()
    one.runs.inc(("Create", "api", "ok"))
    two.runs.inc(("Create", "api", "ok"), 2)
    one.run_seconds.observe(("Create", "api"), 0.001)  # on a bound: counts as <= it
    two.run_seconds.observe(("Create", "api"), 100.0)  # above every bound
    text = one.render([one.snapshot(), two.snapshot()], [])
    lines = text.splitlines()
    assert 'motia_step_runs_total{step="Create",kind="api",outcome="ok"} 3' in lines
    assert 'motia_step_run_duration_seconds_bucket{step="Create",kind="api",le="0.001"} 1' in lines
    assert 'motia_step_run_duration_seconds_bucket{step="Create",kind="api",le="60"} 1' in lines
    assert 'motia_step_run_duration_seconds_bucket{step="Create",kind="api",le="+Inf"} 2' in lines
    assert 'motia_step_run_duration_seconds_count{step="Create",kind="api"} 2' in lines
    assert 'motia_step_run_duration_seconds_sum{step="Create",kind="api"} 100.001' in lines
    assert "# TYPE motia_step_runs_total counter" in lines


def test_label_values_are_escaped_and_foreign_rows_are_skipped() -> None:
    metrics = RunMetrics()
    foreign = {"histograms": {"motia_step_run_duration_seconds": [["S", "api", 1, 2, 3]]}}
    gauge = Gauge("motia_queue_messages", "depth", ("subscriber", "state"), [(('a"b\\c', "x"), 2)])
    text = metrics.render([foreign, {"counters": {"unknown_total": [["x", 1]]}}], [gauge])
    assert 'motia_queue_messages{subscriber="a\\"b\\\\c",state="x"} 2' in text.splitlines()
    assert "unknown_total" not in text
    assert "motia_step_run_duration_seconds_bucket" not in text


def test_live_values_count_only_for_processes_that_still_run() -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    mine, theirs = RunMetrics(), RunMetrics()
    mine.stream_subscribers.inc(("board",), 2)
    theirs.stream_subscribers.inc(("board",), 5)
    theirs.cron_skips.inc(("Nightly",), 3)
    stopped = {**theirs.snapshot(), "pid": gone.pid}
    lines = mine.render([mine.snapshot(), stopped], []).splitlines()
    assert 'motia_stream_subscribers{stream="board"} 2' in lines  # not 7: that one is gone
    assert 'motia_cron_ticks_skipped_total{step="Nightly"} 3' in lines  # counters stay
