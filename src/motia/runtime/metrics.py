"""Metrics of step runs, kept in memory and shown in the Prometheus text format.

`RunMetrics` is a run hook: every run of a step (an API request, an event delivery, a cron
run) counts once by step, kind and outcome and observes its duration; API runs also count
by route, method and status. Retries and dead letters count when they happen.

With `--workers N` the processes share one listening port, so a scrape reaches any one of
them: each process writes its counts to a file of its own in a folder the processes share
(`MetricsFolder`), and the process that answers adds up every file. Files of processes
that have stopped stay, so counters never go down while the deployment runs.

The answering process writes its own file before it reads the others and answers with
exactly what the files hold: each file only grows, so every answer is at least the one
before it, whichever process gave either. (Adding its own fresh counts to the others'
older files would not be: the next scrape, answered by another process, would read this
process's older file and a counter would go down, which Prometheus reads as a restart.)
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motia.adapters.queue.base import Failure
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.steps.model import Step

Labels = tuple[str, ...]
# Seconds: from a cache hit to a slow model call.
DURATION_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


@dataclass
class Counter:
    name: str
    help: str
    labels: tuple[str, ...]
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount


@dataclass
class Histogram:
    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = DURATION_BUCKETS
    # labels -> [count in each bucket (not cumulative) and above the last, sum]
    values: dict[Labels, list[float]] = field(default_factory=dict)

    def observe(self, labels: Labels, value: float) -> None:
        row = self.values.get(labels)
        if row is None:
            row = self.values[labels] = [0.0] * (len(self.buckets) + 2)
        row[bisect.bisect_left(self.buckets, value)] += 1
        row[-1] += value


# A run's series: (step, kind, outcome), (step, kind), and for API runs (route, method,
# status) and (route, method).
_RunLabels = tuple[Labels, Labels, Labels | None, Labels]
# Ways of ending kept with their labels (steps x kinds x outcomes x statuses: few).
LABEL_CACHE = 4096


class RunMetrics(RunHooks):
    def __init__(self) -> None:
        self._labels: dict[tuple[Step, str, str, int | None], _RunLabels] = {}
        self.runs = Counter(
            "motia_step_runs_total",
            "Step runs by step, kind (api, event, cron) and outcome",
            ("step", "kind", "outcome"),
        )
        self.run_seconds = Histogram(
            "motia_step_run_duration_seconds",
            "Duration of step runs, from start to outcome",
            ("step", "kind"),
        )
        self.requests = Counter(
            "motia_http_requests_total",
            "Requests answered by API steps, by route, method and status",
            ("route", "method", "status"),
        )
        self.request_seconds = Histogram(
            "motia_http_request_duration_seconds",
            "Duration of requests answered by API steps",
            ("route", "method"),
        )
        self.retries = Counter(
            "motia_event_retries_total", "Event deliveries that failed and run again", ("step",)
        )
        self.dead_letters = Counter(
            "motia_dead_letters_total", "Messages moved to the dead-letter queue", ("step",)
        )
        # Set from the runtime's own counts just before each snapshot.
        self.cron_skips = Counter(
            "motia_cron_ticks_skipped_total",
            "Cron ticks not run: the previous run was still going, or the tick could not be "
            "claimed",
            ("step",),
        )
        self.runner_restarts = Counter(
            "motia_runner_restarts_total",
            "Restarts of a language runner after its process ended",
            ("runner",),
        )
        # Set from the stream service's counts just before each snapshot.
        self.stream_changes = Counter(
            "motia_stream_changes_total",
            "Stream changes and custom events published, by stream and kind (create, "
            "update, delete, event)",
            ("stream", "kind"),
        )
        self.stream_messages = Counter(
            "motia_stream_messages_sent_total",
            "Stream frames handed to subscribed clients (WebSocket and SSE), by stream and "
            "kind (create, update, delete, event)",
            ("stream", "kind"),
        )
        # What this process holds now; the sum over the processes that are still running.
        self.stream_subscribers = Counter(
            "motia_stream_subscribers",
            "Open stream subscriptions (WebSocket and SSE clients) by stream",
            ("stream",),
        )

    @property
    def counters(self) -> list[Counter]:
        return [
            self.runs,
            self.requests,
            self.retries,
            self.dead_letters,
            self.cron_skips,
            self.runner_restarts,
            self.stream_changes,
            self.stream_messages,
        ]

    @property
    def live(self) -> list[Counter]:
        return [self.stream_subscribers]

    @property
    def histograms(self) -> list[Histogram]:
        return [self.run_seconds, self.request_seconds]

    def run_retrying(self, run: Run, delay: float, failure: Failure) -> None:
        self.retries.inc((run.step.name,))

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        self.dead_letters.inc((run.step.name,))

    def run_ended(self, run: Run, end: RunEnd) -> None:
        key = (run.step, run.kind, end.status, end.http_status)  # a reloaded step is new
        labels = self._labels.get(key)
        if labels is None:
            labels = self._labels_of(run, end)
            if len(self._labels) >= LABEL_CACHE:
                self._labels.clear()
            self._labels[key] = labels
        run_labels, step_labels, request_labels, route_labels = labels
        seconds = max(end.ended_at - run.started_at, 0.0)
        self.runs.inc(run_labels)
        self.run_seconds.observe(step_labels, seconds)
        if request_labels is not None:
            self.requests.inc(request_labels)
            self.request_seconds.observe(route_labels, seconds)

    @staticmethod
    def _labels_of(run: Run, end: RunEnd) -> _RunLabels:
        """The labels of each series a run of this kind, ending this way, counts in."""
        step = run.step
        run_labels = (step.name, run.kind, end.status)
        if run.kind != "api":
            return run_labels, (step.name, run.kind), None, ()
        api = step.api
        status = str(end.http_status) if end.http_status is not None else "none"
        return (
            run_labels,
            (step.name, run.kind),
            (api.path, api.method, status),
            (api.path, api.method),
        )

    def snapshot(self) -> dict[str, Any]:
        """What this process counted, as JSON-ready data."""
        return {
            "pid": os.getpid(),
            "counters": {c.name: [[*k, v] for k, v in c.values.items()] for c in self.counters},
            "live": {c.name: [[*k, v] for k, v in c.values.items()] for c in self.live},
            "histograms": {
                h.name: [[*k, *row] for k, row in h.values.items()] for h in self.histograms
            },
        }

    def render(self, snapshots: Iterable[dict[str, Any]], gauges: Sequence[Gauge]) -> str:
        """The Prometheus text exposition of the sum of `snapshots` and of `gauges`."""
        counters = {c.name: Counter(c.name, c.help, c.labels) for c in self.counters}
        live = {c.name: Counter(c.name, c.help, c.labels) for c in self.live}
        histograms = {
            h.name: Histogram(h.name, h.help, h.labels, h.buckets) for h in self.histograms
        }
        for snapshot in snapshots:
            for name, rows in snapshot.get("counters", {}).items():
                if name in counters:
                    width = len(counters[name].labels)
                    for row in rows:
                        counters[name].inc(tuple(row[:width]), float(row[width]))
            for name, rows in snapshot.get("histograms", {}).items():
                if name in histograms:
                    _add_histogram_rows(histograms[name], rows)
            if _running(snapshot.get("pid")):
                for name, rows in snapshot.get("live", {}).items():
                    if name in live:
                        width = len(live[name].labels)
                        for row in rows:
                            live[name].inc(tuple(row[:width]), float(row[width]))
        lines: list[str] = []
        for counter in counters.values():
            lines += _header(counter.name, counter.help, "counter")
            for labels, value in sorted(counter.values.items()):
                lines.append(f"{counter.name}{_labels(counter.labels, labels)} {_number(value)}")
        for histogram in histograms.values():
            lines += _histogram_lines(histogram)
        for held in live.values():
            lines += _header(held.name, held.help, "gauge")
            for labels, value in sorted(held.values.items()):
                lines.append(f"{held.name}{_labels(held.labels, labels)} {_number(value)}")
        for gauge in gauges:
            lines += _header(gauge.name, gauge.help, "gauge")
            for labels, value in gauge.values:
                lines.append(f"{gauge.name}{_labels(gauge.labels, labels)} {_number(value)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Gauge:
    """A value read at scrape time (queue depth, connections), the same from any process."""

    name: str
    help: str
    labels: tuple[str, ...]
    values: Sequence[tuple[Labels, float]]


def _running(pid: object) -> bool:
    """Whether the process that wrote a snapshot still runs (its live values count)."""
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _add_histogram_rows(histogram: Histogram, rows: list[list[Any]]) -> None:
    width = len(histogram.labels)
    size = len(histogram.buckets) + 2
    for row in rows:
        labels, numbers = tuple(row[:width]), row[width:]
        if len(numbers) != size:
            continue  # written with other buckets: not comparable
        mine = histogram.values.setdefault(labels, [0.0] * size)
        for index, number in enumerate(numbers):
            mine[index] += float(number)


def _histogram_lines(histogram: Histogram) -> list[str]:
    lines = _header(histogram.name, histogram.help, "histogram")
    name, names = histogram.name, histogram.labels
    bounds = [*(_number(b) for b in histogram.buckets), "+Inf"]
    for labels, row in sorted(histogram.values.items()):
        running = 0.0
        for bound, count in zip(bounds, row[:-1], strict=True):
            running += count
            bucket = _labels((*names, "le"), (*labels, bound))
            lines.append(f"{name}_bucket{bucket} {_number(running)}")
        lines.append(f"{name}_sum{_labels(names, labels)} {row[-1]!r}")
        lines.append(f"{name}_count{_labels(names, labels)} {_number(running)}")
    return lines


def _header(name: str, help_text: str, kind: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class MetricsFolder:
    """Where the processes of one `--workers` deployment leave their counts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Unique per writer, not only per pid: a later process given the pid of one that
        # stopped must not replace the counts that one left.
        self._mine = folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.json"

    def write(self, snapshot: dict[str, Any]) -> None:
        """Replace this process's file at once, so a reader never sees half of it."""
        partial = self._mine.with_suffix(".partial")
        partial.write_text(json.dumps(snapshot))
        partial.replace(self._mine)

    def exchange(self, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
        """Write this process's counts, then read every other's: the counts of the whole
        deployment as the files hold them, this process's own included."""
        self.write(snapshot)
        return [snapshot, *self.others()]

    def others(self) -> list[dict[str, Any]]:
        """The last counts of every other process, stopped ones included."""
        found: list[dict[str, Any]] = []
        for path in sorted(self.folder.glob("*.json")):
            if path == self._mine:
                continue
            with contextlib.suppress(OSError, ValueError):
                found.append(json.loads(path.read_text()))
        return found
