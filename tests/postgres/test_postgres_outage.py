"""PostgreSQL going away: a restart while requests flow loses nothing that was accepted and
does not take the server down; a database that cannot be reached at startup is a clear
error naming host, port and database; the health endpoint reports it while it is down.
The restarts use a cluster of the test's own (`own_postgres`), never the shared server."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, free_port, wait_for, write_project
from tests.outage_scenarios import restart_under_traffic
from tests.postgres.conftest import OwnPostgres, wait_postgres
from tests.redis.support import PROJECT, handled_ids

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def own_env(server: OwnPostgres) -> dict[str, str]:
    return {"MOTIA_DATABASE_URL": server.url, "MOTIA_DATABASE_SCHEMA": "outage"}


def health(server: ServerProcess) -> httpx.Response:
    """Readiness, which follows the store (liveness does not: see below)."""
    return server.client.get("/__motia/ready", timeout=10)


def test_postgres_restart_while_traffic_flows_loses_no_accepted_event(
    tmp_path: Path, own_postgres: OwnPostgres, servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, env=own_env(own_postgres))

    def start() -> None:
        own_postgres.start()
        wait_postgres(own_postgres)

    restart_under_traffic(
        server, project, "PostgreSQL", own_postgres.stop, start, flowing_within=15
    )


def test_startup_against_an_unreachable_database_exits_1_naming_host_port_and_database(
    tmp_path: Path, servers: Servers
) -> None:
    port = free_port()  # nobody listens here
    project = write_project(tmp_path / "shop", PROJECT)
    started = time.monotonic()
    server = servers(
        project,
        env={"MOTIA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/shopdb"},
        wait=False,
    )
    try:
        code = server.process.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after 30 s:\n{server.output()}") from None
    output = server.output()
    print(f"exited with {code} after {time.monotonic() - started:.1f} s:\n{output[-1500:]}")
    assert code == 1, output
    assert "postgresql" in output.lower(), output
    assert f"127.0.0.1:{port}" in output, output
    assert "shopdb" in output, output
    assert "Traceback" not in output, output
    assert output.count("cannot reach") == 1, output  # said once, not by each layer


def test_health_is_503_while_postgres_is_down_and_200_again_after(
    tmp_path: Path, own_postgres: OwnPostgres, servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, env=own_env(own_postgres))
    assert health(server).status_code == 200

    own_postgres.stop()
    response = wait_for(
        lambda: (r := health(server)).status_code == 503 and r,
        10,
        what="health 503 with PostgreSQL down",
    )
    body = response.json()
    print(body)
    assert body["status"] == "unavailable"
    assert f"127.0.0.1:{own_postgres.port}" in body["problem"], body
    assert server.client.get("/__motia/health").status_code == 200  # alive all the while

    own_postgres.start()
    wait_for(lambda: health(server).status_code == 200, 20, what="health 200 with PostgreSQL back")
    response = server.client.post("/orders", json={"id": "after-outage"})
    assert response.status_code == 201, response.text
    wait_for(lambda: "after-outage" in handled_ids(project), 10, what="the event handled")
    assert server.process.poll() is None
