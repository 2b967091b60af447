"""`motia create` for every template: the project's own tests, `motia build` and
`motia start` with a request against it, all offline."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from motia.cli.main import cli
from tests.conftest import ServerProcess, free_port, wait_for
from tests.runners.support import MULTI_LANGUAGE_EXAMPLE, example_node_modules, require
from tests.tooling.readme_walkthrough import replay
from tests.tooling.support import motia, run

TEMPLATES = ["python", "minimal", "multi-language", "pipeline", "jobs", "auth", "ai-agent", "chat"]
NODE_TEMPLATES = {"multi-language", "pipeline", "jobs"}
RUBY_TEMPLATES = {"multi-language", "jobs"}


def create(tmp_path: Path, template: str, name: str = "app") -> Path:
    result = CliRunner().invoke(
        cli, ["create", name, "--template", template, "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    project = tmp_path / name
    assert project.is_dir()
    return project


def auth_walkthrough(
    project: Path, readme: str, server_factory: Callable[..., ServerProcess]
) -> None:
    """The auth README's walk-through against `motia start`, with a real SMTP server whose
    mail gives the verification token."""
    from aiosmtpd.controller import Controller

    mails: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            mails.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {
            "JWT_SECRET": "a-walkthrough-secret-longer-than-32-characters",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
        }
        server = server_factory(project, "start", env=env)

        def token() -> str:
            wait_for(lambda: mails, what="the verification mail")
            body = message_from_bytes(mails[-1]).get_payload(decode=True)
            assert isinstance(body, bytes)
            found = re.search(rb"token=([\w-]+)", body)
            assert found, body
            return found.group(1).decode()

        assert replay(readme, server.client, secrets={"token": token}) == 6
    finally:
        controller.stop()


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_created_project_tests_builds_and_serves(
    tmp_path: Path, template: str, server_factory: Callable[..., ServerProcess]
) -> None:
    if template in NODE_TEMPLATES:
        # Fails in CI (skips locally) when node or ruby is missing.
        require("node")
    if template in RUBY_TEMPLATES:
        require("ruby")
    project = create(tmp_path, template)
    if template in NODE_TEMPLATES:
        # The template asks for the example's package versions, so its packages serve
        # offline in place of `npm install`.
        (project / "node_modules").symlink_to(example_node_modules())
        ignored = (project / ".gitignore").read_text().split()
        assert "node_modules/" in ignored and "types.d.ts" not in ignored
    readme = (project / "README.md").read_text()
    assert "# app" in readme and "motia dev" in readme and "pytest" in readme
    assert "{{" not in readme
    assert (project / ".gitignore").is_file()
    assert "motia-python" in (project / "requirements.txt").read_text()
    assert (project / "AGENTS.md").is_file()

    # The generated project's own tests, with this environment's pytest.
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout

    build = motia("build", cwd=project)
    assert build.returncode == 0, build.stdout + build.stderr
    manifest = json.loads((project / "dist" / "motia-manifest.json").read_text())
    openapi = json.loads((project / "dist" / "openapi.json").read_text())
    assert manifest["steps"] and openapi["openapi"] == "3.1.0" and openapi["paths"]
    assert build.stderr == ""
    if template == "multi-language":
        languages = {step["name"]: (step["file"], step["language"]) for step in manifest["steps"]}
        assert languages["CreateOrder"] == ("steps/api/create-order.step.ts", "typescript")
        assert languages["NotifyWarehouse"] == (
            "steps/events/notify-warehouse.step.js",
            "javascript",
        )
        assert languages["AuditTrail"] == ("steps/events/audit_trail_step.rb", "ruby")
        assert languages["PriceQuote"] == ("steps/events/price_quote_step.py", "python")
        assert "/orders" in openapi["paths"]

    if template == "auth":
        auth_walkthrough(project, readme, server_factory)
        return
    if template == "chat":
        # Sessions, a room, history pages, a DM, presence and a refusal, with tokens.
        env = {"JWT_SECRET": "a-walkthrough-secret-longer-than-32-characters"}
        server = server_factory(project, "start", env=env)
        assert replay(readme, server.client) == 9
        assert server.client.get("/chat").headers["content-type"].startswith("text/html")
        return
    server = server_factory(project, "start")
    if template == "python":
        response = server.client.post("/orders", json={"item": "book", "quantity": 2})
        assert response.status_code == 201, response.text
        order_id = response.json()["id"]
        wait_for(
            lambda: server.client.get(f"/orders/{order_id}").json().get("status") == "processed"
        )
    elif template == "minimal":
        response = server.client.get("/hello", params={"name": "Ada"})
        assert response.json() == {"message": "Hello, Ada!"}
    elif template == "pipeline":
        # The README's walk-through, answer by answer, against `motia start`.
        def routed(batch_id: str) -> None:
            wait_for(
                lambda: server.client.get(f"/batches/{batch_id}").json()["status"] != "checking"
            )

        assert replay(readme, server.client, routed) == 4
    elif template == "jobs":
        # The README's walk-through: a job done, one retried, one dead-lettered.
        assert replay(readme, server.client) == 4
    elif template == "ai-agent":
        # The README's walk-through: an answer from two tools, and a tool that cannot help.
        assert replay(readme, server.client) == 3
    else:
        response = server.client.post("/orders", json={"item": "lamp", "quantity": 2})
        assert response.status_code == 201, response.text  # TypeScript, in the Node runner
        order_id = response.json()["id"]

        def audited_order() -> dict[str, object] | None:
            order: dict[str, object] = server.client.get(f"/orders/{order_id}").json()
            return order if order.get("audited") is True else None

        # JavaScript set the status, Ruby wrote the audit entry, Python (GET) reads both.
        order = wait_for(audited_order, timeout=20)
        assert isinstance(order, dict) and order["status"] == "sent", order
        response = server.client.post("/quotes", json={"item": "lamp", "quantity": 2})
        assert response.status_code == 202, response.text
        quote_id = response.json()["id"]
        wait_for(lambda: server.client.get(f"/quotes/{quote_id}").json().get("price") == 9.0)

    if template in NODE_TEMPLATES:
        types = motia("generate", "types", cwd=project)
        assert types.returncode == 0, types.stdout + types.stderr
        assert (project / "types.d.ts").is_file()
        tsc = run([require("npx"), "--no-install", "tsc", "--noEmit"], project)
        assert tsc.returncode == 0, tsc.stdout + tsc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "template", ["python", "multi-language", "pipeline", "jobs", "auth", "ai-agent", "chat"]
)
def test_python_template_steps_pass_mypy_strict(tmp_path: Path, template: str) -> None:
    project = create(tmp_path, template)
    result = run([sys.executable, "-m", "mypy"], project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_language_next_steps_include_npm_install(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["create", "app", "--template", "multi-language", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    lines = [line.split("#")[0].strip() for line in result.output.splitlines()]
    assert lines.index("pip install -r requirements.txt") < lines.index("npm install")
    assert lines.index("npm install") < lines.index("motia dev")
    assert "motia generate types && npx tsc --noEmit" in lines
    assert "not include" not in result.output  # no note about missing runners any more
    for name in ("package.json", "tsconfig.json"):
        assert (tmp_path / "app" / name).is_file()
    package = json.loads((tmp_path / "app" / "package.json").read_text())
    example = json.loads((MULTI_LANGUAGE_EXAMPLE / "package.json").read_text())
    assert set(package["dependencies"]) == set(example["dependencies"])
    assert set(package["devDependencies"]) == set(example["devDependencies"])


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["create", "app", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["notes.txt"]


def test_an_empty_existing_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    project = create(tmp_path, "minimal")
    assert (project / "steps" / "hello_step.py").is_file()


def test_rejects_a_path_as_name_and_unknown_templates(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["create", "a/b", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "folder name" in result.output
    result = runner.invoke(cli, ["create", "x", "-t", "rust", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert not any(tmp_path.iterdir())
