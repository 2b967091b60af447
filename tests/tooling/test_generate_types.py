"""`motia generate types`: JSON Schema to TypeScript, the project's `Handlers` and streams,
and a TypeScript project that `tsc --noEmit` accepts (and rejects when a handler is wrong)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, Field

from motia.cli.main import cli
from motia.runtime.loading import LoadedProject, load_project
from motia.typegen import TYPES_FILE, has_node_code, render_types, schema_to_ts, write_types
from tests.conftest import write_project
from tests.tools import npm_install, require

TS_PROJECT = Path(__file__).resolve().parent / "fixtures" / "ts_project"


def ts(schema: Any) -> str:
    return schema_to_ts(schema)


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> Any:
    return {"type": "object", "properties": properties, "required": required or [], **extra}


# --- JSON Schema -> TypeScript ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "string"),
        ({"type": "string", "format": "date-time"}, "string"),
        ({"type": "integer"}, "number"),
        ({"type": "number", "minimum": 0}, "number"),
        ({"type": "boolean"}, "boolean"),
        ({"type": "null"}, "null"),
        ({"type": ["string", "null"]}, "string | null"),
        ({"type": "string", "nullable": True}, "string | null"),
        ({}, "unknown"),
        (True, "unknown"),
        (None, "unknown"),
        (False, "never"),
        ({"not": {}}, "never"),
        ({"type": "mystery"}, "unknown"),
        ({"description": "no type at all"}, "unknown"),
    ],
)
def test_scalar_types(schema: Any, expected: str) -> None:
    assert ts(schema) == expected


def test_literals_from_enum_and_const() -> None:
    assert (
        ts({"enum": ["a", "it's", 1, 2.5, True, None]}) == "'a' | 'it\\'s' | 1 | 2.5 | true | null"
    )
    assert ts({"type": "string", "const": 'say "hi"\n'}) == "'say \"hi\"\\n'"
    assert ts({"const": [1, "x"]}) == "[1, 'x']"
    assert ts({"const": {"kind": "point", "x-y": 0}}) == "{\n  kind: 'point';\n  'x-y': 0;\n}"
    assert ts({"enum": []}) == "never"


def test_object_with_required_optional_and_documented_properties() -> None:
    schema = obj(
        {
            "id": {"type": "string", "description": "The id."},
            "count": {"type": "integer"},
            "first-name": {"type": "string"},
            "$meta": {"type": "boolean"},
            "2fa": {"type": "boolean"},
        },
        ["id", "first-name", "missing"],
        additionalProperties=False,
    )
    assert ts(schema) == (
        "{\n"
        "  /** The id. */\n"
        "  id: string;\n"
        "  count?: number;\n"
        "  'first-name': string;\n"
        "  $meta?: boolean;\n"
        "  '2fa'?: boolean;\n"
        "  missing: unknown;\n"
        "}"
    )


def test_nested_objects_are_indented() -> None:
    schema = obj({"outer": obj({"inner": obj({"leaf": {"type": "string"}}, ["leaf"])}, ["inner"])})
    assert ts(schema) == ("{\n  outer?: {\n    inner: {\n      leaf: string;\n    };\n  };\n}")


def test_multi_line_descriptions_become_block_comments() -> None:
    schema = obj({"a": {"type": "string", "description": "line one\nline two */ end"}})
    assert ts(schema) == "{\n  /**\n   * line one\n   * line two *\\/ end\n   */\n  a?: string;\n}"


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # JSON Schema allows extra keys by default; with no properties it is a free-form map.
        ({"type": "object"}, "{\n  [key: string]: unknown;\n}"),
        (
            {"type": "object", "additionalProperties": {"type": "number"}},
            "{\n  [key: string]: number;\n}",
        ),
        ({"type": "object", "additionalProperties": False}, "{ [key: string]: never }"),
        (
            {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
            "{\n  [key: string]: string;\n}",
        ),
        # Declared properties with no additionalProperties: closed, so typos are caught.
        (obj({"a": {"type": "string"}}, ["a"]), "{\n  a: string;\n}"),
        # Declared properties must fit the index signature too.
        (
            obj(
                {"a": {"type": "string"}, "b": {"type": "boolean"}},
                ["a"],
                additionalProperties=True,
            ),
            "{\n  a: string;\n  b?: boolean;\n  [key: string]: unknown;\n}",
        ),
        (
            obj({"a": {"type": "string"}}, ["a"], additionalProperties={"type": "number"}),
            "{\n  a: string;\n  [key: string]: number | string;\n}",
        ),
        (
            obj({"a": {"type": "string"}}, [], additionalProperties={"type": "number"}),
            "{\n  a?: string;\n  [key: string]: number | string | undefined;\n}",
        ),
        # Properties without "type" still make an object.
        ({"properties": {"a": {"type": "string"}}}, "{\n  a?: string;\n}"),
    ],
)
def test_additional_properties(schema: Any, expected: str) -> None:
    assert ts(schema) == expected


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "array", "items": {"type": "string"}}, "string[]"),
        ({"type": "array"}, "unknown[]"),
        ({"items": {"type": "integer"}}, "number[]"),
        ({"type": "array", "items": {"type": ["string", "null"]}}, "(string | null)[]"),
        (
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
            "boolean[][]",
        ),
        # 2020-12 tuples: prefixItems, closed with items: false.
        (
            {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "number"}],
                "items": False,
                "minItems": 2,
            },
            "[string, number]",
        ),
        # Elements past minItems are optional; the rest is open unless closed.
        (
            {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]},
            "[string?, number?, ...unknown[]]",
        ),
        (
            {
                "type": "array",
                "prefixItems": [{"type": "string"}],
                "items": {"type": "boolean"},
                "minItems": 1,
            },
            "[string, ...boolean[]]",
        ),
        # Draft 4-7 tuples (zod 3 through the Node runner): items as a list.
        (
            {
                "type": "array",
                "items": [{"type": "string"}, {"type": "integer"}],
                "minItems": 2,
                "maxItems": 2,
            },
            "[string, number]",
        ),
        (
            {
                "type": "array",
                "items": [{"type": "string"}],
                "minItems": 1,
                "additionalItems": {"type": "number"},
            },
            "[string, ...number[]]",
        ),
    ],
)
def test_arrays_and_tuples(schema: Any, expected: str) -> None:
    assert ts(schema) == expected


def test_unions_and_intersections() -> None:
    assert ts({"anyOf": [{"type": "string"}, {"type": "integer"}]}) == "string | number"
    assert ts({"oneOf": [{"const": "a"}, {"const": "b"}, {"const": "a"}]}) == "'a' | 'b'"
    # Nested unions stay flat; unknown absorbs a union.
    assert ts({"anyOf": [{"anyOf": [{"const": 1}, {"const": 2}]}, {"const": 3}]}) == "1 | 2 | 3"
    assert ts({"anyOf": [{"type": "string"}, {}]}) == "unknown"
    assert ts(
        {"allOf": [obj({"a": {"type": "string"}}, ["a"]), obj({"b": {"type": "number"}})]}
    ) == ("{\n  a: string;\n} & {\n  b?: number;\n}")
    assert ts({"allOf": [{"type": "string"}]}) == "string"
    # A union inside an intersection is parenthesized.
    mixed = {
        "type": "object",
        "properties": {"kind": {"type": "string"}},
        "required": ["kind"],
        "anyOf": [obj({"a": {"type": "string"}}, ["a"]), obj({"b": {"type": "string"}}, ["b"])],
    }
    assert ts(mixed) == ("{\n  kind: string;\n} & ({\n  a: string;\n} | {\n  b: string;\n})")


def test_refs_resolve_locally_and_recursion_stops() -> None:
    schema = {
        "$defs": {"Tag": {"type": "string", "enum": ["a", "b"]}},
        "definitions": {"Old": {"type": "integer"}},
        "type": "object",
        "properties": {
            "tag": {"$ref": "#/$defs/Tag"},
            "old": {"$ref": "#/definitions/Old"},
            "same": {"$ref": "#/properties/old"},
            "slash": {"$ref": "#/$defs/a~1b"},
            "remote": {"$ref": "https://example.com/schema.json"},
            "missing": {"$ref": "#/$defs/Nope"},
        },
    }
    schema["$defs"]["a/b"] = {"type": "boolean"}
    assert ts(schema) == (
        "{\n  tag?: 'a' | 'b';\n  old?: number;\n  same?: number;\n  slash?: boolean;\n"
        "  remote?: unknown;\n  missing?: unknown;\n}"
    )
    tree = {
        "$defs": {
            "Node": obj(
                {"value": {"type": "integer"}, "children": {"items": {"$ref": "#/$defs/Node"}}},
                ["value"],
            )
        },
        "$ref": "#/$defs/Node",
    }
    assert ts(tree) == "{\n  value: number;\n  children?: unknown[];\n}"


class Address(BaseModel):
    street: str
    city: str | None = None


class Customer(BaseModel):
    name: str = Field(description="Full name")
    tags: list[str] = []
    address: Address
    previous: list[Address] | None = None


def test_pydantic_model_schema() -> None:
    assert ts(Customer.model_json_schema()) == (
        "{\n"
        "  /** Full name */\n"
        "  name: string;\n"
        "  tags?: string[];\n"
        "  address: {\n"
        "    street: string;\n"
        "    city?: string | null;\n"
        "  };\n"
        "  previous?: {\n"
        "    street: string;\n"
        "    city?: string | null;\n"
        "  }[] | null;\n"
        "}"
    )


def test_output_is_deterministic() -> None:
    schema = Customer.model_json_schema()
    assert ts(schema) == ts(Customer.model_json_schema())


# --- the project's types.d.ts ------------------------------------------------------------------

SHOP: dict[str, str] = {
    "steps/create_order_step.py": """
        config = {
            "type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
            "bodySchema": {
                "type": "object",
                "properties": {"item": {"type": "string"}, "quantity": {"type": "integer"}},
                "required": ["item"],
            },
            "responseSchema": {
                "201": {"type": "object", "properties": {"id": {"type": "string"}},
                        "required": ["id"]},
                400: {"type": "object", "properties": {"error": {"type": "string"}}},
            },
            "emits": ["order.created", {"topic": "order.flagged", "label": "suspicious"},
                      {"topic": "order.created", "label": "again"}, "audit.logged"],
        }

        async def handler(req, ctx):
            return {"status": 201, "body": {"id": "1"}}
    """,
    "steps/health_step.py": """
        config = {"type": "api", "name": "Health", "method": "GET", "path": "/health",
                  "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": "ok"}
    """,
    "steps/charge_step.py": """
        config = {
            "type": "event", "name": "Charge", "subscribes": ["order.created"],
            "emits": [{"topic": "order.charged", "label": "paid", "conditional": True}],
            "input": {
                "type": "object",
                "properties": {"item": {"type": "string"}, "quantity": {"type": "integer"}},
                "required": ["item", "quantity"],
            },
        }

        async def handler(input_data, ctx):
            pass
    """,
    "steps/reserve_step.py": """
        config = {
            "type": "event", "name": "Reserve", "subscribes": ["order.created"], "emits": [],
            "input": {"type": "object", "properties": {"warehouse": {"type": "string"}},
                      "required": ["warehouse"]},
        }

        async def handler(input_data, ctx):
            pass
    """,
    "steps/review_step.py": """
        config = {"type": "event", "name": "Review", "subscribes": ["order.flagged"],
                  "emits": []}

        async def handler(input_data, ctx):
            pass
    """,
    "steps/receipt_step.py": """
        config = {"type": "event", "name": "Receipt", "subscribes": ["order.charged"],
                  "emits": []}

        async def handler(input_data, ctx):
            pass
    """,
    "steps/nightly_step.py": """
        config = {"type": "cron", "name": "Nightly", "cron": "0 3 * * *",
                  "emits": ["order.created"]}

        async def handler(ctx):
            pass
    """,
    "steps/manual_step.py": """
        config = {"type": "noop", "name": "Manual", "virtualSubscribes": ["order.flagged"],
                  "virtualEmits": ["order.created"]}
    """,
    "steps/orders_stream.py": """
        config = {
            "name": "orders",
            "schema": {"type": "object", "properties": {"status": {"type": "string"}},
                       "required": ["status"]},
            "baseConfig": {"storageType": "default"},
        }
    """,
    "steps/free_stream.py": """
        config = {"name": "free-form", "baseConfig": {"storageType": "default", "ttl": 60}}
    """,
}


def load(root: Path) -> LoadedProject:
    project = load_project(root)
    assert not project.errors, [str(p) for p in project.errors]
    return project


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", SHOP)


@pytest.fixture
def shop_types(shop: Path) -> str:
    return render_types(shop, load(shop))


def handler_entry(types: str, name: str) -> str:
    match = re.search(rf"\n    /\*\*[^\n]*\*/\n    '{name}': (.*?\n    >;)", types, re.S)
    assert match, f"no Handlers entry for {name}:\n{types}"
    return re.sub(r"\n\s*", " ", match.group(1))  # one line, for readable assertions


def test_file_declares_the_whole_motia_module(shop_types: str) -> None:
    assert shop_types.startswith("/**")
    assert "Generated by `motia generate types`" in shop_types.split("*/")[0]
    # No top-level import/export: the file is a global declaration, not an augmentation of an
    # npm package, so it needs no `motia` package.
    assert not re.search(r"^(import|export)\b", shop_types, re.M)
    assert "declare module 'motia' {" in shop_types
    for name in (
        "ApiRouteConfig",
        "EventConfig",
        "CronConfig",
        "NoopConfig",
        "StreamConfig",
        "ApiRouteHandler",
        "EventHandler",
        "CronHandler",
        "ApiMiddleware",
        "FlowContextStateStreams",
        "Handlers",
    ):
        assert re.search(rf"export (interface|type) {name}\b", shop_types), name
    assert "export type ApiResponse<TStatus extends number = number, TBody = unknown>" in (
        shop_types
    )
    assert "export interface FlowContext<TEmit = EmitData>" in shop_types


def test_handlers_for_api_event_and_cron_steps(shop_types: str) -> None:
    handlers = shop_types.split("export interface Handlers {")[1]
    names = re.findall(r"^    '([^']+)':", handlers, re.M)
    assert names == sorted(names) == ["Charge", "CreateOrder", "Health", "Nightly", "Receipt",
                                      "Reserve", "Review"]  # fmt: skip
    assert "'Manual'" not in handlers  # noop steps have no handler
    assert handler_entry(shop_types, "CreateOrder") == (
        "ApiRouteHandler< { item: string; quantity?: number; }, "
        "ApiResponse<201, { id: string; }> | ApiResponse<400, { error?: string; }>, "
        "{ topic: 'order.created'; data: { item: string; quantity: number; } & "
        "{ warehouse: string; }; messageGroupId?: string; } | "
        "{ topic: 'order.flagged'; data?: unknown; messageGroupId?: string; } | "
        "{ topic: 'audit.logged'; data?: unknown; messageGroupId?: string; } >;"
    )
    assert handler_entry(shop_types, "Health") == (
        "ApiRouteHandler< unknown, ApiResponse<number, unknown>, EmitData >;"
    )
    assert handler_entry(shop_types, "Charge") == (
        "EventHandler< { item: string; quantity: number; }, "
        "{ topic: 'order.charged'; data?: unknown; messageGroupId?: string; } >;"
    )
    assert handler_entry(shop_types, "Review") == "EventHandler< unknown, EmitData >;"
    assert handler_entry(shop_types, "Nightly").startswith(
        "CronHandler< { topic: 'order.created'; data: { item: string; quantity: number; } & "
    )
    assert "/** api step (POST /orders), steps/create_order_step.py */" in shop_types


def test_emits_without_subscriber_schemas_are_never_never(shop_types: str) -> None:
    """Classic Motia typed such emits as `never` (#547): nothing could be emitted."""
    handlers = shop_types.split("export interface Handlers {")[1]
    assert "never" not in handlers
    # A subscriber without an input schema, and a topic nobody subscribes to.
    assert "{ topic: 'order.flagged'; data?: unknown;" in handler_entry(shop_types, "CreateOrder")
    assert "{ topic: 'audit.logged'; data?: unknown;" in handler_entry(shop_types, "CreateOrder")


def test_labelled_emits_are_typed_by_their_topic(shop_types: str) -> None:
    """Classic Motia mistyped `{topic, label}` emits (#432)."""
    entry = handler_entry(shop_types, "CreateOrder")
    assert entry.count("topic: 'order.created'") == 1  # listed twice, once with a label
    assert "label" not in entry
    assert "topic: 'order.charged'" in handler_entry(shop_types, "Charge")


def test_stream_item_types(shop_types: str) -> None:
    streams = shop_types.split("export interface FlowContextStateStreams {")[1].split("\n  }")[0]
    assert streams == (
        "\n    /** stream 'free-form' (steps/free_stream.py) */"
        "\n    'free-form': MotiaStream<Record<string, unknown>>;"
        "\n    /** stream 'orders' (steps/orders_stream.py) */"
        "\n    'orders': MotiaStream<{\n      status: string;\n    }>;"
    )
    assert "export type StreamItem<TData> = TData & {\n    id: string;" in shop_types
    for method in ("get(", "set(", "update(", "delete(", "getGroup(", "send<"):
        assert f"    {method}" in shop_types.split("export interface MotiaStream<TData> {")[1]


def test_project_without_steps(tmp_path: Path) -> None:
    types = render_types(tmp_path, LoadedProject())
    assert "  export interface Handlers {}" in types
    assert "  export interface FlowContextStateStreams {}" in types


# --- write_types (for `motia dev`) -------------------------------------------------------------


def test_write_types_only_for_typescript_projects_and_only_on_change(shop: Path) -> None:
    target = shop / TYPES_FILE
    assert write_types(shop, load(shop)) is None  # Python only, no tsconfig.json
    assert not target.exists()

    (shop / "tsconfig.json").write_text("{}")
    assert write_types(shop, load(shop)) == target
    first = target.read_text()
    assert first == render_types(shop, load(shop))
    assert write_types(shop, load(shop)) is None  # unchanged: not rewritten

    (shop / "steps" / "health_step.py").write_text(
        (shop / "steps" / "health_step.py").read_text().replace("/health", "/healthz")
    )
    assert write_types(shop, load(shop)) == target
    assert target.read_text() != first
    assert not list(shop.glob(".*.partial"))


# --- the command -------------------------------------------------------------------------------


def generate_types(*args: str) -> Any:
    return CliRunner().invoke(cli, ["generate", "types", *args])


def test_cli_writes_types_d_ts(shop: Path) -> None:
    result = generate_types("--dir", str(shop))
    assert result.exit_code == 0, result.output
    target = shop / TYPES_FILE
    assert f"wrote {target} (7 handler(s), 2 stream(s))" in result.output
    assert target.read_text() == render_types(shop, load(shop))

    again = generate_types("--dir", str(shop))
    assert again.exit_code == 0 and "is up to date" in again.output

    custom = generate_types("--dir", str(shop), "-o", "types/motia.d.ts")
    assert custom.exit_code == 0, custom.output
    assert (shop / "types" / "motia.d.ts").read_text() == target.read_text()

    printed = generate_types("--dir", str(shop), "-o", "-")
    assert printed.exit_code == 0
    assert printed.stdout == target.read_text()


def test_cli_refuses_a_project_with_errors(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "broken",
        {
            "steps/bad_step.py": """
                config = {"type": "api", "name": "Bad", "method": "POST", "emitz": []}

                async def handler(req, ctx):
                    pass
            """
        },
    )
    result = generate_types("--dir", str(project))
    assert result.exit_code == 1
    assert "error: steps/bad_step.py" in result.stderr
    assert "motia generate types: the project has" in result.stderr
    assert not (project / TYPES_FILE).exists()


# --- tsc ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ts_fixture() -> Path:
    """tests/tooling/fixtures/ts_project with its npm packages (`npm ci` when missing)."""
    require("npx")
    return npm_install(TS_PROJECT)


@pytest.fixture
def ts_project(tmp_path: Path, ts_fixture: Path) -> Path:
    """A copy of the fixture (sharing its node_modules), with types.d.ts generated from the
    loaded project: its TypeScript steps and its Python step."""
    copy = tmp_path / "ts_project"
    shutil.copytree(ts_fixture, copy, ignore=shutil.ignore_patterns("node_modules", "types.d.ts"))
    (copy / "node_modules").symlink_to(ts_fixture / "node_modules", target_is_directory=True)
    project = load_project(copy)
    languages = {step.name: step.language for step in project.steps}
    assert not project.errors, [str(p) for p in project.errors]
    assert languages == {
        "CleanupResources": "typescript",
        "CreateResource": "typescript",
        "DataProcessor": "python",
        "GetResource": "typescript",
        "ResourceNotifier": "typescript",
    }
    assert [s.name for s in project.streams] == ["resource-updates"]
    result = generate_types("--dir", str(copy))
    assert result.exit_code == 0, result.output
    return copy


def tsc(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npx", "--no", "--", "tsc", "--noEmit", "--pretty", "false"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_tsc_accepts_the_template_steps(ts_project: Path) -> None:
    result = tsc(ts_project)
    assert result.returncode == 0, result.stdout + result.stderr

    project = load_project(ts_project)
    assert write_types(ts_project, project) is None  # up to date
    (ts_project / "tsconfig.json").unlink()
    assert has_node_code(ts_project, project)  # TypeScript steps alone are enough


# Each handler is wrong in one way; tsc must report each at its line.
WRONG_HANDLERS = """\
import { Handlers } from 'motia'

export const wrongTopic: Handlers['CreateResource'] = async (req, { emit }) => {
  await emit({ topic: 'resource.deleted', data: {} })
  return { status: 201, body: { id: '1', name: req.body.name, status: 'created' } }
}
export const wrongBodyType: Handlers['CreateResource'] = async (req) => {
  return { status: 201, body: { id: 1, name: req.body.name, status: 'created' } }
}
export const undeclaredStatus: Handlers['CreateResource'] = async () => {
  return { status: 404, body: { error: 'not found' } }
}
export const wrongLabelledEmitData: Handlers['CleanupResources'] = async ({ emit }) => {
  await emit({ topic: 'resource.processed', data: { id: 7 } })
}
export const wrongInputField: Handlers['ResourceNotifier'] = async (input) => {
  console.log(input.identifier)
}
export const wrongStreamItem: Handlers['ResourceNotifier'] = async (input, { streams }) => {
  await streams['resource-updates'].set('resources', input.id, { status: 1, updatedAt: '' })
}
export const unknownStream: Handlers['ResourceNotifier'] = async (input, { streams }) => {
  await streams['resource-archive'].get('resources', input.id)
}
export const wrongPythonStepEmit: Handlers['DataProcessor'] = async (input, { emit }) => {
  await emit({ topic: 'resource.processed', data: { id: 'x' } })
}
"""
EXPECTED_ERRORS = {
    4: "Type '\"resource.deleted\"' is not assignable to type '\"resource.created\"'",
    7: "Type 'number' is not assignable to type 'string'",
    10: "Type '404' is not assignable to type",
    14: "Property 'processedAt' is missing",
    17: "Property 'identifier' does not exist",
    20: "Type 'number' is not assignable to type 'string'",
    23: "Property 'resource-archive' does not exist on type 'FlowContextStateStreams'",
    26: "Property 'processedAt' is missing",
}


def test_tsc_rejects_wrong_handlers(ts_project: Path) -> None:
    (ts_project / "steps" / "lib").mkdir()
    (ts_project / "steps" / "lib" / "wrong-handlers.ts").write_text(WRONG_HANDLERS)
    result = tsc(ts_project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    errors: dict[int, str] = {}
    for match in re.finditer(r"^(\S+)\((\d+),\d+\): error (.*(?:\n .*)*)", output, re.M):
        assert match.group(1) == "steps/lib/wrong-handlers.ts", output
        errors[int(match.group(2))] = match.group(3)
    assert sorted(errors) == sorted(EXPECTED_ERRORS), output
    for line, message in EXPECTED_ERRORS.items():
        assert message in errors[line], f"line {line}:\n{errors[line]}"


def test_the_committed_types_of_the_multi_language_example_are_current(tmp_path: Path) -> None:
    """examples/multi-language ships its types.d.ts, as projects do: it must be what
    `motia generate types` writes today."""
    from tests.runners.support import multi_language_example

    require("ruby")
    example = multi_language_example(tmp_path / "example")
    project = load_project(example)
    assert not project.errors, [str(p) for p in project.errors]
    committed = (example / TYPES_FILE).read_text()
    assert render_types(example, project) == committed, (
        "run `motia generate types --dir examples/multi-language`"
    )
