"""The peer benchmark (bench/fig_peers.py) runs its Motia part end to end with a tiny count,
reads its pins and ranks the peers; no peer is installed and no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def bench_modules() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        import fig_peers
        import peers_env

        yield fig_peers, peers_env
    finally:
        sys.path.remove(str(BENCH))


def test_the_in_process_motia_run_handles_every_event_and_times_every_hop(
    tmp_path: Path,
) -> None:
    argv = [
        sys.executable,
        str(BENCH / "run.py"),
        "--peers-worker",
        "--queue",
        "sqlite",
        "--data-dir",
        str(tmp_path),
        "--peers-count",
        "300",
        "--peers-hop-count",
        "30",
        "--peers-rate",
        "500",
        "--peers-max-seconds",
        "20",
    ]
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["system"] == "motia-sqlite"
    assert (result["handled"], result["complete"]) == (300, True)
    assert result["hop"]["count"] == 30
    assert 0 < result["hop"]["p50_ms"] <= result["hop"]["p99_ms"]
    assert (tmp_path / "motia.db").is_file()  # the durable queue really was SQLite
    counted = sum(
        int.from_bytes(p.read_bytes()[:8], "little") for p in (tmp_path / "counts").glob("count-*")
    )
    assert counted == 200 + 30 + 300  # warm-up, hops, throughput: each handled once


def test_every_peer_has_a_group_of_exact_pins(bench_modules: Any) -> None:
    fig_peers, peers_env = bench_modules
    groups = peers_env.requirement_groups()
    peers = {s.split("-")[0] for s in fig_peers.SYSTEMS if not s.startswith("motia")}
    assert peers == set(groups) == {"celery", "dramatiq", "arq", "rq", "huey", "dbos", "fastapi"}
    for group, pins in groups.items():
        assert pins, group
        assert all("==" in pin for pin in pins), (group, pins)


def test_a_requirement_outside_any_group_is_refused_with_the_file_named(
    bench_modules: Any, tmp_path: Path
) -> None:
    _fig, peers_env = bench_modules
    file = tmp_path / "reqs.txt"
    file.write_text("celery==5.7.0\n## celery\n")
    with pytest.raises(RuntimeError, match=r"reqs\.txt: 'celery==5\.7\.0' comes before"):
        peers_env.requirement_groups(file)


def test_motia_is_compared_with_the_fastest_peer_and_the_lowest_hop(bench_modules: Any) -> None:
    fig_peers, _env = bench_modules

    def run(system: str, rate: float, p50: float) -> dict[str, Any]:
        return {
            "system": system,
            "events_per_s": rate,
            "complete": True,
            "handled": 1,
            "events": 1,
            "hop": {"p50_ms": p50, "p99_ms": p50 * 2},
        }

    rows = fig_peers.summarize(
        {
            "motia-sqlite": [
                run("motia-sqlite", 900, 0.5),
                run("motia-sqlite", 1100, 0.3),
                run("motia-sqlite", 1000, 0.4),
            ],
            "celery": [run("celery", 400, 2.0)],
            "huey-redis": [run("huey-redis", 2000, 0.8)],
        }
    )
    assert rows["motia-sqlite"]["events_per_s"] == 1000
    assert (rows["motia-sqlite"]["min"], rows["motia-sqlite"]["max"]) == (900, 1100)
    figures = {f.key: f for f in fig_peers.peer_figures(rows, {}, {})}
    rate = figures["peers_motia_sqlite_events_per_s"]
    assert (rate.baseline, rate.baseline_label, rate.ratio) == (2000, "best peer: huey-redis", 0.5)
    hop = figures["peers_motia_sqlite_hop_p50_ms"]
    assert (hop.baseline, hop.ratio) == (0.8, 0.4 / 0.8)
