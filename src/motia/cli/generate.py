"""`motia generate step|openapi|types`: scaffold a step file, describe the API, or write
the TypeScript types of the steps."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from motia.cli.build import generate_openapi, load_checked
from motia.cli.options import project_dir_option
from motia.steps.discovery import STEP_ROOTS, is_discoverable
from motia.steps.languages import LANGUAGES as LANGUAGE_TABLE

STEP_TYPES = ("api", "event", "cron", "noop")
LANGUAGES = tuple(LANGUAGE_TABLE)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_DIRS = {"api": "steps/api", "event": "steps/events", "cron": "steps/cron", "noop": "steps"}
# Files that mark a project folder (the templates create them all).
PROJECT_MARKERS = ("config.yml", "motia-workbench.json", "pyproject.toml", "package.json")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@click.group()
def generate() -> None:
    """Scaffold steps and generate documents from the project."""


generate.add_command(generate_openapi)


@click.command("types")
@project_dir_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write, relative to the project folder (default types.d.ts; "
    "'-' for standard output).",
)
def generate_types(project_dir: Path, output: Path | None) -> None:
    """Write types.d.ts: `Handlers['StepName']` and typed streams for TypeScript steps."""
    from motia.typegen import TYPES_FILE, render_types, write_if_changed

    project_dir = project_dir.resolve()
    project = load_checked(project_dir, "generate types")
    text = render_types(project_dir, project)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    path = project_dir / (output or TYPES_FILE)  # an absolute --output stays as it is
    handlers = sum(1 for s in project.steps if s.type != "noop")
    if write_if_changed(path, text):
        click.echo(
            f"wrote {path} ({handlers} handler(s), {len(project.streams)} stream(s)); "
            "include it in tsconfig.json"
        )
    else:
        click.echo(f"{path} is up to date")


generate.add_command(generate_types)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _topics(values: Iterable[str]) -> list[str]:
    """`--emits a --emits b` and `--emits a,b` both give ['a', 'b']."""
    topics: list[str] = []
    for value in values:
        topics += [t.strip() for t in value.split(",") if t.strip()]
    return topics


def words(name: str) -> list[str]:
    """`CreateOrder`, `create-order` and `create_order` -> ['create', 'order']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.lower() for w in re.split(r"[\s_\-]+", spaced) if w]


def file_name(name: str, lang: str) -> str:
    parts = words(name)
    suffix = LANGUAGE_TABLE[lang].main_suffix
    # Node files are named as in classic Motia (`create-order.step.ts`), the others in
    # their language's style (`create_order_step.py`).
    if LANGUAGE_TABLE[lang].runner == "node":
        return "-".join(parts) + ".step" + suffix
    return "_".join(parts) + "_step" + suffix


