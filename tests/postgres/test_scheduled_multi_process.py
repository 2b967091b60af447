"""Scheduled emits with two `motia start` processes sharing one PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import scheduled_scenarios as scenarios

pytestmark = pytest.mark.slow


def test_scheduled_emits_fire_once_across_two_processes(
    tmp_path: Path, pg_env: dict[str, str], servers: scenarios.Servers
) -> None:
    scenarios.fire_once_across_two_processes(tmp_path, pg_env, servers)
