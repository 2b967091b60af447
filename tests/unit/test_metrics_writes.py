"""The writes of one process's counts to the folder `--workers` processes share: in order,
never crossing, the last one at shutdown saying the process holds nothing any more."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from motia.http.metrics_endpoint import METRICS_DIR_ENV, MetricsEndpoint
from motia.logs import LogSink
from motia.runtime.metrics import MetricsFolder
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import write_project

STREAM = {
    "steps/board_stream.py": """
        config = {"name": "board", "schema": {"type": "object"},
                  "baseConfig": {"storageType": "default"}}
    """,
}


async def test_the_shutdown_write_waits_for_a_periodic_write_cut_off_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv(METRICS_DIR_ENV, str(folder))
    project = write_project(tmp_path / "app", STREAM)
    settings = load_settings(
        project, "start", environ={"MOTIA_METRICS_ENABLED": "1"}, state_adapter="memory"
    )
    runtime = Runtime.load(settings, sink=LogSink("error", "json", stream=io.StringIO()))
    endpoint = MetricsEndpoint(runtime)
    began = threading.Event()
    real_write = MetricsFolder.write

    def first_write_slow(self: MetricsFolder, snapshot: dict[str, Any]) -> None:
        if not began.is_set():
            began.set()
            time.sleep(0.3)  # a slow disk: the writer task is cancelled meanwhile
        real_write(self, snapshot)

    monkeypatch.setattr(MetricsFolder, "write", first_write_slow)
    await endpoint.start()
    assert await asyncio.to_thread(began.wait, 5), "the periodic write never began"
    await endpoint.stop()  # cancels the periodic write while its thread still writes
    await asyncio.sleep(0.5)  # time for a crossing write to land, had there been one
    (only,) = folder.glob("*.json")
    assert not list(folder.glob("*.partial"))
    written = json.loads(only.read_text())
    assert written["live"] == {}, written
