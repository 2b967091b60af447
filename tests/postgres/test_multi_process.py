"""Several `motia start` processes sharing one PostgreSQL database: events accepted on one
process are handled on another, a killed worker's message is finished by another after its
lease, a 1-second cron fires once per tick in total, stream changes (also over the NOTIFY
payload limit) reach WebSocket clients of every process. The scenarios are the Redis
suite's (tests/shared_store_scenarios.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import shared_store_scenarios as scenarios
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def test_event_accepted_on_one_process_is_handled_on_another(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    scenarios.event_accepted_on_one_process_is_handled_on_another(tmp_path, pg_env, servers)


def test_kill_9_mid_handler_the_other_process_completes_after_the_lease(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    scenarios.kill_9_mid_handler_the_other_process_completes_after_the_lease(
        tmp_path, pg_env, servers
    )


def test_one_second_cron_fires_once_per_tick_across_three_processes(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    scenarios.one_second_cron_fires_once_per_tick_across_three_processes(tmp_path, pg_env, servers)


@pytest.mark.async_timeout(30)
async def test_stream_change_on_one_process_reaches_a_websocket_client_on_another(
    tmp_path: Path, pg_env: dict[str, str], servers: Servers
) -> None:
    await scenarios.stream_change_on_one_process_reaches_a_websocket_client_on_another(
        tmp_path, pg_env, servers
    )
