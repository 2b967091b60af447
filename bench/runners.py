"""Figure 8: steps in JavaScript, TypeScript and Ruby, which run in long-lived runner
processes, against the same trivial step in Python, measured in the same run: invocation
overhead (publish to handler start) and invocations per second.

    .venv/bin/python bench/runners.py                 # full run, about 1 minute
    .venv/bin/python bench/runners.py --quick         # about 15 s
    .venv/bin/python bench/runners.py --json bench/results/runners.json

The project is bench/projects/runners: one event step per language, each subscribed to its
own topic, each recording when its handler starts with one `state.set` context call. The
measuring child runs `Runtime` in process on the memory queue and uvloop, as figure 3 of
bench/run.py does, pinned to CPU 0 (this harness waits on CPU 1). The runners it starts are
measured twice, in turn: on CPU 0 with the server, then moved to CPU 1 (`--runner-cpu`).
The project's node_modules is a link to examples/multi-language/node_modules, made here
(after `npm ci` there when it is missing). See bench/README.md, figure 8.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import procs  # noqa: E402 - the children, pinning and percentiles of bench/run.py too
from procs import can_pin, cpu_busy, percentile, run_in_loop, run_json_child  # noqa: E402


def pinned(argv: Sequence[str], cpu: int) -> list[str]:
    return procs.pinned(argv, str(cpu))

REPO = BENCH.parent
PROJECT = BENCH / "projects" / "runners"
EXAMPLE = REPO / "examples" / "multi-language"
SERVER_CPU = 0
CLIENT_CPU = 1
CLASSIC_MS = 300.0  # classic Motia: one process start per JavaScript step invocation


@dataclass(frozen=True)
class Lang:
    key: str  # topic bench.<key>, state group bench-<key>
    label: str
    step: str  # the step's name, which is its queue subscriber
    runner: str | None  # the runner it needs (None: in process)


LANGS = (
    Lang("py", "Python", "BenchPy", None),
    Lang("js", "JavaScript", "BenchJs", "node"),
    Lang("ts", "TypeScript", "BenchTs", "node"),
    Lang("rb", "Ruby", "BenchRb", "ruby"),
)
BY_KEY = {lang.key: lang for lang in LANGS}

# --------------------------------------------------------------------------------------
# Child processes: killed on every way out, and the runners they started with them.
# --------------------------------------------------------------------------------------

_PID_FILES: list[Path] = []


def _kill_runners() -> None:
    """Runners run in sessions of their own (the server starts them so), so killing the
    measuring child's group misses them. They exit when their socket closes; this makes
    sure, by the pids the child wrote down."""
    for pid_file in _PID_FILES:
        with contextlib.suppress(OSError, ValueError):
            for pid in (int(x) for x in pid_file.read_text().split()):
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"runner.mjs" in cmdline or b"runner.rb" in cmdline:
                        os.kill(pid, signal.SIGKILL)


def _kill_all() -> None:
    procs.kill_all()
    _kill_runners()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _kill_all()
    raise SystemExit(128 + signum)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": percentile(ordered, 50),
        "p90_ms": percentile(ordered, 90),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1],
        "mean_ms": statistics.fmean(ordered),
    }


# --------------------------------------------------------------------------------------
# The measuring child
# --------------------------------------------------------------------------------------


class Recorder:
    """Sees every handler's `state.set(group, seq, [monotonic ms, wall ms])`: it wraps the
    runtime's state adapter, so the Python step's call and the runners' calls (answered by
    the server with the same `ctx.state`) all land here, after the value is stored."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._want: tuple[str, str | None, int] | None = None  # group, key or None, count
        self._future: asyncio.Future[Any] | None = None

    def install(self, adapter: Any) -> None:
        original = adapter.set

        async def recording_set(group_id: str, key: str, value: Any) -> Any:
            result = await original(group_id, key, value)
            self._record(group_id, key, value)
            return result

        adapter.set = recording_set

    def _record(self, group: str, key: str, value: Any) -> None:
        arrived = time.monotonic() * 1000
        count = self.counts[group] = self.counts.get(group, 0) + 1
        want, future = self._want, self._future
        if want is None or future is None or future.done() or want[0] != group:
            return
        if want[1] is None:
            if count >= want[2]:
                future.set_result(arrived)
        elif want[1] == key:
            future.set_result((value, arrived))

    def expect_key(self, group: str, key: str) -> asyncio.Future[Any]:
        self._future = asyncio.get_running_loop().create_future()
        self._want = (group, key, 0)
        return self._future

    def expect_count(self, group: str, count: int) -> asyncio.Future[Any]:
        self._future = asyncio.get_running_loop().create_future()
        self._want = (group, None, count)
        return self._future


