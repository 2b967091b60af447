"""Separate `motia start` processes on one SQLite file: the scenarios every shared store
passes (events accepted on one process handled on another, a killed process's message
finished by another after its lease, cron once per tick, stream changes reaching the
WebSocket clients of another process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import shared_store_scenarios as scenarios
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


@pytest.mark.parametrize("count", [2, 3])
def test_event_accepted_on_one_process_is_handled_on_another(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    scenarios.event_accepted_on_one_process_is_handled_on_another(
        tmp_path, sqlite_env, servers, count
    )


@pytest.mark.parametrize("count", [2, 3])
def test_kill_9_mid_handler_another_process_completes_after_the_lease(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    scenarios.kill_9_mid_handler_the_other_process_completes_after_the_lease(
        tmp_path, sqlite_env, servers, count
    )


def test_one_second_cron_fires_once_per_tick_across_three_processes(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers
) -> None:
    scenarios.one_second_cron_fires_once_per_tick_across_three_processes(
        tmp_path, sqlite_env, servers
    )


@pytest.mark.async_timeout(30)
@pytest.mark.parametrize("count", [2, 3])
async def test_stream_change_on_one_process_reaches_a_websocket_client_on_another(
    tmp_path: Path, sqlite_env: dict[str, str], servers: Servers, count: int
) -> None:
    await scenarios.stream_change_on_one_process_reaches_a_websocket_client_on_another(
        tmp_path, sqlite_env, servers, count
    )
