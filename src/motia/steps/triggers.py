"""The Motia 1.0 step form: `config = {"name", "triggers": [...], "enqueues": [...]}`.

A 1.0 step is read as one classic step per trigger, all sharing its handler: an `http`
trigger is served as an API route, a `queue` trigger subscribes to its topic, a `cron`
trigger ticks, and `state` / `stream` triggers subscribe to a reserved internal topic that
the runtime feeds with every state or stream change (see `motia.runtime.state_triggers`).
Each derived step keeps the trigger it came from (`Step.trigger`); its handler is wrapped
so that `ctx.trigger` is set and the trigger's `condition` decides whether the run goes on.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from motia.errors import Problem
from motia.steps.load_support import Report
from motia.steps.model import Step

TRIGGER_TYPES = ("http", "queue", "cron", "state", "stream")
# Reserved topics: the runtime enqueues one message per change on them.
STATE_TOPIC = "motia::state-changed"
STREAM_TOPIC = "motia::stream-changed"
RESERVED_TOPICS = frozenset({STATE_TOPIC, STREAM_TOPIC})

_STEP_KEYS = {
    "name",
    "description",
    "flows",
    "triggers",
    "enqueues",
    "virtualEnqueues",
    "virtualSubscribes",
    "includeFiles",
}
# The fields each trigger type needs, and the ones it may hold besides (http passes the
# classic route options through, so the classic model checks those).
_REQUIRED = {"http": ("method", "path"), "queue": ("topic",), "cron": ("expression",)}
_REQUIRED["stream"] = ("streamName",)
_ALLOWED: dict[str, set[str] | None] = {
    "http": None,
    "queue": {"topic", "input", "config", "infrastructure"},
    "cron": {"expression", "timeout"},
    "state": {"group", "key", "config"},
    "stream": {"streamName", "groupId", "config"},
}
# Classic field -> where it is written in the 1.0 form, for error messages.
_CLASSIC_TO_V1 = {
    "cron": "expression",
    "subscribes": "topic",
    "infrastructure.queue": "config",
}
_STEP_FIELDS = {"emits": "enqueues", "virtualEmits": "virtualEnqueues"}
# What an HTTP run answers when its condition says no: nothing ran, nothing to say.
SKIPPED_RESPONSE: dict[str, Any] = {"status": 204}


def is_v1_config(raw: object) -> bool:
    """A 1.0-form config: it has `triggers` and no classic `type`."""
    return isinstance(raw, dict) and "triggers" in raw and "type" not in raw


def trigger_info(trigger: dict[str, Any]) -> dict[str, Any]:
    """What `ctx.trigger` shows of a trigger: its type and plain details, no schemas or
    functions."""
    kind = trigger["type"]
    keep = {
        "http": ("method", "path"),
        "queue": ("topic",),
        "cron": ("expression",),
        "state": ("group", "key"),
        "stream": ("streamName", "groupId"),
    }[kind]
    info: dict[str, Any] = {"type": kind}
    for key in keep:
        if trigger.get(key) is not None:
            info[key] = trigger[key].upper() if key == "method" else trigger[key]
    return info


def expand_v1_step(
    path: Path,
    rel: Path,
    raw: dict[str, Any],
    handler: Callable[..., Any] | None,
    report: Report,
    build: Callable[..., Step | None],
    language: str = "python",
    functions: Sequence[str] = (),
) -> list[Step]:
    """The classic steps a 1.0-form config stands for; problems name `triggers[i].field`.
    `functions`: the fields a runner found functions in (a runner's config has none)."""
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    triggers = raw.get("triggers")

    def problem(message: str, field: str, hint: str | None = None) -> None:
        report(Problem(message, file=rel, step=name, field=field, hint=hint))

    ok = True
    for key in sorted(set(raw) - _STEP_KEYS):
        hint = "a 1.0-form step has no 'type': its triggers say how it runs"
        if key not in ("emits", "subscribes", "virtualEmits"):
            hint = "allowed: " + ", ".join(sorted(_STEP_KEYS))
        problem("unknown field in a 1.0-form step", key, hint)
        ok = False
    if not isinstance(triggers, list) or not triggers:
        problem(
            "must be a non-empty list of triggers",
            "triggers",
            "e.g. [http('POST', '/orders'), queue('order.created')]",
        )
        return []
    for index, trigger in enumerate(triggers):
        ok = _check_trigger(index, trigger, problem) and ok
    if not ok:
        return []

    common = {
        "name": raw.get("name"),
        "description": raw.get("description"),
        "flows": raw.get("flows", []),
        "emits": raw.get("enqueues", []),
        "virtualEmits": raw.get("virtualEnqueues", []),
        "virtualSubscribes": raw.get("virtualSubscribes", []),
        "includeFiles": raw.get("includeFiles", []),
    }
    common = {k: v for k, v in common.items() if v is not None}
    names = _derived_names(name or "", triggers)
    steps: list[Step] = []
    for index, trigger in enumerate(triggers):
        classic = {**common, **_classic_fields(trigger), "name": names[index]}
        info = trigger_info(trigger)
        wrapped = handler
        for_trigger = getattr(handler, "for_trigger", None)
        if for_trigger is not None:  # a runner's handler: the runner asks the condition
            wrapped = for_trigger(index, info, names[index])
        elif handler is not None and callable(handler):
            wrapped = wrap_handler(handler, info, trigger.get("condition"))
        step = build(path, rel, classic, wrapped, _renaming(report, index, name, trigger), language)
        if step is not None:
            step.raw_config = raw
            step.trigger = info
            step.condition = _condition_label(trigger.get("condition"))
            if f"triggers.{index}.condition" in functions:
                step.condition = "condition"
            step.base_name = name or step.name
            step.trigger_index = index
            steps.append(step)
    return steps if len(steps) == len(triggers) else []


def _check_trigger(index: int, trigger: object, problem: Callable[..., None]) -> bool:
    where = f"triggers[{index}]"
    if not isinstance(trigger, dict):
        problem(f"a trigger must be a dict, not {type(trigger).__name__}", where)
        return False
    kind = trigger.get("type")
    if kind not in TRIGGER_TYPES:
        problem(
            "missing trigger 'type'" if kind is None else f"unknown trigger type {kind!r}",
            f"{where}.type",
            "use one of: " + ", ".join(repr(t) for t in TRIGGER_TYPES),
        )
        return False
    ok = True
    for key in _REQUIRED.get(kind, ()):
        value = trigger.get(key)
        if not isinstance(value, str) or not value:
            problem(
                f"a {kind} trigger needs '{key}'",
                f"{where}.{key}",
                f"e.g. {_EXAMPLES[kind]}",
            )
            ok = False
    allowed = _ALLOWED[kind]
    if allowed is not None:
        for key in sorted(set(trigger) - allowed - {"type", "condition"}):
            problem(
                f"unknown field in a {kind} trigger",
                f"{where}.{key}",
                "allowed: " + ", ".join(sorted(allowed | {"type", "condition"})),
            )
            ok = False
    if "executor" in trigger:
        problem(
            "a 1.0-form step runs in its language's process; 'executor' is for classic steps",
            f"{where}.executor",
            "remove it, or write the step in the classic form",
        )
        ok = False
    condition = trigger.get("condition")
    if condition is not None and not callable(condition):
        problem(
            f"condition must be a function, not {type(condition).__name__}",
            f"{where}.condition",
            "def condition(input, ctx) -> bool (sync or async)",
        )
        ok = False
    return ok


_EXAMPLES = {
    "http": "http('POST', '/orders')",
    "queue": "queue('order.created')",
    "cron": "cron('0 */5 * * * *')",
    "stream": "stream('orders')",
}


def _classic_fields(trigger: dict[str, Any]) -> dict[str, Any]:
    kind = trigger["type"]
    rest = {k: v for k, v in trigger.items() if k not in ("type", "condition")}
    if kind == "http":
        return {"type": "api", **rest}
    if kind == "cron":
        classic: dict[str, Any] = {"type": "cron", "cron": rest.pop("expression")}
        return {**classic, **rest}
    if kind == "queue":
        classic = {"type": "event", "subscribes": [rest["topic"]]}
        if rest.get("input") is not None:
            classic["input"] = rest["input"]
        infrastructure = dict(rest.get("infrastructure") or {})
        if rest.get("config") is not None:
            infrastructure["queue"] = rest["config"]
        if infrastructure:
            classic["infrastructure"] = infrastructure
        return classic
    # state and stream: one ordered queue per changed key (its FIFO group), whatever the
    # other queue options say.
    topic = STATE_TOPIC if kind == "state" else STREAM_TOPIC
    queue_options = {**(rest.get("config") or {}), "type": "fifo"}
    return {"type": "event", "subscribes": [topic], "infrastructure": {"queue": queue_options}}


def _derived_names(name: str, triggers: list[dict[str, Any]]) -> list[str]:
    """One trigger: the step's own name. Several: `Name.http`, `Name.queue`, `Name.queue2`
    ..., unique within the step (a dot: safe in URLs, keys and terminal markup)."""
    if len(triggers) == 1:
        return [name]
    seen: dict[str, int] = {}
    names = []
    for trigger in triggers:
        kind = trigger["type"]
        seen[kind] = seen.get(kind, 0) + 1
        names.append(f"{name}.{kind}" if seen[kind] == 1 else f"{name}.{kind}{seen[kind]}")
    return names


def _renaming(report: Report, index: int, name: str | None, trigger: dict[str, Any]) -> Report:
    """Problems the classic checks find, told in the 1.0 form's words."""
    keys = set(trigger) | {"cron", "subscribes", "infrastructure"}

    def renamed(problem: Problem) -> None:
        field = problem.field
        if field is not None:
            head = field.split(".")[0]
            if head in _STEP_FIELDS:
                field = _STEP_FIELDS[head] + field[len(head) :]
            elif head in keys and head not in ("name", "flows", "description"):
                for classic, v1 in _CLASSIC_TO_V1.items():
                    if field == classic or field.startswith(classic + "."):
                        field = v1 + field[len(classic) :]
                        break
                field = f"triggers[{index}].{field}"
        report(dataclasses.replace(problem, field=field, step=name or problem.step))

    return renamed


def wrap_handler(
    handler: Callable[..., Any], info: dict[str, Any], condition: Callable[..., Any] | None
) -> Callable[..., Any]:
    """The handler as its classic step calls it: `ctx.trigger` set, the trigger's filter
    and condition asked first, then `handler(input, ctx)` (`input` is None for cron)."""
    kind = info["type"]
    skipped = SKIPPED_RESPONSE if kind == "http" else None

    def prepare(args: tuple[Any, ...]) -> tuple[Any, Any]:
        data, ctx = (None, args[0]) if kind == "cron" else args
        ctx.bind_trigger(info, data)
        return data, ctx

    if inspect.iscoroutinefunction(handler):

        async def run_async(*args: Any) -> Any:
            data, ctx = prepare(args)
            if not _wanted(info, data):
                ctx.skip("the change is not one this trigger watches")
                return skipped
            if condition is not None:
                verdict = condition(data, ctx)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if not verdict:
                    ctx.skip("condition returned false")
                    return skipped
            return await handler(data, ctx)

        run: Callable[..., Any] = run_async
    else:

        def run_sync(*args: Any) -> Any:
            data, ctx = prepare(args)
            if not _wanted(info, data):
                ctx.skip("the change is not one this trigger watches")
                return skipped
            if condition is not None:
                verdict = ctx.wait(condition(data, ctx))
                if not verdict:
                    ctx.skip("condition returned false")
                    return skipped
            return handler(data, ctx)

        run = run_sync
    run.__name__ = getattr(handler, "__name__", "handler")
    run.__qualname__ = getattr(handler, "__qualname__", run.__name__)
    run.__module__ = getattr(handler, "__module__", __name__)
    return run


def _wanted(info: dict[str, Any], data: Any) -> bool:
    """A state or stream trigger sees every change: keep those of its group/key/stream."""
    kind = info["type"]
    if kind not in ("state", "stream") or not isinstance(data, dict):
        return True
    if kind == "state":
        return all(
            info.get(field) is None or info[field] == data.get(field) for field in ("group", "key")
        )
    if info.get("streamName") != data.get("stream_name"):
        return False
    return info.get("groupId") is None or info["groupId"] == data.get("group_id")


def _condition_label(condition: Callable[..., Any] | None) -> str | None:
    if condition is None:
        return None
    name = getattr(condition, "__name__", None)
    return "condition" if not name or name == "<lambda>" else name


def describe_trigger(step: Step) -> dict[str, Any] | None:
    """A 1.0-form step's trigger as the workbench, `motia flows` and the manifest show it:
    its details, the condition's name, and the step the user wrote."""
    if step.trigger is None:
        return None
    described = {**step.trigger, "step": step.base_name or step.name}
    if step.condition is not None:
        described["condition"] = step.condition
    return described


def trigger_text(step: Step) -> str | None:
    """One line for a terminal: `state group=orders if big_orders`."""
    if step.trigger is None:
        return None
    info = step.trigger
    kind = info["type"]
    if kind == "http":
        text = f"http {info['method']} {info['path']}"
    elif kind == "queue":
        text = f"queue {info['topic']}"
    elif kind == "cron":
        text = f"cron {info['expression']}"
    else:
        details = [f"{k}={v}" for k, v in info.items() if k != "type"]
        text = " ".join([kind, *details])
    return text + (f" if {step.condition}" if step.condition else "")
