"""`motia dlq`: list, inspect, redrive and purge dead letters in the project's store.

It opens the store that the project's settings name (the SQLite file by default) directly,
so it works whether or not a server is running; a running server picks redriven messages up
within its poll interval.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from motia import jsoncodec
from motia.adapters.factory import Stores
from motia.adapters.queue.base import DeadLetter, DeadLetterFilter
from motia.cli.options import project_dir_option
from motia.cli.stores import when, with_stores
from motia.errors import MotiaError

T = TypeVar("T")


def _run(project_dir: Path, action: Callable[[Stores], Awaitable[T]]) -> T:
    return with_stores(project_dir, action, "dead letters", "dlq")


def _selection(
    ids: tuple[str, ...], step: str | None, topic: str | None, all_: bool
) -> DeadLetterFilter:
    if not ids and step is None and topic is None and not all_:
        raise click.UsageError("give dead-letter ids, --step, --topic or --all")
    return DeadLetterFilter(ids=ids, subscriber=step, topic=topic)


@click.group()
def dlq() -> None:
    """Dead letters: events whose handler failed on every attempt, or got bad input."""


@dlq.command("list")
@project_dir_option
@click.option("--step", help="Only this subscribing step.")
@click.option("--topic", help="Only this topic.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(
    project_dir: Path, step: str | None, topic: str | None, limit: int, as_json: bool
) -> None:
    """List dead letters, newest first."""
    where = DeadLetterFilter(subscriber=step, topic=topic)
    letters = _run(project_dir, lambda s: s.queue.dead_letters(where, limit=limit))
    if as_json:
        for letter in letters:
            click.echo(jsoncodec.dumps_str(letter.as_dict()))
        return
    if not letters:
        click.echo("no dead letters")
        return
    for letter in letters:
        click.echo(
            f"{letter.id}  {when(letter.failed_at)}  {letter.subscriber}  {letter.topic}  "
            f"attempts={letter.attempts}  {letter.reason}: {_first_line(letter.error)}"
        )


@dlq.command()
@project_dir_option
@click.argument("dead_letter_id")
def show(project_dir: Path, dead_letter_id: str) -> None:
    """Everything kept about one dead letter: payload, error, stack, attempts, trace id."""
    where = DeadLetterFilter(ids=(dead_letter_id,))
    letters = _run(project_dir, lambda s: s.queue.dead_letters(where, limit=1))
    if not letters:
        raise MotiaError(f"no dead letter with id {dead_letter_id!r}")
    click.echo(_describe(letters[0]))


def _selection_options(command: Any) -> Any:
    """Which dead letters a command acts on: ids, --step, --topic or --all."""
    for option in (
        click.option("--all", "all_", is_flag=True, help="Every dead letter."),
        click.option("--topic", help="Every dead letter of this topic."),
        click.option("--step", help="Every dead letter of this step."),
        click.argument("ids", nargs=-1),
        project_dir_option,
    ):
        command = option(command)
    return command


@dlq.command()
@_selection_options
def redrive(
    project_dir: Path, ids: tuple[str, ...], step: str | None, topic: str | None, all_: bool
) -> None:
    """Put dead letters back in their queues with a fresh attempt count."""
    where = _selection(ids, step, topic, all_)
    count = _run(project_dir, lambda s: s.queue.redrive(where))
    click.echo(f"redriven: {count}")


@dlq.command()
@_selection_options
def purge(
    project_dir: Path, ids: tuple[str, ...], step: str | None, topic: str | None, all_: bool
) -> None:
    """Delete dead letters for good."""
    where = _selection(ids, step, topic, all_)
    count = _run(project_dir, lambda s: s.queue.purge(where))
    click.echo(f"purged: {count}")


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _describe(letter: DeadLetter) -> str:
    fields: list[tuple[str, Any]] = [
        ("id", letter.id),
        ("event id", letter.event_id),
        ("step", letter.subscriber),
        ("topic", letter.topic),
        ("trace id", letter.trace_id),
        ("message group", letter.group_id),
        ("attempts", letter.attempts),
        ("reason", letter.reason),
        ("enqueued", when(letter.enqueued_at)),
        ("failed", when(letter.failed_at)),
        ("error", letter.error),
        ("data", jsoncodec.dumps_str(letter.data)),
    ]
    lines = [f"{name:>14}: {value}" for name, value in fields if value is not None]
    if letter.stack:
        lines += ["", letter.stack.rstrip()]
    return "\n".join(lines)
