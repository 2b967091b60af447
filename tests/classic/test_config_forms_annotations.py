"""Handler annotations never change classic behaviour: with a JSON Schema dict in the config
(`Model.model_json_schema()`), a handler annotated with the model still gets the plain dict."""

from __future__ import annotations

from pathlib import Path

from motia.runtime.loading import load_project
from motia.testing import create_tester
from tests.conftest import write_project

CLASSIC_ANNOTATED = {
    "steps/models.py": """
        from pydantic import BaseModel


        class Booking(BaseModel):
            guest: str
            nights: int
    """,
    # The form classic projects use: the schema is a dict, the annotation is for editors.
    "steps/book_step.py": """
        from motia import ApiRequest, FlowContext
        from steps.models import Booking

        config = {
            "type": "api", "name": "Book", "method": "POST", "path": "/bookings",
            "bodySchema": Booking.model_json_schema(), "emits": ["booking.made"],
        }

        async def handler(req: ApiRequest[Booking], ctx: FlowContext):
            body = req["body"]
            await ctx.emit({"topic": "booking.made", "data": body})
            return {"status": 201, "body": {"kind": type(body).__name__,
                                            "guest": body.get("guest")}}
    """,
    "steps/confirm_step.py": """
        from __future__ import annotations

        from motia import FlowContext
        from steps.models import Booking

        config = {
            "type": "event", "name": "Confirm", "subscribes": ["booking.made"], "emits": [],
            "input": Booking.model_json_schema(),
        }

        async def handler(input: Booking, ctx: FlowContext) -> None:
            await ctx.state.set("confirmed", input.get("guest"),
                                {"kind": type(input).__name__, "nights": input.get("nights")})
    """,
}


async def test_a_dict_schema_keeps_plain_dicts_whatever_the_annotation(tmp_path: Path) -> None:
    project = write_project(tmp_path, CLASSIC_ANNOTATED)
    loaded = load_project(project)
    assert loaded.problems == []
    assert all(s.body_model is None and s.input_model is None for s in loaded.steps)

    async with create_tester(project) as tester:
        made = await tester.post("/bookings", json={"guest": "ada", "nights": 2})
        assert made.status_code == 201, made.text
        assert made.json() == {"kind": "dict", "guest": "ada"}
        await tester.wait_until_idle()
        assert await tester.state.get("confirmed", "ada") == {"kind": "dict", "nights": 2}
        # The dict schema is still enforced.
        bad = await tester.post("/bookings", json={"guest": "bo"})
        assert bad.status_code == 400
        assert [e["field"] for e in bad.json()["errors"]] == ["nights"]


async def test_the_model_in_the_config_or_no_schema_opts_in(tmp_path: Path) -> None:
    files = dict(CLASSIC_ANNOTATED)
    files["steps/book_step.py"] = files["steps/book_step.py"].replace(
        '"bodySchema": Booking.model_json_schema(), ', '"bodySchema": Booking, '
    )
    files["steps/confirm_step.py"] = (
        files["steps/confirm_step.py"]
        .replace('\n            "input": Booking.model_json_schema(),', "")
        .replace('input.get("guest")', "input.guest")
        .replace('input.get("nights")', "input.nights")
    )
    project = write_project(tmp_path, files)
    loaded = load_project(project)
    assert loaded.problems == []

    async with create_tester(project) as tester:
        made = await tester.post("/bookings", json={"guest": "ada", "nights": 2})
        # A Booking instance has no `.get`: the handler fails, proving it got the model.
        assert made.status_code == 500
        await tester.emit({"topic": "booking.made", "data": {"guest": "cy", "nights": 1}})
        await tester.wait_until_idle()
        assert await tester.state.get("confirmed", "cy") == {"kind": "Booking", "nights": 1}
