"""The opt-in to Pydantic-typed bodies: `req: ApiRequest[Order]` and `input_data: Order`
give the handler instances, validated once; everything else keeps the parsed JSON."""

from __future__ import annotations

from pathlib import Path

from motia.steps.loader import load_project
from motia.testing import create_tester
from tests.conftest import write_project

MODELS = """
    from pydantic import BaseModel, Field


    class Order(BaseModel):
        item: str = Field(min_length=1)
        quantity: int = Field(gt=0)
"""

PROJECT = {
    "steps/models.py": MODELS,
    "steps/typed_step.py": """
        from __future__ import annotations

        from motia import ApiRequest, ApiResponse, FlowContext
        from steps.models import Order

        config = {"type": "api", "name": "Typed", "method": "POST", "path": "/typed",
                  "bodySchema": Order, "emits": ["order.placed"]}

        async def handler(req: ApiRequest[Order], ctx: FlowContext) -> ApiResponse:
            order = req["body"]
            await ctx.emit({"topic": "order.placed", "data": order.model_dump()})
            return {"status": 201, "body": {"kind": type(order).__name__,
                                            "total": order.quantity * 2}}
    """,
    "steps/implied_step.py": """
        from motia import ApiRequest, ApiResponse, FlowContext
        from steps.models import Order

        # No bodySchema: the annotation's model is the schema.
        config = {"type": "api", "name": "Implied", "method": "POST", "path": "/implied",
                  "emits": []}

        async def handler(req: ApiRequest[Order], ctx: FlowContext) -> ApiResponse:
            return {"status": 200, "body": {"item": req["body"].item}}
    """,
    "steps/plain_step.py": """
        from motia import ApiRequest, ApiResponse, FlowContext
        from steps.models import Order

        config = {"type": "api", "name": "Plain", "method": "POST", "path": "/plain",
                  "bodySchema": Order, "emits": []}

        async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
            return {"status": 200, "body": {"kind": type(req["body"]).__name__}}
    """,
    "steps/placed_step.py": """
        from motia import FlowContext
        from steps.models import Order

        config = {"type": "event", "name": "Placed", "subscribes": ["order.placed"],
                  "emits": [], "input": Order}

        async def handler(input_data: Order, ctx: FlowContext) -> None:
            await ctx.state.set("placed", input_data.item,
                                {"kind": type(input_data).__name__, "qty": input_data.quantity})
    """,
}


async def test_annotated_handlers_receive_model_instances(tmp_path: Path) -> None:
    project = write_project(tmp_path, PROJECT)

    async with create_tester(project) as tester:
        typed = await tester.post("/typed", json={"item": "lamp", "quantity": 3})
        assert typed.status_code == 201, typed.text
        assert typed.json() == {"kind": "Order", "total": 6}
        await tester.wait_until_idle()
        assert await tester.state.get("placed", "lamp") == {"kind": "Order", "qty": 3}

        implied = await tester.post("/implied", json={"item": "desk", "quantity": 1})
        assert implied.json() == {"item": "desk"}

        plain = await tester.post("/plain", json={"item": "desk", "quantity": 1})
        assert plain.json() == {"kind": "dict"}


async def test_invalid_bodies_and_events_are_refused_with_every_field(tmp_path: Path) -> None:
    project = write_project(tmp_path, PROJECT)

    async with create_tester(project) as tester:
        for path in ("/typed", "/implied"):
            bad = await tester.post(path, json={"item": "", "quantity": 0})
            assert bad.status_code == 400
            assert sorted(e["field"] for e in bad.json()["errors"]) == ["item", "quantity"]
        await tester.emit({"topic": "order.placed", "data": {"item": "x", "quantity": -1}})
        await tester.wait_until_idle(raise_errors=False)
        [dead] = await tester.dead_letters()
        assert dead.reason == "invalid input" and "quantity" in dead.error
        assert await tester.state.get("placed", "x") is None


def test_an_annotation_contradicting_the_config_model_is_a_load_error(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "steps/models.py": MODELS + "\n\n    class Refund(BaseModel):\n        amount: int\n",
            "steps/clash_step.py": """
                from motia import ApiRequest, FlowContext
                from steps.models import Order, Refund

                config = {"type": "api", "name": "Clash", "method": "POST", "path": "/c",
                          "bodySchema": Refund, "emits": []}

                async def handler(req: ApiRequest[Order], ctx: FlowContext):
                    return {"status": 200}
            """,
        },
    )
    [problem] = load_project(project).errors
    assert (str(problem.file), problem.step, problem.field) == (
        "steps/clash_step.py",
        "Clash",
        "bodySchema",
    )
    assert "Order" in problem.message and "Refund" in problem.message
    assert problem.hint == "set 'bodySchema': Order, or leave it out"
