"""Log records of a real `motia start`: secret keys are masked at any depth in the printed
JSON lines, in the logs and traces the workbench stores, and in schema errors; event runs
tag their lines with topic and attempt; request bodies are never logged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from motia import jsoncodec
from motia.errors import SettingsError
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from tests.conftest import ServerProcess, start_server, wait_for, write_project
from tests.http.support import records_for

pytestmark = pytest.mark.slow

TOKEN = "log-redaction-token-0123456789"
STEPS = {
    "config.yml": """
        logs:
          redactAlso: ["*_pin"]
    """,
    "steps/signup_step.py": """
        config = {
            "type": "api",
            "name": "Signup",
            "method": "POST",
            "path": "/signup",
            "emits": ["user.created"],
            "bodySchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "password": {"type": "string", "minLength": 12},
                },
                "required": ["name", "password"],
            },
        }

        async def handler(req, ctx):
            body = req["body"]
            ctx.logger.info("signing up", {
                "user": {"name": body["name"], "password": body["password"]},
                "headers": req["headers"],
                "devices": [{"card_pin": "4321", "label": "phone"}],
            })
            await ctx.emit({"topic": "user.created", "data": {"name": body["name"]}})
            return {"status": 201, "body": {"ok": True}}
    """,
    "steps/welcome_step.py": """
        config = {
            "type": "event",
            "name": "Welcome",
            "subscribes": ["user.created"],
            "emits": [],
        }

        async def handler(data, ctx):
            ctx.logger.info("welcoming", {"mail": {"to": data["name"], "API-Key": "mk-999"}})
    """,
    "steps/import_step.py": """
        config = {
            "type": "api",
            "name": "Import",
            "method": "POST",
            "path": "/import",
            "emits": ["user.imported"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "user.imported", "data": req["body"]})
            return {"status": 202, "body": {"ok": True}}
    """,
    "steps/store_user_step.py": """
        config = {
            "type": "event",
            "name": "StoreUser",
            "subscribes": ["user.imported"],
            "emits": [],
            "input": {
                "type": "object",
                "properties": {"password": {"type": "string", "minLength": 20}},
            },
        }

        async def handler(data, ctx):
            pass
    """,
}
SECRETS = ("correct-horse-battery", "Bearer abc.def", "4321", "mk-999", "short-pw")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("log-redaction")
    project = write_project(root / "project", STEPS)
    server = start_server(project, "start", env={"MOTIA_WORKBENCH_TOKEN": TOKEN}, log_dir=root)
    yield server
    server.stop()


def _stored_logs(server: ServerProcess, trace_id: str, count: int) -> list[dict[str, Any]]:
    def fetch() -> list[dict[str, Any]] | None:
        response = server.client.get(
            "/__motia/api/logs",
            params={"traceId": trace_id},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) >= count else None

    found = wait_for(fetch, what="the stored logs of the trace")
    assert isinstance(found, list)
    return found


def _signup(server: ServerProcess) -> str:
    response = server.client.post(
        "/signup",
        json={"name": "ada", "password": "correct-horse-battery"},
        headers={"authorization": "Bearer abc.def"},
    )
    assert response.status_code == 201
    return response.headers["x-trace-id"]


def test_nested_secrets_are_masked_in_printed_json_and_kept_keys_stay(
    server: ServerProcess,
) -> None:
    trace_id = _signup(server)
    server.wait_for_output('"msg":"welcoming"')
    records = {r["msg"]: r for r in records_for(server, trace_id)}
    signing = records["signing up"]
    assert signing["step"] == "Signup" and signing["traceId"] == trace_id
    assert signing["user"] == {"name": "ada", "password": "[redacted]"}
    assert signing["headers"]["authorization"] == "[redacted]"
    assert signing["headers"]["content-type"] == "application/json"
    # `*_pin` comes from config.yml, on top of the default list.
    assert signing["devices"] == [{"card_pin": "[redacted]", "label": "phone"}]
    welcoming = records["welcoming"]
    assert welcoming["mail"] == {"to": "ada", "API-Key": "[redacted]"}
    assert (welcoming["step"], welcoming["topic"], welcoming["attempt"]) == (
        "Welcome",
        "user.created",
        1,
    )
    assert welcoming["eventId"]
    printed = "\n".join(line for line in server.output().splitlines() if trace_id in line)
    for secret in SECRETS:
        assert secret not in printed


def test_the_workbench_stores_the_masked_records(server: ServerProcess) -> None:
    trace_id = _signup(server)
    logs = {r["msg"]: r for r in _stored_logs(server, trace_id, 2)}
    assert logs["signing up"]["user"] == {"name": "ada", "password": "[redacted]"}
    assert logs["signing up"]["headers"]["authorization"] == "[redacted]"
    assert logs["welcoming"]["mail"]["API-Key"] == "[redacted]"
    assert logs["welcoming"]["topic"] == "user.created"
    for secret in SECRETS:
        assert secret not in str(logs)


def test_a_rejected_body_is_not_logged_and_secret_field_errors_are_masked(
    server: ServerProcess,
) -> None:
    response = server.client.post("/signup", json={"name": 7, "password": "short-pw"})
    assert response.status_code == 400
    trace_id = response.headers["x-trace-id"]
    # The client hears what was wrong with its own value.
    assert any("short-pw" in e["message"] for e in response.json()["errors"])
    [line] = wait_for(lambda: records_for(server, trace_id))
    assert line["msg"] == "request rejected: 400 Invalid request body"
    assert {e["field"]: e["message"] for e in line["errors"]} == {
        "name": "7 is not of type 'string'",
        "password": "[redacted]",
    }
    stored = server.client.get(
        f"/__motia/api/traces/{trace_id}", headers={"authorization": f"Bearer {TOKEN}"}
    ).json()
    assert "short-pw" not in str(stored)
    assert "short-pw" not in server.output()


def test_a_custom_list_replaces_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, {"config.yml": "logs:\n  redact: [ssn, '*_id']\n"})
    settings = load_settings(
        tmp_path, "start", environ={}, state_adapter="memory", queue_adapter="memory"
    )
    assert settings.log_redact == ("ssn", "*_id")
    runtime = Runtime.load(settings)
    runtime.logger.info("custom", {"SSN": "078-05", "tax_id": "t-1", "password": "plain"})
    record = jsoncodec.loads(capsys.readouterr().out.splitlines()[-1])
    assert (record["SSN"], record["tax_id"], record["password"]) == (
        "[redacted]",
        "[redacted]",
        "plain",
    )


def test_a_redaction_list_that_is_not_a_list_of_names_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {"config.yml": "logs:\n  redact: [password, 7]\n"})
    with pytest.raises(SettingsError, match=r"config\.yml:2: 'logs.redact'.*list of strings"):
        load_settings(tmp_path, "start", environ={})


def test_an_event_refused_by_its_input_schema_does_not_log_the_secret(
    server: ServerProcess,
) -> None:
    response = server.client.post("/import", json={"password": "tiny-pw-value"})
    assert response.status_code == 202
    trace_id = response.headers["x-trace-id"]
    [line] = wait_for(
        lambda: [r for r in records_for(server, trace_id) if r["step"] == "StoreUser"]
    )
    assert "dead-letter queue" in line["msg"]
    assert line["errors"] == [{"field": "password", "message": "[redacted]"}]
    assert (line["topic"], line["attempt"]) == ("user.imported", 1)
    dead = server.client.get(
        "/__motia/api/dlq", headers={"authorization": f"Bearer {TOKEN}"}
    ).json()["items"]
    # The dead letter keeps the event itself, to be redriven; its error text is masked.
    [letter] = [d for d in dead if d["traceId"] == trace_id]
    assert letter["error"].endswith('[{"field":"password","message":"[redacted]"}]')
    assert "tiny-pw-value" not in server.output()
