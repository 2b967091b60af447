"""Dead letters on PostgreSQL from the command line: `motia dlq list` in a process of its
own sees what a server dead-lettered, and `motia dlq redrive` puts it back in the queue
for the running servers to handle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.postgres.support import FRAGILE_FILES
from tests.redis.support import PROJECT, handled_ids

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def dlq(project: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "motia", "dlq", *args, "-d", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=project,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_dlq_list_and_redrive_from_the_command_line_reach_the_running_servers(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    project = write_project(tmp_path / "jobs", {**PROJECT, **FRAGILE_FILES})
    (project / "broken").write_text("")
    a = servers(project, env=pg_env)
    servers(project, env=pg_env)

    response = a.client.post("/jobs", json={"id": "job-9"})
    assert response.status_code == 202, response.text
    listed = wait_for(
        lambda: [json.loads(line) for line in dlq(project, pg_env, "list", "--json").splitlines()],
        15,
        what="the dead letter listed",
    )
    print(listed)
    [letter] = listed
    assert letter["step"] == "Fragile" and letter["data"] == {"id": "job-9"}, letter
    assert not (project / ".motia").exists(), "the command line opened a SQLite file"

    (project / "broken").unlink()
    assert dlq(project, pg_env, "redrive", "--all").strip() == "redriven: 1"
    wait_for(lambda: "job-9" in handled_ids(project), 15, what="the redriven job handled")
    assert dlq(project, pg_env, "list").strip() == "no dead letters"
