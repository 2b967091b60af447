"""The age of the oldest waiting message, scraped from real `motia start` processes and
parsed with Prometheus's own text parser: read from the store, so every `--workers`
process answers the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import get_fresh, post_fresh

Factory = Callable[..., ServerProcess]
AGE = "motia_queue_oldest_message_age_seconds"

# `Held` runs one job at a time per process and holds it until the test writes `release`:
# the jobs behind it wait, visible, for as long as the test wants.
STEPS = {
    "steps/enqueue_step.py": """
        config = {"type": "api", "name": "Enqueue", "method": "POST", "path": "/jobs/:id",
                  "emits": ["job"]}
        async def handler(req, ctx):
            await ctx.emit({"topic": "job", "data": {"id": req["pathParams"]["id"]}})
            return {"status": 202, "body": {}}
    """,
    "steps/held_step.py": """
        import asyncio
        from pathlib import Path
        RELEASE = Path(__file__).resolve().parent.parent / "release"
        config = {"type": "event", "name": "Held", "subscribes": ["job"], "emits": [],
                  "infrastructure": {"queue": {"concurrency": 1}}}
        async def handler(data, ctx):
            for _ in range(400):
                if RELEASE.exists():
                    return
                await asyncio.sleep(0.05)
    """,
    "steps/idle_step.py": """
        config = {"type": "event", "name": "Idle", "subscribes": ["never"], "emits": []}
        async def handler(data, ctx):
            pass
    """,
}


def gauges(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every gauge sample of the exposition, by name and labels (the parser fails on a
    malformed line)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        if family.type != "gauge":
            continue
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def age(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], step: str) -> float:
    return values[(AGE, (("subscriber", step),))]


def waiting(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], step: str) -> float:
    return values[("motia_queue_messages", (("state", "waiting"), ("subscriber", step)))]


def test_oldest_message_age_grows_while_jobs_wait_and_is_zero_once_drained(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    server = server_factory(project, "start", env={"MOTIA_METRICS_ENABLED": "1"})

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = server.client.get("/__motia/metrics")
        assert response.status_code == 200, response.text
        return gauges(response.text)

    assert age(scrape(), "Held") == 0 and age(scrape(), "Idle") == 0
    sent_at = time.time()
    for n in range(3):
        assert server.client.post(f"/jobs/{n}").status_code == 202
    # One job runs (in flight); two wait behind it, the oldest since it was sent.
    wait_for(lambda: waiting(scrape(), "Held") == 2, 10, what="two jobs waiting")
    time.sleep(1.2)
    values = scrape()
    assert 1.0 <= age(values, "Held") <= time.time() - sent_at + 0.5, values
    assert age(values, "Idle") == 0
    first = age(values, "Held")
    time.sleep(0.5)
    assert age(scrape(), "Held") >= first + 0.4  # the same message, older

    (project / "release").write_text("")
    wait_for(lambda: waiting(scrape(), "Held") == 0, 15, what="the jobs drained")
    assert age(scrape(), "Held") == 0


@pytest.mark.slow
def test_every_worker_answers_the_age_read_from_the_store(
    tmp_path: Path, redis_env: dict[str, str], servers: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    server = servers(project, "--workers", "2", env={**redis_env, "MOTIA_METRICS_ENABLED": "1"})
    sent_at = time.time()
    for n in range(4):  # one running in each process, two waiting
        assert post_fresh(server.url, f"/jobs/{n}", {}).status_code == 202

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return gauges(get_fresh(server.url, "/__motia/metrics").text)

    wait_for(lambda: waiting(scrape(), "Held") == 2, 15, what="two jobs waiting")
    time.sleep(1.0)
    answers = [scrape() for _ in range(8)]  # new connections: both processes answer
    ages = [age(a, "Held") for a in answers]
    assert all(waiting(a, "Held") == 2 for a in answers), answers
    assert all(0.9 <= a <= time.time() - sent_at + 0.5 for a in ages), ages
    assert max(ages) - min(ages) < 1.0, ages  # one store, read at slightly different times
    (project / "release").write_text("")
    wait_for(lambda: age(scrape(), "Held") == 0, 15, what="the jobs drained")
