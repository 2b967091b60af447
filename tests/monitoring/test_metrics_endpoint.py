"""GET /__motia/metrics against real `motia` processes: what is counted, who may read it,
and the counts of every `--workers` process added up by whichever answers the scrape."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.support import get_fresh, post_fresh

Factory = Callable[..., ServerProcess]

STEPS = {
    "steps/create_step.py": """
        config = {"type": "api", "name": "Create", "method": "POST", "path": "/things/:id",
                  "emits": ["thing.created"],
                  "bodySchema": {"type": "object", "required": ["n"],
                                 "properties": {"n": {"type": "integer"}}}}
        async def handler(req, ctx):
            await ctx.emit({"topic": "thing.created", "data": req["body"]})
            return {"status": 201, "body": {"id": req["pathParams"]["id"]}}
    """,
    "steps/fail_step.py": """
        config = {"type": "event", "name": "Fail", "subscribes": ["thing.created"],
                  "emits": [],
                  "infrastructure": {"queue": {"maxRetries": 1,
                      "backoff": {"type": "fixed", "delay": 0.1, "jitter": False}}}}
        async def handler(data, ctx):
            if data["n"] < 0:
                raise RuntimeError("negative")
    """,
}


LIVE_STEPS = {
    "steps/board_stream.py": """
        config = {"name": "board", "schema": {"type": "object"},
                  "baseConfig": {"storageType": "default"}}
    """,
    "steps/slow_cron_step.py": """
        import asyncio
        config = {"type": "cron", "name": "SlowCron", "cron": "* * * * * *", "emits": []}
        async def handler(ctx):
            await asyncio.sleep(2.5)
    """,
}


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition, or None when it is not there."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.fullmatch(r"([a-z_]+)(\{(.*)\})? (\S+)", line)
        assert match is not None, f"not a Prometheus sample: {line!r}"
        if match.group(1) != name:
            continue
        found = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if found == labels:
            return float(match.group(4))
    return None


def test_dev_counts_runs_requests_retries_dead_letters_and_queue_depth(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    server = server_factory(project, "dev")
    client = server.client
    assert client.post("/things/a", json={"n": 1}).status_code == 201
    assert client.post("/things/b", json={"n": -1}).status_code == 201
    assert client.post("/things/c", json={"n": "x"}).status_code == 400

    def scraped() -> str | bool:
        response = client.get("/__motia/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = response.text
        return text if sample(text, "motia_dead_letters_total", step="Fail") == 1 else False

    text = wait_for(scraped, 15, what="the failing event dead-lettered")
    assert isinstance(text, str)
    assert sample(text, "motia_step_runs_total", step="Create", kind="api", outcome="ok") == 2
    assert sample(text, "motia_step_runs_total", step="Create", kind="api", outcome="rejected") == 1
    assert sample(text, "motia_step_runs_total", step="Fail", kind="event", outcome="ok") == 1
    assert sample(text, "motia_step_runs_total", step="Fail", kind="event", outcome="retrying") == 1
    assert sample(text, "motia_step_runs_total", step="Fail", kind="event", outcome="dead") == 1
    assert sample(text, "motia_event_retries_total", step="Fail") == 1
    route = {"route": "/things/:id", "method": "POST"}
    assert sample(text, "motia_http_requests_total", **route, status="201") == 2
    assert sample(text, "motia_http_requests_total", **route, status="400") == 1
    assert sample(text, "motia_http_request_duration_seconds_count", **route) == 3
    assert sample(text, "motia_http_request_duration_seconds_bucket", **route, le="+Inf") == 3
    assert sample(text, "motia_queue_messages", subscriber="Fail", state="dead") == 1
    assert sample(text, "motia_queue_messages", subscriber="Fail", state="waiting") == 0
    assert sample(text, "motia_store_up") == 1
    assert "# TYPE motia_step_run_duration_seconds histogram" in text
    assert re.search(r'^motia_build_info\{version="[^"]+",python="[^"]+"\} 1$', text, re.M)


def test_start_serves_metrics_only_when_enabled_and_asks_for_the_token(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    plain = server_factory(project, "start")
    assert plain.client.get("/__motia/metrics").status_code == 404

    token = "t" * 24
    guarded = server_factory(
        project, "start", env={"MOTIA_METRICS_ENABLED": "true", "MOTIA_METRICS_TOKEN": token}
    )
    refused = guarded.client.get("/__motia/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = guarded.client.get("/__motia/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = guarded.client.get("/__motia/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert "motia_build_info" in ok.text


def test_a_short_metrics_token_is_refused_at_start(tmp_path: Path) -> None:
    from tests.conftest import start_server

    project = write_project(tmp_path / "app", STEPS)
    server = start_server(
        project,
        "start",
        env={"MOTIA_METRICS_ENABLED": "true", "MOTIA_METRICS_TOKEN": "short"},
        wait=False,
    )
    try:
        code = server.process.wait(30)
    finally:
        server.stop()
    assert code != 0
    output = server.output()
    assert "MOTIA_METRICS_TOKEN" in output and "at least 16 characters" in output, output


@pytest.mark.slow
def test_workers_add_up_their_counts_whichever_answers(
    tmp_path: Path, redis_env: dict[str, str], servers: Factory
) -> None:
    project = write_project(tmp_path / "app", STEPS)
    server = servers(project, "--workers", "2", env={**redis_env, "MOTIA_METRICS_ENABLED": "1"})
    for i in range(40):
        assert post_fresh(server.url, f"/things/{i}", {"n": i}).status_code == 201

    answers: list[tuple[float, float, float]] = []

    def scraped() -> tuple[float, float, float]:
        """Requests, step runs of the event step and request durations counted, from one
        scrape on a new connection (either process answers)."""
        text = get_fresh(server.url, "/__motia/metrics").text
        route = {"route": "/things/:id", "method": "POST"}
        answer = (
            sample(text, "motia_http_requests_total", **route, status="201") or 0.0,
            sample(text, "motia_step_runs_total", step="Fail", kind="event", outcome="ok") or 0.0,
            sample(text, "motia_http_request_duration_seconds_count", **route) or 0.0,
        )
        answers.append(answer)
        return answer

    wait_for(lambda: scraped() == (40, 40, 40), 15, what="the counts of both processes")
    # Once complete, the sum stays so on every later scrape, whichever process answers;
    # and no counter went down between two scrapes on the way there.
    final = [scraped() for _ in range(6)]
    assert final == [(40, 40, 40)] * 6, answers
    for column in range(3):
        values = [answer[column] for answer in answers]
        assert values == sorted(values), answers


def test_open_stream_subscriptions_and_skipped_cron_ticks(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "app", LIVE_STEPS)
    server = server_factory(project, "dev")

    def metrics() -> str:
        return server.client.get("/__motia/metrics").text

    assert sample(metrics(), "motia_stream_subscribers", stream="board") == 0
    with (
        httpx.Client(base_url=server.url, timeout=10) as sse,
        sse.stream("GET", "/__motia/streams/board/room-1") as events,
    ):
        assert events.status_code == 200
        wait_for(
            lambda: sample(metrics(), "motia_stream_subscribers", stream="board") == 1,
            10,
            what="the SSE client counted",
        )
    wait_for(
        lambda: sample(metrics(), "motia_stream_subscribers", stream="board") == 0,
        10,
        what="the SSE client gone",
    )
    # A run takes 2.5 s and the job ticks every second: ticks are skipped, and counted.
    wait_for(
        lambda: (sample(metrics(), "motia_cron_ticks_skipped_total", step="SlowCron") or 0) >= 1,
        15,
        what="a skipped tick counted",
    )