def _runner_pids(runtime: Any) -> dict[str, int]:
    return {name: sup.pid for name, sup in runtime.runners.supervisors.items() if sup.pid}


def _move_to_cpu(pid: int, cpu: int) -> int:
    """Pin every thread of `pid` (threads it starts later inherit the mask); returns how many."""
    moved = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            os.sched_setaffinity(int(task.name), {cpu})
            moved += 1
    return moved


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _switches(pid: int) -> int:
    """Context switches of the threads `pid` has now (those that ended are not counted)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:  # voluntary_ and nonvoluntary_
                    total += int(line.split()[1])
    return total


async def _idle(runtime: Any, step: str, timeout: float = 10.0) -> None:
    """Until the step's queue holds nothing: its invocation returned and was acknowledged."""
    deadline = time.monotonic() + timeout
    spins = 0
    while True:
        stats = await runtime.queue.stats(step)
        if stats.waiting + stats.in_flight == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{step}: the queue still holds {stats} after {timeout:g} s")
        spins += 1
        await asyncio.sleep(0 if spins < 20 else 0.0005)


async def _measure(opts: dict[str, Any]) -> dict[str, Any]:
    from motia.logs import LogSink
    from motia.runtime.runtime import Runtime
    from motia.settings import load_settings

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="motia-bench-runners-") as data_dir, \
            open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - before the loop does any work
        settings = load_settings(PROJECT, "start", environ={}, state_adapter="memory",
                                 queue_adapter="memory", data_dir=Path(data_dir))
        loaded = time.perf_counter()
        runtime = Runtime.load(settings, sink=LogSink(settings.log_level, settings.log_format,
                                                      stream=devnull))
        started = time.perf_counter()
        await runtime.start()
        result["load_s"] = started - loaded
        result["start_s"] = time.perf_counter() - started
        try:
            pids = _runner_pids(runtime)
            pid_list = " ".join(str(p) for p in pids.values())
            Path(opts["pid_file"]).write_text(pid_list)  # noqa: ASYNC240 - before measuring
            result["runner_pids"] = pids
            result["server_affinity"] = sorted(os.sched_getaffinity(0))
            result["concurrency"] = settings.event_concurrency
            result.update(await Measure(runtime, pids, opts).run())
        finally:
            await runtime.stop()
    return result