@click.command("step")
@click.option("-t", "--type", "step_type", type=click.Choice(STEP_TYPES), default=None)
@click.option("-n", "--name", default=None, help="Step name, e.g. CreateOrder.")
@click.option("--path", "route", default=None, help="API route, e.g. /orders/:id.")
@click.option(
    "--method", type=click.Choice(METHODS, case_sensitive=False), default=None, help="API method."
)
@click.option("--subscribes", multiple=True, help="Topic(s) an event step consumes.")
@click.option("--emits", multiple=True, help="Topic(s) the step emits.")
@click.option("--cron", "expression", default=None, help="Cron expression (cron steps).")
@click.option("--flow", "flows", multiple=True, help="Flow(s) the step belongs to.")
@project_dir_option
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the file inside the project, under steps/ or src/ "
    "(default steps/api, steps/events, steps/cron or steps).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="python", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def generate_step(
    step_type: str | None,
    name: str | None,
    route: str | None,
    method: str | None,
    subscribes: tuple[str, ...],
    emits: tuple[str, ...],
    expression: str | None,
    flows: tuple[str, ...],
    project_dir: Path,
    folder: Path | None,
    lang: str,
    force: bool,
) -> None:
    """Scaffold a step file; asks for what is missing when run in a terminal."""
    project_dir = _project_root(project_dir)
    if folder is not None:
        _check_folder(project_dir, folder)
    ask = _interactive()

    def need(
        value: str | None,
        option: str,
        prompt: str,
        default: str | None = None,
        choices: tuple[str, ...] | None = None,
    ) -> str:
        if value:
            return value
        if not ask:
            if default is not None:
                return default
            raise click.UsageError(f"missing {option} (or run in a terminal to be asked)")
        kind = click.Choice(choices, case_sensitive=False) if choices else None
        return str(click.prompt(prompt, default=default, type=kind))

    step_type = need(step_type, "--type", "Step type", choices=STEP_TYPES)
    name = need(name, "--name", "Step name (e.g. CreateOrder)")
    if not _NAME.match(name):
        raise click.BadParameter(
            "use letters, digits, '_' or '-', starting with a letter", param_hint="--name"
        )
    subscribed = _topics(subscribes)
    emitted = _topics(emits)
    if step_type == "api":
        route = need(route, "--path", "Route path", default="/" + "-".join(words(name)))
        method = need(method, "--method", "HTTP method", default="POST", choices=METHODS).upper()
        if not route.startswith("/"):
            raise click.BadParameter("must start with '/'", param_hint="--path")
    elif step_type == "event" and not subscribed:
        subscribed = _topics([need(None, "--subscribes", "Topic(s) to subscribe to")])
    elif step_type == "cron":
        expression = need(expression, "--cron", "Cron expression", default="0 * * * *")
    if ask and not emits and step_type != "noop":
        emitted = _topics([click.prompt("Topic(s) to emit (comma separated)", default="")])
    if folder is None:
        folder = Path(DEFAULT_DIRS[step_type])
    target = _shown(project_dir / folder / file_name(name, lang))
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists (use --force to overwrite)")
    source = render_step(
        lang,
        step_type,
        name,
        route=route,
        method=method,
        subscribes=subscribed,
        emits=emitted,
        cron=expression or "0 * * * *",
        flows=list(flows),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    click.echo(f"created {target}")
    if lang != "python":
        runtime = "Ruby (3.0+)" if lang == "ruby" else "Node.js (18+)"
        runner = runtime.split()[0]
        note = f"note: {LANGUAGE_TABLE[lang].display} steps run in the {runner} runner, which "
        note += f"needs {runtime}"
        if lang == "typescript":
            note += (
                "; Node.js 22.13+ runs TypeScript as it is, an older Node needs esbuild "
                "(`npm install --save-dev esbuild`) or `pip install motia-python[node]`"
            )
        click.echo(note)


generate.add_command(generate_step)


def _project_root(project_dir: Path) -> Path:
    """`-d` is the project folder, as for every command. Before, it named the step's own
    folder; catch that use instead of writing a file no one loads."""
    resolved = project_dir.resolve()
    if _looks_like_project(resolved):
        return project_dir
    inside = next(
        (parent for parent in (resolved, *resolved.parents) if parent.name in STEP_ROOTS), None
    )
    if inside is not None and _looks_like_project(inside.parent):
        folder = resolved.relative_to(inside.parent).as_posix()
        raise click.UsageError(
            f"-d/--dir is the project folder, and {project_dir} is inside the project "
            f"{_shown(inside.parent)}; to put the step in {folder}, run "
            f"`motia generate step -d {_shown(inside.parent)} --folder {folder} ...`"
        )
    if not resolved.is_dir():
        raise click.UsageError(
            f"the project folder {project_dir} does not exist (-d/--dir is the project "
            "folder; --folder chooses the folder of the step inside it)"
        )
    return project_dir


def _looks_like_project(folder: Path) -> bool:
    return (folder / "steps").is_dir() or any(
        (folder / marker).exists() for marker in PROJECT_MARKERS
    )


def _check_folder(project_dir: Path, folder: Path) -> None:
    """Refuse a folder where discovery would never find the step."""
    target = (project_dir / folder / "x_step.py").resolve()
    if not is_discoverable(project_dir.resolve(), target):
        roots = " or ".join(f"{root}/" for root in STEP_ROOTS)
        raise click.BadParameter(
            f"{folder} is not a folder Motia loads steps from: use a folder under {roots} "
            "of the project (not hidden, not node_modules, .venv or dist), for example "
            "steps/orders",
            param_hint="--folder",
        )


def _shown(path: Path) -> Path:
    """A path as the user typed it, relative to the current folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _py_list(items: list[str]) -> str:
    return json.dumps(items)


_js_list = _py_list


def render_step(
    lang: str,
    step_type: str,
    name: str,
    *,
    route: str | None,
    method: str | None,
    subscribes: list[str],
    emits: list[str],
    cron: str,
    flows: list[str],
) -> str:
    if lang == "python":
        return _python(step_type, name, route, method, subscribes, emits, cron, flows)
    if lang == "ruby":
        return _ruby(step_type, name, route, method, subscribes, emits, cron, flows)
    return _javascript(lang, step_type, name, route, method, subscribes, emits, cron, flows)


_PY_TYPES = {"api": "ApiRouteConfig", "event": "EventConfig", "cron": "CronConfig"}


def _python(
    step_type: str,
    name: str,
    route: str | None,
    method: str | None,
    subscribes: list[str],
    emits: list[str],
    cron: str,
    flows: list[str],
) -> str:
    lines: list[str] = []
    fields = [f'    "type": "{step_type}",', f'    "name": "{name}",']
    fields.append(f'    "description": "TODO: what {name} does",')
    emit_line = f'    "emits": {_py_list(emits)},'
    if step_type == "api":
        lines += [
            "from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext",
            "",
        ]
        fields += [f'    "method": "{method}",', f'    "path": {json.dumps(route)},']
        if method in ("POST", "PUT", "PATCH"):
            fields += [
                '    "bodySchema": {',
                '        "type": "object",',
                '        "properties": {"name": {"type": "string", "minLength": 1}},',
                '        "required": ["name"],',
                "    },",
            ]
        fields.append(emit_line)
    elif step_type == "event":
        lines += ["from typing import Any", "", "from motia import EventConfig, FlowContext", ""]
        fields += [f'    "subscribes": {_py_list(subscribes)},', emit_line]
        fields += ['    "input": {"type": "object"},']
    elif step_type == "cron":
        lines += ["from motia import CronConfig, FlowContext", ""]
        fields += [f'    "cron": {json.dumps(cron)},', emit_line]
    else:
        lines += ["from motia import NoopConfig", ""]
        fields += [
            f'    "virtualSubscribes": {_py_list(subscribes)},',
            f'    "virtualEmits": {_py_list(emits)},',
        ]
    fields.append(f'    "flows": {_py_list(flows)},')
    config_type = _PY_TYPES.get(step_type, "NoopConfig")
    lines += [f"config: {config_type} = {{", *fields, "}", ""]
    emit_call = (
        [f'    await ctx.emit({{"topic": {json.dumps(emits[0])}, "data": {{}}}})'] if emits else []
    )
    if step_type == "api":
        body = '{"ok": True}' if method in ("GET", "DELETE") else '{"received": req["body"]}'
        lines += [
            "",
            "async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:",
            f'    ctx.logger.info("{name} called", {{"path": req["pathParams"]}})',
            *emit_call,
            f'    return {{"status": 200, "body": {body}}}',
        ]
    elif step_type == "event":
        lines += [
            "",
            "async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:",
            f'    ctx.logger.info("{name} received an event", {{"data": input_data}})',
            *emit_call,
        ]
    elif step_type == "cron":
        lines += [
            "",
            "async def handler(ctx: FlowContext) -> None:",
            f'    ctx.logger.info("{name} ran")',
            *emit_call,
        ]
    return "\n".join(lines).rstrip() + "\n"


def _javascript(
    lang: str,
    step_type: str,
    name: str,
    route: str | None,
    method: str | None,
    subscribes: list[str],
    emits: list[str],
    cron: str,
    flows: list[str],
) -> str:
    ts = lang == "typescript"
    type_names = {"api": "ApiRouteConfig", "event": "EventConfig", "cron": "CronConfig"}
    config_type = type_names.get(step_type, "NoopConfig")
    fields = _config_fields("  ", step_type, name, route, method, subscribes, emits, cron, flows)
    fields[-1] += ","
    emit_call = [f"  await emit({{ topic: {json.dumps(emits[0])}, data: {{}} }})"] if emits else []
    out: list[str] = []
    if ts:
        imports = f"{config_type}, Handlers" if step_type != "noop" else config_type
        out += [f"import {{ {imports} }} from 'motia'", ""]
        out += [f"export const config: {config_type} = {{", *fields, "}", ""]
        handler_head = f"export const handler: Handlers['{name}'] = async "
    else:
        out += ["const config = {", *fields, "}", ""]
        handler_head = "const handler = async "
    if step_type == "api":
        out += [
            handler_head + "(req, { emit, logger }) => {",
            f"  logger.info('{name} called')",
            *emit_call,
            "  return { status: 200, body: { ok: true } }",
            "}",
        ]
    elif step_type == "event":
        out += [
            handler_head + "(input, { emit, logger }) => {",
            f"  logger.info('{name} received an event', {{ input }})",
            *emit_call,
            "}",
        ]
    elif step_type == "cron":
        out += [
            handler_head + "({ emit, logger }) => {",
            f"  logger.info('{name} ran')",
            *emit_call,
            "}",
        ]
    if not ts:
        out += [
            "",
            "module.exports = { config, handler }"
            if step_type != "noop"
            else "module.exports = { config }",
        ]
    return "\n".join(out).rstrip() + "\n"


def _config_fields(
    indent: str,
    step_type: str,
    name: str,
    route: str | None,
    method: str | None,
    subscribes: list[str],
    emits: list[str],
    cron: str,
    flows: list[str],
) -> list[str]:
    """The config entries of a JavaScript, TypeScript or Ruby step (the same literal forms
    in all three); the last entry has no trailing comma."""
    fields = [f"type: '{step_type}',", f"name: '{name}',"]
    if step_type == "api":
        fields += [
            f"method: '{method}',",
            f"path: {json.dumps(route)},",
            f"emits: {_js_list(emits)},",
        ]
    elif step_type == "event":
        fields += [f"subscribes: {_js_list(subscribes)},", f"emits: {_js_list(emits)},"]
    elif step_type == "cron":
        fields += [f"cron: {json.dumps(cron)},", f"emits: {_js_list(emits)},"]
    else:
        fields += [
            f"virtualSubscribes: {_js_list(subscribes)},",
            f"virtualEmits: {_js_list(emits)},",
        ]
    fields.append(f"flows: {_js_list(flows)}")
    return [indent + field for field in fields]


def _ruby(
    step_type: str,
    name: str,
    route: str | None,
    method: str | None,
    subscribes: list[str],
    emits: list[str],
    cron: str,
    flows: list[str],
) -> str:
    fields = _config_fields("    ", step_type, name, route, method, subscribes, emits, cron, flows)
    out = ["def config", "  {", *fields, "  }", "end", ""]
    emit_call = [f"  context.emit(topic: {json.dumps(emits[0])}, data: {{}})"] if emits else []
    if step_type == "api":
        out += [
            "def handler(req, context)",
            f"  context.logger.info('{name} called')",
            *emit_call,
            "  { status: 200, body: { ok: true } }",
            "end",
        ]
    elif step_type == "event":
        out += [
            "def handler(input, context)",
            f"  context.logger.info('{name} received an event', {{ input: input }})",
            *emit_call,
            "end",
        ]
    elif step_type == "cron":
        out += [
            "def handler(context)",
            f"  context.logger.info('{name} ran')",
            *emit_call,
            "end",
        ]
    return "\n".join(out).rstrip() + "\n"
