"""Dead letters end to end: a real server dead-letters an event, `motia dlq` and the
internal HTTP API list, show, redrive and purge it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli._support import run_motia
from tests.conftest import ServerProcess, wait_for, write_project

TOKEN = "s3cret-token-for-tests"

PROJECT = {
    "config.yml": f"workbench:\n  token: {TOKEN}\n",
    "steps/flaky_step.py": """
        from pathlib import Path

        config = {"type": "event", "name": "Flaky", "subscribes": ["job"], "emits": ["job.done"],
                  "infrastructure": {"queue": {"maxRetries": 1,
                                               "backoff": {"delay": 0.05, "jitter": False}}}}

        async def handler(data, ctx):
            ctx.logger.info("flaky ran", {"attempt": ctx.attempt, "n": data["n"]})
            if not (Path(__file__).parent.parent / "healthy").exists():
                raise RuntimeError(f"dependency down for {data['n']}")
            await ctx.emit({"topic": "job.done", "data": data})
    """,
    "steps/done_step.py": """
        config = {"type": "event", "name": "Done", "subscribes": ["job.done"]}

        async def handler(data, ctx):
            ctx.logger.info("job done", {"n": data["n"]})
    """,
}


def _dlq(project: Path, *args: str) -> str:
    result = run_motia("dlq", *args, "--dir", str(project))
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def _auth() -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}"}


def test_dead_letters_can_be_inspected_and_redriven(tmp_path: Path, server_factory) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server: ServerProcess = server_factory(project)
    for n in (1, 2):
        assert (
            server.client.post(
                "/emit", json={"topic": "job", "data": {"n": n}}, headers=_auth()
            ).status_code
            == 200
        )

    api = server.client
    dead = wait_for(
        lambda: (
            len(items := api.get("/__motia/api/dlq", headers=_auth()).json()["items"]) == 2
            and items
        )
    )
    assert isinstance(dead, list)
    first = dead[0]
    assert first["step"] == "Flaky" and first["topic"] == "job"
    assert first["attempts"] == 2  # maxRetries 1: the first run and one retry
    assert "dependency down" in first["error"] and "Traceback" in first["stack"]
    assert first["reason"] == "handler failed"

    # the CLI sees the same dead letters, straight from the project's store
    listed = [json.loads(line) for line in _dlq(project, "list", "--json").splitlines()]
    assert sorted(d["data"]["n"] for d in listed) == [1, 2]
    shown = _dlq(project, "show", first["id"])
    assert first["traceId"] in shown and "RuntimeError" in shown

    queues = {q["step"]: q for q in api.get("/__motia/api/queues", headers=_auth()).json()["items"]}
    assert {"dead": 2, "maxRetries": 1, "type": "standard"}.items() <= queues["Flaky"].items()

    # redrive one through the CLI once the dependency is back: it now succeeds
    (project / "healthy").touch()
    assert _dlq(project, "redrive", first["id"]).strip() == "redriven: 1"
    wait_for(lambda: _done(server, first["data"]["n"]))

    # redrive the other through the HTTP API
    answer = api.post("/__motia/api/dlq/redrive", json={"step": "Flaky"}, headers=_auth())
    assert answer.json() == {"redriven": 1}
    wait_for(lambda: _done(server, 1) and _done(server, 2))
    assert _dlq(project, "list").strip() == "no dead letters"


def _done(server: ServerProcess, n: int) -> bool:
    for line in server.output().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("msg") == "job done" and record.get("n") == n:
                return True
    return False


def test_purge_and_selection_rules(tmp_path: Path, server_factory) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server: ServerProcess = server_factory(project)
    server.client.post("/emit", json={"topic": "job", "data": {"n": 7}}, headers=_auth())
    wait_for(lambda: server.client.get("/__motia/api/dlq", headers=_auth()).json()["items"])
    nothing_selected = server.client.post("/__motia/api/dlq/purge", json={}, headers=_auth())
    assert nothing_selected.status_code == 400
    refused = run_motia("dlq", "purge", "--dir", str(project))
    assert refused.returncode != 0 and "--all" in refused.stderr + refused.stdout
    assert _dlq(project, "purge", "--topic", "job").strip() == "purged: 1"
    missing = run_motia("dlq", "show", "nope", "--dir", str(project))
    assert missing.returncode == 1 and "no dead letter with id 'nope'" in missing.stderr


def test_internal_api_needs_the_token_in_start(tmp_path: Path, server_factory) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server: ServerProcess = server_factory(project)
    assert server.client.get("/__motia/api/dlq").status_code == 401
    wrong = server.client.get("/__motia/api/dlq", headers={"authorization": "Bearer wrong-token"})
    assert wrong.status_code == 401
    assert server.client.get(f"/__motia/api/dlq?token={TOKEN}").status_code == 200
    assert server.client.get("/__motia/health").status_code == 200  # probes need no token


def test_internal_api_is_off_in_start_without_a_token(tmp_path: Path, server_factory) -> None:
    project = write_project(tmp_path / "project", {**PROJECT, "config.yml": "port: 3000\n"})
    server: ServerProcess = server_factory(project)
    assert server.client.get("/__motia/api/dlq").status_code == 404
    dev: ServerProcess = server_factory(project, "dev")
    assert dev.client.get("/__motia/api/dlq").json() == {"items": []}


def test_enabling_the_internal_api_in_start_without_a_token_is_refused(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project", {**PROJECT, "config.yml": "workbench:\n  enabled: true\n"}
    )
    result = run_motia("start", "--dir", str(project), "--port", "0")
    assert result.returncode == 1
    assert "MOTIA_WORKBENCH_TOKEN" in result.stderr
