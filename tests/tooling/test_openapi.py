"""The OpenAPI document: valid (openapi-spec-validator), faithful to the steps, served by
the running server, and the error shapes it documents are the ones the server sends."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate

from motia.cli.main import cli
from motia.openapi import build_openapi, openapi_path
from motia.runtime.loading import load_project
from tests.conftest import ServerProcess, write_project


def generate(project: Path, *args: str) -> dict[str, Any]:
    out = project.parent / f"{project.name}-openapi.json"
    result = CliRunner().invoke(
        cli, ["generate", "openapi", "--dir", str(project), "-o", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def test_example_document_validates_and_describes_the_steps(example_copy: Path) -> None:
    document = generate(example_copy, "--title", "Resources", "--version", "2.0.0")
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Resources", "version": "2.0.0"}
    assert set(document["paths"]) == {
        "/resources",
        "/resources/{id}",
        "/resources/{id}/approval",
        "/live",
    }

    create = document["paths"]["/resources"]["post"]
    assert create["operationId"] == "CreateResource"
    assert create["tags"] == ["resource-processing"]
    assert create["summary"] == "Accept a resource and queue it for processing"
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name"]
    assert body["properties"]["kind"]["enum"] == ["document", "image", "video"]
    assert set(create["responses"]) == {"201", "400", "413", "500"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["properties"] == {
        "id": {"type": "string"}
    }
    error_ref = create["responses"]["400"]["content"]["application/json"]["schema"]
    assert error_ref == {"$ref": "#/components/schemas/MotiaError"}

    get = document["paths"]["/resources/{id}"]["get"]
    assert get["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert "requestBody" not in get
    assert "default" in get["responses"]
    assert [t["name"] for t in document["tags"]] == ["resource-processing"]


def test_path_conversion() -> None:
    assert openapi_path("/a/:id/b/:other_id") == "/a/{id}/b/{other_id}"
    assert openapi_path("/plain") == "/plain"


def test_query_params_and_pydantic_definitions(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/search_step.py": """
                from pydantic import BaseModel

                class Tag(BaseModel):
                    label: str

                class Item(BaseModel):
                    name: str
                    tags: list[Tag]

                config = {
                    "type": "api", "name": "AddItem", "method": "PUT", "path": "/items/:id",
                    "description": "Add an item\\nLonger text.",
                    "bodySchema": Item,
                    "responseSchema": {200: Item},
                    "queryParams": [{"name": "dryRun", "description": "Only check"}],
                    "emits": [],
                }

                async def handler(req, ctx):
                    return {"status": 200, "body": req["body"]}
            """
        },
    )
    project = load_project(tmp_path)
    assert project.problems == []
    document = build_openapi(project.steps, title="t")
    validate(document)
    operation = document["paths"]["/items/{id}"]["put"]
    assert operation["summary"] == "Add an item"
    assert operation["description"] == "Add an item\nLonger text."
    assert operation["parameters"][1] == {
        "name": "dryRun",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Only check",
    }
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in body
    assert body["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert document["components"]["schemas"]["Tag"]["properties"]["label"]["type"] == "string"


def test_a_rate_limited_step_documents_its_429(tmp_path: Path) -> None:
    step = """
        config = {{"type": "api", "name": "{name}", "method": "GET", "path": "/{name}",
                  "emits": [], "rateLimit": {limit}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{}}}}
    """
    write_project(
        tmp_path,
        {
            "steps/limited_step.py": step.format(name="limited", limit='{"requests": 1, "per": 1}'),
            "steps/free_step.py": step.format(name="free", limit="False"),
        },
    )
    project = load_project(tmp_path)
    assert project.problems == []
    document = build_openapi(project.steps, title="t")
    validate(document)
    assert "429" in document["paths"]["/limited"]["get"]["responses"]
    assert "429" not in document["paths"]["/free"]["get"]["responses"]


@pytest.mark.slow
def test_served_document_and_docs_page(
    example_copy: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    generated = generate(example_copy)
    server = server_factory(example_copy, "start")
    served = server.client.get("/__motia/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == generated

    docs = server.client.get("/__motia/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "openapi.json" in docs.text and "<script>" in docs.text
    assert "https://" not in docs.text.split("<script>", 1)[1]  # no CDN: self-contained

    # The error answers are the documented MotiaError shape.
    error_schema = {**generated["components"]["schemas"]["MotiaError"]}
    error_schema["properties"] = {
        **error_schema["properties"],
        "errors": {
            "type": "array",
            "items": generated["components"]["schemas"]["MotiaFieldError"],
        },
    }
    invalid = server.client.post("/resources", json={"kind": "nope"})
    assert invalid.status_code == 400
    jsonschema.validate(invalid.json(), error_schema)
    assert invalid.json()["errors"]
    malformed = server.client.post(
        "/resources", content=b"{", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    jsonschema.validate(malformed.json(), error_schema)


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors(
    example_copy: Path, server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    if shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    server = server_factory(example_copy, "start")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.url}/__motia/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--max-examples",
            "15",
            "--workers",
            "1",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout


def test_steps_that_need_a_token_document_the_bearer_scheme(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "config.yml": "auth:\n  required: true\n",
            "steps/orders_step.py": """
                config = {"type": "api", "name": "CreateOrder", "method": "POST",
                          "path": "/orders", "emits": [], "auth": {"scopes": ["orders:write"]}}
                async def handler(req, ctx): ...
            """,
            "steps/me_step.py": """
                config = {"type": "api", "name": "Me", "method": "GET", "path": "/me",
                          "emits": []}
                async def handler(req, ctx): ...
            """,
            "steps/ping_step.py": """
                config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping",
                          "emits": [], "auth": False}
                async def handler(req, ctx): ...
            """,
        },
    )
    document = generate(tmp_path)
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    create = document["paths"]["/orders"]["post"]
    assert create["security"] == [{"bearerAuth": ["orders:write"]}]
    assert {"401", "403"} <= set(create["responses"])
    me = document["paths"]["/me"]["get"]  # auth.required covers it
    assert me["security"] == [{"bearerAuth": []}]
    assert "401" in me["responses"] and "403" not in me["responses"]
    ping = document["paths"]["/ping"]["get"]
    assert "security" not in ping and "401" not in ping["responses"]
    # A project without auth has no scheme at all.
    plain = build_openapi(load_project(tmp_path).steps[:0], title="t")
    assert "securitySchemes" not in plain["components"]
