"""The body prefilled in the endpoint tester and the API docs: a value the schema accepts."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from motia.steps.schema_example import example_of


class Address(BaseModel):
    street: str = Field(min_length=3)
    zip_code: str = Field(min_length=5, max_length=5)


class Order(BaseModel):
    item: str = Field(min_length=20)
    quantity: int = Field(gt=0, le=5)
    price: float = Field(ge=2.5)
    kind: Literal["book", "toy"]
    ship_to: Address
    tags: list[str] = Field(min_length=2)
    note: str | None = None


SCHEMAS: dict[str, dict[str, Any]] = {
    "required only": {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}, "kind": {"enum": ["a", "b"]}},
        "required": ["name"],
    },
    "formats": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email"},
            "at": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
        },
        "required": ["email", "at", "id"],
    },
    "nullable and one of": {
        "type": "object",
        "properties": {
            "n": {"type": ["null", "integer"], "minimum": 3},
            "v": {"oneOf": [{"type": "null"}, {"type": "boolean"}]},
        },
        "required": ["n", "v"],
    },
    "pydantic model": Order.model_json_schema(),
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_example_is_accepted_by_its_schema(name: str) -> None:
    schema = SCHEMAS[name]
    jsonschema.validate(example_of(schema), schema)


def test_only_required_fields_are_filled_in() -> None:
    assert example_of(SCHEMAS["required only"]) == {"name": "example name"}
    assert set(example_of(Order.model_json_schema())) == {
        "item",
        "quantity",
        "price",
        "kind",
        "ship_to",
        "tags",
    }


def test_the_schemas_own_example_wins() -> None:
    schema = {"type": "object", "example": {"name": "Ada"}, "required": ["x"]}
    assert example_of(schema) == {"name": "Ada"}
    assert example_of({"type": "object", "examples": [{"a": 1}]}) == {"a": 1}
    assert example_of({"type": "object", "properties": {"a": {"default": 7}}}) == {"a": 7}


def test_without_a_required_list_every_property_is_shown() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {}}}
    assert example_of(schema) == {"a": 1, "b": None}
