"""The typed API: the example project's steps pass mypy --strict, and the types catch
mistakes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import motia
from tests.conftest import EXAMPLE, REPO, write_project
from tests.tooling.support import run


def test_types_are_exported() -> None:
    for name in (
        "ApiRouteConfig",
        "EventConfig",
        "CronConfig",
        "NoopConfig",
        "StreamConfig",
        "ApiRequest",
        "ApiResponse",
        "FlowContext",
        "Emit",
        "QueueConfig",
        "HandlerConfig",
    ):
        assert name in motia.__all__ and hasattr(motia, name)
    assert motia.ApiRouteConfig.__required_keys__ == {"type", "name", "method", "path", "emits"}
    assert "body" in motia.ApiResponse.__optional_keys__
    assert (REPO / "src" / "motia" / "py.typed").is_file()


@pytest.mark.slow
def test_example_steps_pass_mypy_strict() -> None:
    result = run([sys.executable, "-m", "mypy", "--config-file", str(EXAMPLE / "mypy.ini")], REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_catches_a_wrong_handler(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/wrong_step.py": """
                from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

                config: ApiRouteConfig = {
                    "type": "api", "name": "Wrong", "method": "FETCH", "path": "/w", "emits": [],
                }

                async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
                    ctx.trace_idd
                    return {"body": req["pathParam"]}
            """,
        },
    )
    result = run(
        [sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases", "steps"], tmp_path
    )
    assert result.returncode == 1
    out = result.stdout
    assert "'FETCH'" in out  # not an HTTP method
    assert "trace_idd" in out
    assert '"pathParam"' in out
    assert '"status"' in out  # missing from the response


@pytest.mark.slow
def test_mypy_types_a_pydantic_typed_body(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/__init__.py": "",
            "steps/typed_step.py": """
                from pydantic import BaseModel

                from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext


                class Order(BaseModel):
                    item: str
                    quantity: int


                config: ApiRouteConfig = {
                    "type": "api", "name": "Typed", "method": "POST", "path": "/t",
                    "bodySchema": Order, "emits": [],
                }


                async def handler(req: ApiRequest[Order], ctx: FlowContext) -> ApiResponse:
                    total: int = req["body"].quantity * 2
                    return {"status": 200, "body": {"item": req["body"].itemz, "total": total}}
            """,
        },
    )
    result = run(
        [sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases", "steps"], tmp_path
    )
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert '"Order" has no attribute "itemz"' in errors[0]