class Measure:
    """Both measurements for every language, in rounds; in each round once per runner
    placement (the runners' threads are moved between CPUs), so drift of the machine hits
    every language and placement alike."""

    def __init__(self, runtime: Any, pids: dict[str, int], opts: dict[str, Any]) -> None:
        self.runtime = runtime
        self.pids = pids
        self.opts = opts
        self.langs = [BY_KEY[key] for key in opts["langs"]]
        self.recorder = Recorder()
        self.recorder.install(runtime.state)
        self.seqs = dict.fromkeys(opts["langs"], 0)

    def event(self, lang: Lang) -> Any:
        from motia.clock import new_trace_id
        from motia.runtime.events import Event

        self.seqs[lang.key] += 1
        return Event(topic=f"bench.{lang.key}", data={"seq": self.seqs[lang.key]},
                     trace_id=new_trace_id(), flows=["bench"])

    def place(self, cpu: int | None) -> None:
        if cpu is not None:
            for pid in self.pids.values():
                _move_to_cpu(pid, cpu)

    async def hops(self, count: int, samples: dict[str, dict[str, list[float]]] | None) -> None:
        """`count` sequential single publishes per language, the languages interleaved;
        each waits until its invocation finished before the next publish."""
        runtime, recorder = self.runtime, self.recorder
        for _ in range(count):
            for lang in self.langs:
                event = self.event(lang)
                arrival = recorder.expect_key(f"bench-{lang.key}", str(event.data["seq"]))
                sent_wall = time.time() * 1000
                sent = time.monotonic() * 1000
                await runtime.bus.publish([event])
                async with asyncio.timeout(10):
                    (handler_mono, handler_wall), arrived = await arrival
                await _idle(runtime, lang.step)
                if samples is not None:
                    got = samples[lang.key]
                    got["start"].append(handler_mono - sent)
                    got["wall"].append(handler_wall - sent_wall)
                    got["call"].append(arrived - sent)
                    got["done"].append(time.monotonic() * 1000 - sent)

    async def burst(self, lang: Lang, n: int) -> dict[str, Any]:
        """`n` events published at once in chunks; until every handler finished."""
        runtime, chunk = self.runtime, self.opts["chunk"]
        group = f"bench-{lang.key}"
        events = [self.event(lang) for _ in range(n)]
        done = self.recorder.expect_count(group, self.recorder.counts.get(group, 0) + n)
        me, runner = os.getpid(), self.pids.get(lang.runner) if lang.runner else None
        cpu0 = _proc_cpu_s(me), _proc_cpu_s(runner) if runner else 0.0
        switches0 = _switches(me), _switches(runner) if runner else 0
        t0 = time.perf_counter()
        for i in range(0, n, chunk):
            await runtime.bus.publish(events[i:i + chunk])
        t_published = time.perf_counter()
        async with asyncio.timeout(self.opts["burst_timeout"]):
            await done
        t_called = time.perf_counter()
        await _idle(runtime, lang.step, self.opts["burst_timeout"])
        t_done = time.perf_counter()
        cpu1 = _proc_cpu_s(me), _proc_cpu_s(runner) if runner else 0.0
        switches1 = _switches(me), _switches(runner) if runner else 0
        await runtime.state.clear(group)
        return {
            "events": n,
            "per_s": n / (t_done - t0),
            "finished_s": t_done - t0,
            "last_call_s": t_called - t0,
            "publish_s": t_published - t0,
            "server_cpu_us_per_event": (cpu1[0] - cpu0[0]) / n * 1e6,
            "runner_cpu_us_per_event": (cpu1[1] - cpu0[1]) / n * 1e6,
            "server_switches_per_event": (switches1[0] - switches0[0]) / n,
            "runner_switches_per_event": (switches1[1] - switches0[1]) / n,
        }

    async def run(self) -> dict[str, Any]:
        opts, langs = self.opts, self.langs
        placements: list[tuple[str, int | None]] = [(p[0], p[1]) for p in opts["placements"]]
        rounds = opts["rounds"]
        per_round = -(-opts["latency_count"] // rounds)
        samples: dict[str, dict[str, dict[str, list[float]]]] = {
            name: {lang.key: {"start": [], "wall": [], "call": [], "done": []} for lang in langs}
            for name, _ in placements
        }
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {lang.key: [] for lang in langs} for name, _ in placements
        }
        for _name, cpu in placements:  # warm-up (the JITs), once per placement
            self.place(cpu)
            await self.hops(opts["latency_warmup"], None)
            for lang in langs:
                await self.burst(lang, opts["throughput_warmup"])
        for _ in range(rounds):
            for name, cpu in placements:
                self.place(cpu)
                await self.hops(per_round, samples[name])
                for lang in langs:
                    runs[name][lang.key].append(await self.burst(lang, opts["throughput_count"]))
        out: dict[str, Any] = {}
        for name, cpu in placements:
            latency, throughput = {}, {}
            for lang in langs:
                got, mine = samples[name][lang.key], runs[name][lang.key]
                latency[lang.key] = {
                    "count": len(got["start"]),
                    **_summary(got["start"]),
                    "wall_clock": _summary(got["wall"]),
                    "to_context_call": _summary(got["call"]),
                    "to_queue_empty": _summary(got["done"]),
                }
                throughput[lang.key] = {
                    "per_s": statistics.median(r["per_s"] for r in mine),
                    "best_per_s": max(r["per_s"] for r in mine),
                    "server_cpu_us_per_event": statistics.median(
                        r["server_cpu_us_per_event"] for r in mine),
                    "runner_cpu_us_per_event": statistics.median(
                        r["runner_cpu_us_per_event"] for r in mine),
                    "runner_switches_per_event": statistics.median(
                        r["runner_switches_per_event"] for r in mine),
                    "runs": mine,
                }
            out[name] = {"runner_cpu": cpu, "latency": latency, "throughput": throughput}
        for lang in langs:
            await self.runtime.state.clear(f"bench-{lang.key}")
        return {"placements": out}


def worker(opts: dict[str, Any]) -> None:
    print(json.dumps(run_in_loop(_measure(opts))), flush=True)


# --------------------------------------------------------------------------------------
# The harness
# --------------------------------------------------------------------------------------


