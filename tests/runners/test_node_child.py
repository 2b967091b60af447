"""The child side of the Node runner (src/motia/runners/node), driven over raw protocol frames
with a real `node`: loading JavaScript and TypeScript steps, zod schemas as JSON Schema,
invocations and their context calls, logs, concurrency and the process lifecycle.

The step files live in fixtures/node_project, whose npm packages (esbuild, typescript, zod 3
and, as `zod4`, zod 4) are installed with `npm ci` when they are missing."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import statistics
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.runners.wire import Frame, RawRunner
from tests.tools import npm_install, require

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "src" / "motia" / "runners" / "node" / "runner.mjs"
RUNNER_DIR = RUNNER.parent
PROJECT = Path(__file__).resolve().parent / "fixtures" / "node_project"
MISSING_TRANSPILER = (
    "TypeScript steps need Node.js 22.13 or newer (it strips types by itself), or "
    "`pip install motia-python[node]`, or a transpiler in the project: "
    "`npm install --save-dev esbuild`"
)
CTX = {"traceId": "trace-1", "flows": ["flow-a"], "step": "Step", "streams": ["resource-updates"]}
API_REQUEST = {"body": None, "headers": {}, "pathParams": {}, "queryParams": {}, "rawBody": ""}

Report = dict[str, Any]
Answer = Callable[[Frame], Frame | None]


def step(relative: str) -> str:
    """The absolute path of a fixture project file, as the server sends it."""
    return str(PROJECT / relative)


def ok(value: Any = None) -> Frame:
    return {"t": "ok", "value": value}


def err(message: str, name: str = "Error") -> Frame:
    return {"t": "err", "error": {"message": message, "name": name}}


# --- the machine ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node() -> str:
    return require("node")


@pytest.fixture(scope="session")
def project(node: str) -> Path:
    """The fixture project with its npm packages (`npm ci` when one is missing)."""
    return npm_install(PROJECT)


# --- a runner and its frames -----------------------------------------------------------------


@dataclass
class Served:
    """What one invocation produced: its answer and, before it, its calls and logs."""

    answer: Frame
    calls: list[Frame]
    logs: list[Frame]

    @property
    def value(self) -> Any:
        assert self.answer["t"] == "ok", self.answer
        return self.answer.get("value")

    @property
    def error(self) -> dict[str, Any]:
        assert self.answer["t"] == "err", self.answer
        error: dict[str, Any] = self.answer["error"]
        return error


class Runner:
    """A started runner that has said hello."""

    def __init__(self, raw: RawRunner) -> None:
        self.raw = raw
        self.hello = raw.read()

    def load(self, *files: str | Path) -> list[Report]:
        request = self.raw.request({"t": "load", "files": [str(f) for f in files]})
        frame, _ = self.raw.read_until(lambda f: f.get("re") == request, timeout=60)
        assert frame["t"] == "ok", frame
        reports: list[Report] = frame["value"]["files"]
        return reports

    def load_one(self, file: str | Path) -> Report:
        [report] = self.load(file)
        return report

    def invoke(self, file: str, kind: str, input: Any = None, ctx: Frame | None = None) -> int:
        frame = {"t": "invoke", "file": file, "kind": kind, "input": input, "ctx": ctx or CTX}
        return self.raw.request(frame)

    def serve(self, request: int, answer: Answer | None = None, timeout: float = 10) -> Served:
        """Read frames up to the answer of `request`, answering each call with `answer(call)`
        (`ok(None)` when it returns None)."""
        calls: list[Frame] = []
        logs: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.raw.read(max(0.01, deadline - time.monotonic()))
            if frame["t"] == "call":
                calls.append(frame)
                reply = (answer(frame) if answer else None) or ok()
                self.raw.send({**reply, "re": frame["id"]})
            elif frame["t"] == "log":
                logs.append(frame)
            elif frame.get("re") == request:
                return Served(frame, calls, logs)
            else:
                raise AssertionError(f"unexpected frame while serving {request}: {frame}")

    def run(self, file: str, kind: str, input: Any = None, answer: Answer | None = None) -> Served:
        return self.serve(self.invoke(file, kind, input), answer)

    def stop(self, timeout: float = 10) -> tuple[int, str, str]:
        """Send `shutdown`; returns the exit status and everything printed."""
        self.raw.send({"t": "shutdown"})
        return self.finish(timeout)

    def finish(self, timeout: float = 10) -> tuple[int, str, str]:
        status = self.raw.process.wait(timeout)
        assert self.raw.process.stdout is not None and self.raw.process.stderr is not None
        stdout = self.raw.process.stdout.read().decode(errors="replace")
        stderr = self.raw.process.stderr.read().decode(errors="replace")
        return status, stdout, stderr


@pytest.fixture
def start(node: str) -> Iterator[Callable[..., Runner]]:
    """Start runners: `start(project_dir, env=None)`; all are closed after the test."""
    started: list[RawRunner] = []

    def launch(project_dir: Path, env: dict[str, str] | None = None) -> Runner:
        raw = RawRunner([node, str(RUNNER)], project_dir, env)
        started.append(raw)
        return Runner(raw)

    yield launch
    for raw in started:
        raw.close()


@pytest.fixture
def runner(start: Callable[..., Runner], project: Path) -> Runner:
    """A runner of the fixture project, nothing loaded yet."""
    return start(project)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


# --- channel ---------------------------------------------------------------------------------


def test_hello_comes_first_and_names_the_runtime(runner: Runner, node: str) -> None:
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    assert runner.hello == {
        "t": "hello",
        "protocol": 1,
        "runtime": "node",
        "version": version,
        "pid": runner.raw.process.pid,
    }


def test_a_ping_is_answered_at_once(runner: Runner) -> None:
    rid = runner.raw.request({"t": "ping"})
    assert runner.raw.read() == {"t": "ok", "re": rid, "value": None}


def test_frames_cut_anywhere_and_many_frames_in_one_chunk(runner: Runner) -> None:
    file = step("steps/legacy.step.cjs")
    runner.load(file)
    text = "héllo ✓ 日本\nand a newline inside"
    frame = {"t": "invoke", "id": 1001, "file": file, "kind": "event", "input": text}
    data = json.dumps(frame, ensure_ascii=False).encode() + b"\n"
    for index in range(len(data)):  # one byte at a time, cutting UTF-8 characters in two
        runner.raw.sock.sendall(data[index : index + 1])
    assert runner.serve(1001).value == {"legacy": True, "input": text}

    many = b"".join(
        f'{{"t":"invoke","id":{2000 + n},"file":"{file}","kind":"event","input":{n}}}\n'.encode()
        for n in range(50)
    )
    runner.raw.sock.sendall(many)
    answers = [runner.raw.read() for _ in range(50)]
    assert sorted(a["re"] for a in answers) == list(range(2000, 2050))
    assert all(a["value"] == {"legacy": True, "input": a["re"] - 2000} for a in answers)


def test_unknown_frames_and_lines_that_are_not_json_are_ignored(runner: Runner) -> None:
    file = step("steps/legacy.step.cjs")
    runner.load(file)
    runner.raw.sock.sendall(b'{"t":"from-the-future","x":1}\nnot json at all\n[1,2]\n\n\r\n')
    assert runner.run(file, "event", "still here").value == {"legacy": True, "input": "still here"}
    status, _, stderr = runner.stop()
    assert status == 0
    assert "not JSON" in stderr


def test_a_line_longer_than_64_mib_ends_the_runner_with_a_message(runner: Runner) -> None:
    chunk = b"x" * (1 << 20)
    with contextlib.suppress(OSError):  # the runner stops reading and exits mid-way
        for _ in range(65):
            runner.raw.sock.sendall(chunk)
    status, _, stderr = runner.finish()
    assert status == 1
    assert "longer than 67108864 bytes" in stderr


def test_the_runner_exits_when_the_server_closes_the_channel(runner: Runner) -> None:
    runner.load(step("steps/events/wait-for-state.step.js"))
    runner.invoke(step("steps/events/wait-for-state.step.js"), "event", {"n": 1})
    assert runner.raw.read()["t"] == "call"  # an invocation in flight does not hold it
    runner.raw.sock.close()
    assert runner.finish(5)[0] == 0


def test_shutdown_finishes_invocations_in_flight_then_exits_0(runner: Runner) -> None:
    file = step("steps/events/wait-for-state.step.js")
    runner.load(file)
    first = runner.invoke(file, "event", {"n": 1})
    call = runner.raw.read()
    assert call["t"] == "call" and call["inv"] == first
    runner.raw.send({"t": "shutdown"})
    late = runner.invoke(file, "event", {"n": 2})
    refused = runner.raw.read()
    assert refused == {
        "t": "err",
        "re": late,
        "error": {"message": "the runner is shutting down"},
    }
    time.sleep(0.2)
    assert runner.raw.process.poll() is None  # still waiting for the first invocation
    runner.raw.send({"t": "ok", "re": call["id"], "value": "kept"})
    assert runner.raw.read() == {"t": "ok", "re": first, "value": {"n": 1, "value": "kept"}}
    assert runner.finish()[0] == 0


# --- loading ---------------------------------------------------------------------------------


def test_load_reports_one_report_per_file_in_order(runner: Runner) -> None:
    files = [
        step("steps/resource-updates.stream.ts"),
        step("steps/api/js-create.step.js"),
        step("steps/broken/no-config.step.js"),
        step("steps/esm/module.step.mjs"),
    ]
    reports = runner.load(*files)
    assert [r["file"] for r in reports] == files
    assert [r["kind"] for r in reports] == ["stream", "step", "step", "step"]
    assert [r["handler"] for r in reports] == [False, True, False, False]
    assert [r["error"] is None for r in reports] == [True, True, False, True]
    for report in reports:
        assert set(report) == {"file", "kind", "config", "handler", "functions", "error"}


def test_javascript_steps_in_every_module_form(runner: Runner) -> None:
    reports = runner.load(
        step("steps/api/js-create.step.js"),  # CommonJS, module.exports = { config, handler }
        step("steps/esm/greet.step.js"),  # ESM through "type": "module"
        step("steps/esm/module.step.mjs"),  # ESM by extension, no handler (noop)
        step("steps/legacy.step.cjs"),  # CommonJS by extension
        step("steps/snake_case_step.js"),  # the `_step` naming
    )
    assert [r["error"] for r in reports] == [None] * 5
    assert [r["config"]["name"] for r in reports] == [
        "CreateNote",
        "GreetEsm",
        "EsmNoop",
        "Legacy",
        "SnakeCase",
    ]
    assert [r["handler"] for r in reports] == [True, True, False, True, True]
    assert reports[0]["config"] == {
        "type": "api",
        "name": "CreateNote",
        "description": "Creates a note (the CommonJS form of the project template)",
        "method": "POST",
        "path": "/notes",
        "bodySchema": {
            "type": "object",
            "properties": {"text": {"type": "string", "minLength": 1}},
            "required": ["text"],
        },
        "emits": ["note.created"],
        "flows": ["notes"],
    }


def test_typescript_api_step_in_the_template_form(runner: Runner) -> None:
    report = runner.load_one(step("steps/api/create-resource.step.ts"))
    assert report["error"] is None and report["handler"] is True and report["functions"] == []
    config = report["config"]
    assert config["name"] == "CreateResource" and config["emits"] == ["resource.created"]
    draft7 = "http://json-schema.org/draft-07/schema#"
    assert config["bodySchema"] == {
        "$schema": draft7,
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "description": {"type": "string", "maxLength": 500},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
            "email": {"type": "string", "format": "email"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
        },
        "required": ["title", "email"],
    }
    assert config["responseSchema"] == {
        "201": {
            "$schema": draft7,
            "type": "object",
            "properties": {"id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}},
            "required": ["id", "title"],
        },
        "500": {
            "$schema": draft7,
            "type": "object",
            "properties": {"error": {"type": "string"}},
            "required": ["error"],
        },
    }


def test_zod3_types_become_json_schema(runner: Runner) -> None:
    schema = runner.load_one(step("steps/events/schema-zoo.step.ts"))["config"]["input"]
    jsonschema.Draft7Validator.check_schema(schema)
    properties = schema["properties"]
    expected = {
        "text": {"type": "string", "minLength": 2, "maxLength": 10},
        "exact": {"type": "string", "minLength": 4, "maxLength": 4},
        "email": {"type": "string", "format": "email"},
        "url": {"type": "string", "format": "uri"},
        "uuid": {"type": "string", "format": "uuid"},
        "pattern": {"type": "string", "pattern": "^[a-z]+$"},
        "when": {"type": "string", "format": "date-time"},
        "int": {"type": "integer", "minimum": 0, "maximum": 100},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "flag": {"type": "boolean"},
        "nothing": {"type": "null"},
        "literal": {"type": "string", "const": "fixed"},
        "choice": {"type": "string", "enum": ["a", "b"]},
        "color": {"type": "string", "enum": ["red", "green"]},
        "level": {"type": "number", "enum": [0, 1]},
        "list": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 3},
        "pair": {
            "type": "array",
            "items": [{"type": "string"}, {"type": "number"}],
            "minItems": 2,
            "maxItems": 2,
        },
        "either": {"anyOf": [{"type": "string"}, {"type": "number"}]},
        "shape": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "const": "circle"},
                        "r": {"type": "number"},
                    },
                    "required": ["kind", "r"],
                },
                {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "const": "square"},
                        "side": {"type": "number"},
                    },
                    "required": ["kind", "side"],
                },
            ]
        },
        "both": {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"type": "object", "properties": {"b": {"type": "number"}}, "required": ["b"]},
            ]
        },
        "dict": {"type": "object", "additionalProperties": {"type": "number"}},
        "anything": {},
        "unknown": {},
        "date": {"type": "string", "format": "date-time"},
        "trimmed": {"type": "string"},  # a transform shows what it reads
        "refined": {"type": "number"},
        "tree": {  # recursion ends in {}
            "type": "object",
            "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {}}},
            "required": ["name", "children"],
        },
        "branded": {"type": "string"},
        "caught": {"type": "number"},
        "piped": {"type": "string"},
        "optional": {"type": "string"},
        "nullable": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "defaulted": {"type": "number", "default": 5},
        "described": {"type": "string", "description": "a described field"},
        "strict": {
            "type": "object",
            "properties": {"only": {"type": "string"}},
            "required": ["only"],
            "additionalProperties": False,
        },
        "loose": {
            "type": "object",
            "properties": {"some": {"type": "string"}},
            "required": ["some"],
        },
        "extra": {"type": "object", "properties": {}, "additionalProperties": {"type": "number"}},
    }
    assert properties == expected
    optional = {"anything", "unknown", "caught", "optional", "defaulted"}
    assert schema["required"] == [name for name in expected if name not in optional]
    assert schema["additionalProperties"] is False


def test_zod4_schemas_are_converted_by_zods_own_converter(runner: Runner) -> None:
    report = runner.load_one(step("steps/api/zod4-schemas.step.ts"))
    assert report["error"] is None
    body = report["config"]["bodySchema"]
    assert body["type"] == "object"
    assert body["required"] == ["name", "age"]  # `role` has a default: optional on input
    assert body["properties"]["name"] == {"type": "string", "minLength": 2, "maxLength": 20}
    assert body["properties"]["age"]["type"] == "integer"
    assert body["properties"]["age"]["minimum"] == 0
    assert body["properties"]["role"] == {
        "default": "user",
        "type": "string",
        "enum": ["admin", "user"],
    }
    # zod 3.25's `zod/v4`, converted by that copy's own converter.
    response = report["config"]["responseSchema"]["200"]
    assert response["required"] == ["ok", "count"]
    assert response["properties"]["count"] == {"type": "number", "minimum": 1}
    for schema in (body, response):
        jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate({"name": "Al", "age": 3}, body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "A", "age": 3}, body)


def test_stream_config_in_the_template_form(runner: Runner) -> None:
    report = runner.load_one(step("steps/resource-updates.stream.ts"))
    assert report["kind"] == "stream" and report["handler"] is False
    assert report["functions"] == ["canAccess"]
    config = report["config"]
    assert config["name"] == "resource-updates"
    assert config["baseConfig"] == {"storageType": "default", "ttl": 3600}
    assert config["schema"]["properties"]["status"] == {
        "type": "string",
        "enum": ["created", "processing", "done"],
    }
    assert config["schema"]["required"] == ["status"]
    assert "canAccess" not in config


def test_functions_in_nested_fields_are_listed_and_removed(runner: Runner) -> None:
    stream, guarded = runner.load(
        step("steps/custom_store_stream.js"), step("steps/api/guarded.step.js")
    )
    assert stream["kind"] == "stream"
    assert stream["functions"] == ["baseConfig.factory", "canAccess"]
    assert stream["config"]["baseConfig"] == {"storageType": "custom"}
    assert guarded["functions"] == ["middleware"]
    assert "middleware" not in guarded["config"]


def test_load_errors_carry_message_stack_and_line(runner: Runner) -> None:
    ts_syntax, js_syntax, throws, no_config, missing = runner.load(
        step("steps/broken/syntax.step.ts"),
        step("steps/broken/syntax.step.js"),
        step("steps/broken/throws.step.ts"),
        step("steps/broken/no-config.step.js"),
        step("steps/broken/does-not-exist.step.js"),
    )
    for report in (ts_syntax, js_syntax, throws, no_config, missing):
        assert report["config"] is None and report["handler"] is False
        assert set(report["error"]) == {"message", "stack", "line"}
    assert ts_syntax["error"]["line"] == 4
    assert "Expected identifier" in ts_syntax["error"]["message"]
    assert js_syntax["error"]["line"] == 6  # the unexpected end of the file
    assert "Unexpected end of input" in js_syntax["error"]["message"]
    assert throws["error"]["message"] == "API_KEY is not set"
    assert throws["error"]["line"] == 6  # a TypeScript line, through the source map
    assert "throws.step.ts:6:" in throws["error"]["stack"]
    assert str(RUNNER_DIR) not in throws["error"]["stack"]
    assert no_config["error"] == {
        "message": "no-config.step.js does not export a `config` object",
        "stack": None,
        "line": None,
    }
    assert "Cannot find module" in missing["error"]["message"]
    assert missing["error"]["line"] is None
    # None of this hurt the runner, and a failed file answers invocations with an error.
    served = runner.run(step("steps/broken/throws.step.ts"), "event", {})
    assert served.error["message"].endswith("failed to load: API_KEY is not set")
    runner.load(step("steps/legacy.step.cjs"))
    assert runner.run(step("steps/legacy.step.cjs"), "event", 1).value == {
        "legacy": True,
        "input": 1,
    }


def strips_types(node: str) -> bool:
    """Whether this Node strips TypeScript types itself (then no transpiler is asked)."""
    probe = "process.exit(require('node:module').stripTypeScriptTypes ? 0 : 1)"
    return subprocess.run([node, "-e", probe], check=False).returncode == 0


def test_typescript_falls_back_to_the_typescript_compiler(
    start: Callable[..., Runner], project: Path, tmp_path: Path, node: str
) -> None:
    if strips_types(node):
        pytest.skip("this Node strips types itself and asks no transpiler")
    (tmp_path / "node_modules").mkdir()
    for name in ("typescript", "zod"):  # no esbuild
        (tmp_path / "node_modules" / name).symlink_to(project / "node_modules" / name)
    (tmp_path / "package.json").write_text("{}")
    for name in ("api/create-resource.step.ts", "events/fails.step.ts", "broken/syntax.step.ts"):
        shutil.copy(project / "steps" / name, tmp_path / Path(name).name)
    runner = start(tmp_path)
    api, fails, syntax = runner.load(
        tmp_path / "create-resource.step.ts",
        tmp_path / "fails.step.ts",
        tmp_path / "syntax.step.ts",
    )
    # The type-only imports from 'motia' (no such package) were dropped.
    assert api["error"] is None and fails["error"] is None
    assert api["config"]["bodySchema"]["required"] == ["title", "email"]
    assert syntax["error"]["line"] == 4
    assert "Property assignment expected" in syntax["error"]["message"]
    served = runner.run(str(tmp_path / "fails.step.ts"), "event", {"reason": "tsc"})
    assert "fails.step.ts:13:" in served.error["stack"]


def test_a_typescript_step_without_a_transpiler_says_what_to_install(
    start: Callable[..., Runner], tmp_path: Path, node: str
) -> None:
    if strips_types(node):
        pytest.skip("this Node strips types itself and needs no transpiler")
    write(
        tmp_path,
        {
            "package.json": "{}",
            "steps/typed.step.ts": "export const config = { type: 'noop', name: 'Typed' }\n",
            "steps/plain.step.js": "exports.config = { type: 'noop', name: 'Plain' }\n",
        },
    )
    runner = start(tmp_path)
    typed, plain = runner.load(tmp_path / "steps/typed.step.ts", tmp_path / "steps/plain.step.js")
    assert typed["error"]["message"] == MISSING_TRANSPILER
    assert typed["error"]["line"] is None
    assert plain["error"] is None and plain["config"]["name"] == "Plain"


def test_typescript_steps_import_typescript_helpers(runner: Runner) -> None:
    file = step("steps/uses-helper.step.ts")
    assert runner.load_one(file)["error"] is None
    # `../lib/format` without an extension and `../lib/slug.js` naming slug.ts both resolve.
    assert runner.run(file, "event", {"title": "Hello World"}).value == {
        "shout": "HELLO WORLD!",
        "slug": "hello-world",
    }


def test_typescript_steps_in_a_type_module_project(
    start: Callable[..., Runner], project: Path, tmp_path: Path
) -> None:
    (tmp_path / "node_modules").symlink_to(project / "node_modules")
    write(
        tmp_path,
        {
            "package.json": '{ "type": "module" }',
            "lib/helper.ts": "export const helper = (): string => 'from ts'\n",
            "lib/plain.js": "export const plain = 'from esm js'\n",
            "steps/modern.step.ts": """
                import { EventConfig, Handlers } from 'motia'
                import { z } from 'zod'
                import { helper } from '../lib/helper.js'
                import { plain } from '../lib/plain.js'

                export const config: EventConfig = {
                  type: 'event', name: 'Modern', subscribes: ['m'], emits: [],
                  input: z.object({ a: z.string() }),
                }
                export const handler: Handlers['Modern'] = async () => [helper(), plain]
            """,
        },
    )
    runner = start(tmp_path)
    file = str(tmp_path / "steps" / "modern.step.ts")
    report = runner.load_one(file)
    assert report["error"] is None and report["config"]["input"]["required"] == ["a"]
    assert runner.run(file, "event", {"a": "x"}).value == ["from ts", "from esm js"]


def test_loading_a_file_again_reads_it_and_its_helpers_anew(
    start: Callable[..., Runner], project: Path, tmp_path: Path
) -> None:
    (tmp_path / "node_modules").symlink_to(project / "node_modules")

    def version(n: int) -> None:
        write(
            tmp_path,
            {
                "package.json": "{}",
                "lib/word.ts": f"export const word: string = 'word-{n}'\n",
                "steps/typed.step.ts": f"""
                    import {{ word }} from '../lib/word'
                    export const config = {{ type: 'event', name: 'Typed{n}', subscribes: [] }}
                    export const handler = async () => word
                """,
                "steps/common.step.js": f"""
                    exports.config = {{ type: 'event', name: 'Common{n}', subscribes: [] }}
                    exports.handler = async () => {n}
                """,
                "steps/module.step.mjs": f"""
                    export const config = {{ type: 'event', name: 'Module{n}', subscribes: [] }}
                    export const handler = async () => {n}
                """,
            },
        )

    files = [str(tmp_path / "steps" / name) for name in ("typed.step.ts", "common.step.js")]
    files.append(str(tmp_path / "steps" / "module.step.mjs"))
    runner = start(tmp_path)
    for n in (1, 2):
        version(n)
        reports = runner.load(*files)
        assert [r["config"]["name"] for r in reports] == [f"Typed{n}", f"Common{n}", f"Module{n}"]
        results = [runner.run(file, "event", {}).value for file in files]
        assert results == [f"word-{n}", n, n]


def test_loaded_steps_need_no_file_system_to_run(
    start: Callable[..., Runner], project: Path, tmp_path: Path
) -> None:
    (tmp_path / "node_modules").symlink_to(project / "node_modules")
    (tmp_path / "package.json").write_text("{}")
    shutil.copy(project / "steps/events/count.step.ts", tmp_path / "count.step.ts")
    runner = start(tmp_path)
    runner.load(tmp_path / "count.step.ts")
    (tmp_path / "count.step.ts").unlink()  # transpiled once at load, then kept in memory
    served = runner.run(str(tmp_path / "count.step.ts"), "event", {"by": 1})
    assert served.value["next"] == 1


# --- invocations -----------------------------------------------------------------------------


def test_typescript_api_handler_with_a_failing_emit(runner: Runner) -> None:
    file = step("steps/api/create-resource.step.ts")
    runner.load(file)

    def answer(call: Frame) -> Frame:
        if call["method"] == "state.set":
            return ok(call["args"][2])
        return err("topic resource.created is not declared", "EmitError")

    request = {**API_REQUEST, "body": {"title": "Roof", "email": "a@b.example"}}
    served = runner.run(file, "api", request, answer)
    set_call, emit_call = served.calls
    assert set_call["method"] == "state.set" and set_call["inv"] == served.answer["re"]
    group, key, resource = set_call["args"]
    assert group == "trace-1" and key == f"resource:{resource['id']}"
    assert resource == {"id": resource["id"], "title": "Roof", "email": "a@b.example"}
    assert emit_call["args"] == [{"topic": "resource.created", "data": resource}]
    # The err answer rejected the handler's `await emit(...)`, which it caught.
    assert served.value == {
        "status": 500,
        "body": {"error": "topic resource.created is not declared"},
    }
    assert served.logs == [
        {
            "t": "log",
            "inv": served.answer["re"],
            "level": "error",
            "msg": "Failed to create resource",
            "fields": {"error": "topic resource.created is not declared"},
        }
    ]


def test_commonjs_api_handler_in_the_template_form(runner: Runner) -> None:
    file = step("steps/api/js-create.step.js")
    runner.load(file)
    served = runner.run(file, "api", {**API_REQUEST, "body": {"text": "hi"}})
    assert [c["method"] for c in served.calls] == ["state.set", "emit"]
    note = served.value["body"]
    assert served.value == {"status": 201, "body": {"id": note["id"], "text": "hi"}}
    assert served.calls[1]["args"] == [{"topic": "note.created", "data": note}]
    assert [(log["level"], log["msg"], log["fields"]) for log in served.logs] == [
        ("info", "Note created", {"id": note["id"]})
    ]


def test_a_failed_call_rejects_with_the_answers_message_and_name(runner: Runner) -> None:
    file = step("steps/events/wait-for-state.step.js")
    runner.load(file)
    served = runner.run(file, "event", {"n": 3}, lambda call: err("no state here", "StateError"))
    assert served.value == {"n": 3, "error": {"name": "StateError", "message": "no state here"}}


def test_event_handler_gets_input_state_and_context_fields(runner: Runner) -> None:
    file = step("steps/events/count.step.ts")
    runner.load(file)
    answers = {"state.get": ok(4), "state.set": ok(6), "emit": ok()}
    served = runner.run(file, "event", {"by": 2}, lambda call: answers[call["method"]])
    assert [(c["method"], c["args"]) for c in served.calls] == [
        ("state.get", ["trace-1", "count"]),
        ("state.set", ["trace-1", "count", 6]),
        ("emit", [{"topic": "count.changed", "data": {"count": 6}}]),
    ]
    assert served.value == {"previous": 4, "next": 6, "traceId": "trace-1", "flows": ["flow-a"]}


def test_cron_handler_gets_only_the_context(runner: Runner) -> None:
    file = step("steps/events/nightly.step.js")
    runner.load(file)
    served = runner.run(file, "cron", None)
    assert served.value == "done"
    assert served.calls[0]["args"] == [{"topic": "nightly.ran", "data": {"traceId": "trace-1"}}]
    assert [log["msg"] for log in served.logs] == ["nightly run"]


def test_streams_of_the_context_name_their_stream(runner: Runner) -> None:
    file = step("steps/events/streams-user.step.ts")
    runner.load(file)
    answers = {
        "streams.set": ok({"status": "created", "id": "r1"}),
        "streams.send": ok(),
        "streams.getGroup": ok([{"id": "r1"}, {"id": "r2"}]),
    }
    served = runner.run(file, "event", {"id": "r1"}, lambda call: answers[call["method"]])
    assert [(c["method"], c["args"]) for c in served.calls] == [
        ("streams.set", ["resource-updates", "room-1", "r1", {"status": "created"}]),
        (
            "streams.send",
            ["resource-updates", {"groupId": "room-1"}, {"type": "ping", "data": {"id": "r1"}}],
        ),
        ("streams.getGroup", ["resource-updates", "room-1"]),
    ]
    assert served.value == {"item": {"status": "created", "id": "r1"}, "count": 2}


def test_calls_the_handler_did_not_await_finish_before_the_answer(runner: Runner) -> None:
    file = step("steps/events/fire-and-forget.step.js")
    runner.load(file)
    request = runner.invoke(file, "event", {"n": 1})
    calls = [runner.raw.read() for _ in range(3)]
    assert [c["method"] for c in calls] == ["emit", "state.set", "state.get"]
    for call in calls:
        value = "other value" if call["method"] == "state.get" else None
        runner.raw.send({"t": "ok", "re": call["id"], "value": value})
    # The emit that runs once `state.get` is answered is still part of the invocation.
    late = runner.raw.read()
    assert late["method"] == "emit" and late["inv"] == request
    assert late["args"] == [{"topic": "after-get", "data": {"value": "other value"}}]
    with pytest.raises(TimeoutError):
        runner.raw.read(timeout=0.3)  # no answer while that emit is unanswered
    runner.raw.send({"t": "ok", "re": late["id"]})
    assert runner.raw.read() == {"t": "ok", "re": request, "value": "returned early"}


def test_a_failed_call_nobody_awaited_is_a_warning_of_its_invocation(runner: Runner) -> None:
    file = step("steps/events/fire-and-forget.step.js")
    runner.load(file)

    def answer(call: Frame) -> Frame:
        if call["method"] == "emit" and call["args"][0]["topic"] == "fired":
            return err("topic fired is not declared")
        return ok()

    served = runner.run(file, "event", {"n": 1}, answer)
    assert served.value == "returned early"
    assert [(log["inv"], log["level"], log["msg"]) for log in served.logs] == [
        (
            served.answer["re"],
            "warn",
            "emit failed and the handler did not await it: topic fired is not declared",
        )
    ]
    status, _, stderr = runner.stop()
    assert status == 0 and "unhandled" not in stderr


def test_console_output_in_a_handler_becomes_log_frames(runner: Runner) -> None:
    file = step("steps/events/console.step.js")
    runner.load(file)
    served = runner.run(file, "event", {"a": 1})
    assert served.value is None  # the handler returned nothing
    assert all(log["inv"] == served.answer["re"] for log in served.logs)
    records = [(log["level"], log["msg"], log["fields"]) for log in served.logs]
    error_fields = records[-1][2]
    assert records[:-1] == [
        ("info", "hello world { n: 1 }", None),
        ("info", "info line", None),
        ("warn", "warn line", None),
        ("error", "error line", None),
        ("debug", "debug line", None),
        ("info", "after a timer", None),  # the invocation is followed across awaits
        ("debug", "from the logger", {"input": {"a": 1}}),
        ("warn", "a record", {"code": 7}),
    ]
    assert records[-1][:2] == ("error", "an error")
    assert error_fields["error"]["name"] == "RangeError"
    assert error_fields["error"]["message"] == "out of range"
    assert "console.step.js:13:" in error_fields["error"]["stack"]


def test_a_handler_exception_answers_err_with_typescript_lines(runner: Runner) -> None:
    file = step("steps/events/fails.step.ts")
    runner.load(file)
    error = runner.run(file, "event", {"reason": "the disk is full"}).error
    assert error["name"] == "TypeError"
    assert error["message"] == "failed because the disk is full"
    assert error["stack"].startswith("TypeError: failed because the disk is full\n")
    assert f"{file}:13:" in error["stack"]
    assert str(RUNNER_DIR) not in error["stack"] and "node:" not in error["stack"]


def test_an_exception_in_a_typescript_helper_points_at_both_files(runner: Runner) -> None:
    file = step("steps/uses-helper.step.ts")
    runner.load(file)
    error = runner.run(file, "event", {"title": "boom", "explode": True}).error
    assert error["message"] == "helper exploded: boom"
    assert f"{step('lib/format.ts')}:8:" in error["stack"]
    assert f"{file}:13:" in error["stack"]


def test_200_concurrent_invocations_answered_out_of_order(runner: Runner) -> None:
    file = step("steps/events/wait-for-state.step.js")
    runner.load(file)
    count = 200
    first = 5000  # ids of our own, far from those `request` hands out
    base = {"t": "invoke", "file": file, "kind": "event", "ctx": {"traceId": "t", "streams": []}}
    frames = "".join(
        json.dumps({**base, "id": first + n, "input": {"n": n}}) + "\n" for n in range(count)
    )
    runner.raw.sock.sendall(frames.encode())  # all at once, before any answer
    calls = [runner.raw.read() for _ in range(count)]  # every handler is waiting at once
    assert sorted(c["inv"] for c in calls) == list(range(first, first + count))
    assert all(c["args"] == ["waits", str(c["inv"] - first)] for c in calls)
    random.Random(7).shuffle(calls)
    for call in calls:
        runner.raw.send({"t": "ok", "re": call["id"], "value": f"value of {call['inv']}"})
    answers = [runner.raw.read() for _ in range(count)]
    assert [a["re"] for a in answers] == [c["inv"] for c in calls]  # in the order answered
    for answer in answers:
        n = answer["re"] - first
        assert answer == {
            "t": "ok",
            "re": first + n,
            "value": {"n": n, "value": f"value of {first + n}"},
        }


def test_a_buffer_body_is_sent_as_buffer_json(runner: Runner) -> None:
    file = step("steps/api/buffer.step.js")
    runner.load(file)
    assert runner.run(file, "api", API_REQUEST).value == {
        "status": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": {"type": "Buffer", "data": [0, 1, 2, 255]},
    }


def test_middleware_runs_left_to_right_and_may_answer_alone(runner: Runner) -> None:
    file = step("steps/api/guarded.step.js")
    runner.load(file)
    request = {**API_REQUEST, "pathParams": {"id": "7"}}
    denied = runner.run(file, "api", request)
    assert denied.value == {"status": 401, "body": {"error": "unauthorized"}}
    assert [(log["level"], log["msg"]) for log in denied.logs] == [("warn", "rejected")]
    allowed = runner.run(file, "api", {**request, "headers": {"authorization": "Bearer ok"}})
    assert allowed.value == {
        "status": 200,
        "body": {"user": "alice", "id": "7"},  # set on req by the first middleware
        "headers": {"x-middleware": "timing"},  # added by the second, around the handler
    }


def test_can_access_calls_the_stream_configs_function(runner: Runner) -> None:
    typed, custom = step("steps/resource-updates.stream.ts"), step("steps/custom_store_stream.js")
    runner.load(typed, custom)

    def check(file: str, group: str, auth: Any) -> Any:
        served = runner.run(
            file, "canAccess", {"subscription": {"groupId": group}, "authContext": auth}
        )
        return served.value

    assert check(typed, "u1", {"userId": "u1"}) is True
    assert check(typed, "u1", {"userId": "u2"}) is False
    assert check(typed, "u1", None) is False
    assert check(custom, "public", None) is True  # an async canAccess
    assert check(custom, "private", None) is False
    served = runner.run(step("steps/api/buffer.step.js"), "canAccess", {"subscription": {}})
    assert "not loaded" in served.error["message"]


def test_return_values_that_json_cannot_carry(runner: Runner) -> None:
    file = step("steps/events/odd-returns.step.js")
    runner.load(file)
    nothing = runner.run(file, "event", "nothing").answer
    assert nothing == {"t": "ok", "re": nothing["re"], "value": None}
    assert runner.run(file, "event", "other").value == {"date": "1970-01-01T00:00:00.000Z"}
    bigint = runner.run(file, "event", "bigint").error
    assert bigint["name"] == "TypeError" and "not JSON" in bigint["message"]
    assert "not JSON" in runner.run(file, "event", "circular").error["message"]
    assert runner.run(file, "event", "throw-string").error == {
        "message": "a plain string",
        "name": "Error",
        "stack": None,
    }


def test_stray_errors_are_logged_and_the_runner_goes_on(runner: Runner) -> None:
    file = step("steps/events/stray-errors.step.js")
    runner.load(file, step("steps/legacy.step.cjs"))
    assert runner.run(file, "event", {}).value == "survived"
    assert runner.run(step("steps/legacy.step.cjs"), "event", 2).value["input"] == 2
    status, _, stderr = runner.stop()
    assert status == 0
    assert "uncaught exception" in stderr and "thrown from a timer" in stderr
    assert "unhandled promise rejection" in stderr and "rejected and never awaited" in stderr


def test_what_steps_print_to_stdout_stays_out_of_the_channel(runner: Runner) -> None:
    file = step("steps/events/prints.step.js")
    assert runner.load_one(file)["error"] is None
    assert runner.run(file, "event", {}).value == "printed"
    status, stdout, stderr = runner.stop()
    assert status == 0
    assert stdout.startswith(
        '{"t":"ok","re":1,"value":"not from the channel"}\nprinted at import\n'
    )
    assert '{"t":"hello","protocol":99}' in stdout
    assert "to stderr" in stderr


def test_cancel_drops_the_answer_of_that_invocation(runner: Runner) -> None:
    file = step("steps/events/wait-for-state.step.js")
    runner.load(file)
    cancelled = runner.invoke(file, "event", {"n": 1})
    call = runner.raw.read()
    runner.raw.send({"t": "cancel", "re": cancelled})
    runner.raw.send({"t": "ok", "re": call["id"], "value": "too late"})
    served = runner.run(file, "event", {"n": 2})
    assert served.value == {"n": 2, "value": None}  # no frame of the cancelled one came first


def test_a_cancelled_invocation_does_not_hold_up_shutdown(runner: Runner) -> None:
    file = step("steps/events/wait-for-state.step.js")
    runner.load(file)
    cancelled = runner.invoke(file, "event", {"n": 1})
    assert runner.raw.read()["t"] == "call"  # and it is never answered
    runner.raw.send({"t": "cancel", "re": cancelled})
    assert runner.stop(timeout=5)[0] == 0


def test_an_invocation_of_an_unknown_file_answers_err(runner: Runner) -> None:
    served = runner.run(step("steps/never-loaded.step.js"), "event", {})
    assert served.error["message"].endswith("never-loaded.step.js was not loaded")


def test_round_trip_latency(runner: Runner) -> None:
    file = step("steps/legacy.step.cjs")
    runner.load(file)
    for _ in range(200):  # warm up
        runner.run(file, "event", 1)
    samples = []
    for n in range(1000):
        began = time.perf_counter()
        runner.run(file, "event", n)
        samples.append(time.perf_counter() - began)
    p50 = statistics.median(samples)
    assert p50 < 0.001, f"p50 round trip {p50 * 1e6:.0f} µs"
