"""FIFO across processes on PostgreSQL: the messages of one group run one at a time and in
the order they were emitted, whichever process takes them, while groups run in parallel on
both processes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.postgres.support import FIFO_FILES
from tests.redis.support import PROJECT, read_runs

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]

ACCOUNTS = ("acc-a", "acc-b", "acc-c")
PER_ACCOUNT = 8


def test_each_group_runs_in_order_and_one_at_a_time_across_two_processes(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "ledger", {**PROJECT, **FIFO_FILES})
    a = servers(project, env=pg_env)
    b = servers(project, env=pg_env)
    for seq in range(PER_ACCOUNT):
        for account in ACCOUNTS:
            response = a.client.post("/entries", json={"account": account, "seq": seq})
            assert response.status_code == 202, response.text
    total = len(ACCOUNTS) * PER_ACCOUNT
    wait_for(lambda: len(read_runs(project, "end")) >= total, 30, what="every entry booked")

    runs = read_runs(project)
    by_account: dict[str, list[tuple[float, str, int, int]]] = defaultdict(list)
    for run in runs:
        account, seq = run.ident.split("/")
        by_account[account].append((run.at, run.kind, int(seq), run.pid))
    pids = {run.pid for run in runs}
    print(f"processes that booked entries: {pids}")
    # one group at a time per process (concurrency 1): the other process takes its share
    assert pids == {a.process.pid, b.process.pid}, pids
    for account in ACCOUNTS:
        events = sorted(by_account[account])
        kinds = [kind for _at, kind, _seq, _pid in events]
        # one at a time: begin, end, begin, end, ... never two begins in a row
        assert kinds == ["begin", "end"] * PER_ACCOUNT, (account, events)
        order = [seq for _at, kind, seq, _pid in events if kind == "begin"]
        assert order == list(range(PER_ACCOUNT)), (account, order)
    assert len(read_runs(project, "end")) == total, "an entry ran twice"