def ensure_node_modules() -> str:
    """Link the project's node_modules to the example's (after `npm ci` there if needed)."""
    source = EXAMPLE / "node_modules"
    if not (source / "esbuild" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("bench: TypeScript needs esbuild from examples/multi-language; "
                             "npm is not installed (apt-get install npm)")
        print("  npm ci in examples/multi-language (its node_modules is missing)", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXAMPLE, check=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    link = PROJECT / "node_modules"
    if link.is_symlink() and link.resolve() == source.resolve():
        return "kept"
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        return "a folder of its own"  # someone installed there: use it
    link.symlink_to(os.path.relpath(source, PROJECT), target_is_directory=True)
    return "linked"


def binaries(langs: list[Lang]) -> dict[str, str]:
    found: dict[str, str] = {}
    for runner, env in (("node", "MOTIA_NODE"), ("ruby", "MOTIA_RUBY")):
        if not any(lang.runner == runner for lang in langs):
            continue
        path = shutil.which(os.environ.get(env) or runner)
        if path is None:
            raise SystemExit(f"bench: `{runner}` is not installed (or pass --langs without it)")
        version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=30, check=False).stdout.strip()
        found[runner] = version.splitlines()[0] if version else "?"
    return found


def run_worker(opts: dict[str, Any], timeout: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(prefix="motia-bench-runners-", suffix=".pids",
                                     delete=False) as handle:
        pid_file = Path(handle.name)
    _PID_FILES.append(pid_file)
    opts = {**opts, "pid_file": str(pid_file)}
    argv = pinned([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(opts)],
                  SERVER_CPU)

    def clean_up() -> None:
        _kill_runners()
        pid_file.unlink(missing_ok=True)
        _PID_FILES.remove(pid_file)

    return run_json_child(argv, "the measuring child", timeout, REPO, after=clean_up)


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


PLACEMENTS = {
    "same": f"runners on CPU {SERVER_CPU} with the server",
    "other": f"runners on CPU {CLIENT_CPU}, the server on CPU {SERVER_CPU}",
    "unpinned": "nothing pinned",
}


def report(placement: str, measured: dict[str, Any], langs: list[Lang]) -> dict[str, Any]:
    """Print one placement's table and summary lines; returns its figures for the JSON."""
    lat, thr = measured["latency"], measured["throughput"]
    py_p50 = lat["py"]["p50_ms"] if "py" in lat else None
    py_rate = thr["py"]["per_s"] if "py" in thr else None
    print(f"\n8. runners: {PLACEMENTS[placement]}")
    print(f"{'':<12}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'p50 vs Py':>11}"
          f"{'inv/s':>10}{'vs Py':>8}{'server us':>11}{'runner us':>11}")
    figures: dict[str, Any] = {}
    for lang in langs:
        la, th = lat[lang.key], thr[lang.key]
        baseline = lang.key == "py"
        lat_ratio = la["p50_ms"] / py_p50 if py_p50 and not baseline else None
        rate_ratio = th["per_s"] / py_rate if py_rate and not baseline else None
        runner_us = th["runner_cpu_us_per_event"] if lang.runner else None
        print(f"{lang.label:<12}{_ms(la['p50_ms']):>9}{_ms(la['p99_ms']):>9}"
              f"{_ms(la['mean_ms']):>9}{(f'{lat_ratio:.1f}x' if lat_ratio else '-'):>11}"
              f"{th['per_s']:>10,.0f}{(f'{rate_ratio:.2f}x' if rate_ratio else '-'):>8}"
              f"{th['server_cpu_us_per_event']:>11.0f}"
              f"{(f'{runner_us:.0f}' if runner_us is not None else '-'):>11}")
        fig: dict[str, Any] = {
            "language": lang.label,
            "p50_ms": la["p50_ms"], "p99_ms": la["p99_ms"], "mean_ms": la["mean_ms"],
            "wall_clock_p50_ms": la["wall_clock"]["p50_ms"],
            "p50_vs_python": lat_ratio,
            "invocations_per_s": th["per_s"],
            "rate_vs_python": rate_ratio,
            "server_cpu_us_per_invocation": th["server_cpu_us_per_event"],
            "runner_cpu_us_per_invocation": runner_us,
        }
        if lang.runner == "node":
            fig["vs_classic"] = CLASSIC_MS / la["p50_ms"]
            fig["target_p50_1ms"] = "PASS" if la["p50_ms"] <= 1.0 else "FAIL"
            fig["target_100x_classic"] = "PASS" if fig["vs_classic"] >= 100 else "FAIL"
        figures[lang.key] = fig
    for lang in langs:
        fig = figures[lang.key]
        line = f"  {lang.label}: p50 {_ms(fig['p50_ms'])} ms"
        if lang.key == "py":
            line += f" (the baseline); {fig['invocations_per_s']:,.0f} invocations/s"
        else:
            if fig["p50_vs_python"]:
                line += f" = {fig['p50_vs_python']:.1f}x Python"
            line += f"; {fig['invocations_per_s']:,.0f} invocations/s"
            if fig["rate_vs_python"]:
                line += f" = {fig['rate_vs_python']:.2f}x Python"
        if lang.runner == "node":
            line += (f"; {fig['vs_classic']:,.0f}x faster than classic Motia's "
                     f"~{CLASSIC_MS:.0f} ms (targets p50 <= 1 ms: {fig['target_p50_1ms']}, "
                     f">= 100x: {fig['target_100x_classic']})")
        print(line)
    return figures


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, 1 round (about 15 s)")
    parser.add_argument("--langs", default="py,js,ts,rb",
                        help="languages to measure (default py,js,ts,rb; py is the baseline)")
    parser.add_argument("--latency-count", type=int, default=None,
                        help="measured sequential publishes per language (3000, quick 1000)")
    parser.add_argument("--latency-warmup", type=int, default=None,
                        help="sequential publishes per language before measuring (300, quick 100)")
    parser.add_argument("--throughput-count", type=int, default=None,
                        help="events per language per throughput run (10000, quick 5000)")
    parser.add_argument("--throughput-warmup", type=int, default=None,
                        help="events per language before the throughput runs (1000, quick 500)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="throughput runs per language and placement, interleaved, median "
                        "reported; the sequential publishes are spread over them (5, quick 1)")
    parser.add_argument("--chunk", type=int, default=100,
                        help="events per bus.publish call in the throughput runs (100)")
    parser.add_argument("--runner-cpu", choices=("both", "same", "other"), default="both",
                        help="where the runners run: on CPU 0 with the server (same), on CPU 1 "
                        "(other), or both placements in turn (both, the default)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to this long for other work on the machine to stop")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        worker(json.loads(args.worker))
        return 0
    keys = [k.strip() for k in args.langs.split(",") if k.strip()]
    if unknown := [k for k in keys if k not in BY_KEY]:
        raise SystemExit(f"bench: unknown --langs {unknown}; choose from py, js, ts, rb")
    langs = [lang for lang in LANGS if lang.key in keys]  # Python first: the baseline
    versions = binaries(langs)
    atexit.register(_kill_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    pin = can_pin()
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})  # keep this harness off the server's CPU
    opts: dict[str, Any] = {
        "langs": [lang.key for lang in langs],
        "latency_count": args.latency_count or (1000 if args.quick else 3000),
        "latency_warmup": args.latency_warmup or (100 if args.quick else 300),
        "throughput_count": args.throughput_count or (5000 if args.quick else 10000),
        "throughput_warmup": args.throughput_warmup or (500 if args.quick else 1000),
        "rounds": args.rounds or (1 if args.quick else 5),
        "chunk": max(1, args.chunk),
        "placements": ([(name, cpu) for name, cpu in (("same", SERVER_CPU), ("other", CLIENT_CPU))
                        if args.runner_cpu in ("both", name)] if pin else [("unpinned", None)]),
        "burst_timeout": 60.0,
    }
    node_modules = ensure_node_modules() if any(lang.key == "ts" for lang in langs) else "-"
    if args.wait_idle > 0:
        deadline = time.monotonic() + args.wait_idle
        while (busy := cpu_busy(2.0)) > 0.25 and time.monotonic() < deadline:
            print(f"  waiting for the machine to settle ({busy:.0%} busy)", flush=True)
    busy_before = cpu_busy(1.0)
    places = ", then ".join(PLACEMENTS[name] for name, _ in opts["placements"])
    print(f"[8] runners: {', '.join(lang.label for lang in langs)}; per language and placement "
          f"{opts['latency_count']} sequential publishes (after {opts['latency_warmup']}) and "
          f"{opts['rounds']} x {opts['throughput_count']} events in chunks of {opts['chunk']}; "
          f"server on CPU {SERVER_CPU if pin else '-'}, {places}, in {opts['rounds']} "
          f"round(s); machine {busy_before:.0%} busy", flush=True)
    started = time.monotonic()
    result = run_worker(opts, timeout=600.0)
    elapsed = time.monotonic() - started
    busy_after = cpu_busy(1.0)
    figures = {name: report(name, result["placements"][name], langs)
               for name, _ in opts["placements"]}
    print("  (latency: publish -> handler start, CLOCK_MONOTONIC in both processes; server us, "
          "runner us: CPU microseconds per invocation in the throughput runs)")
    print(f"\nmeasured in {elapsed:.0f} s ({result['loop']}); runners started in "
          f"{result['start_s']:.2f} s; machine {busy_before:.0%} busy before, {busy_after:.0%} "
          "after (other work on the box makes the figures noisy; compare ratios of one run)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "figure": 8,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "runtimes": versions, "busy_before": busy_before,
                        "busy_after": busy_after, "pinned": pin},
            "options": opts,
            "node_modules": node_modules,
            "elapsed_s": elapsed,
            "figures": figures,
            "details": result,
        }, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
