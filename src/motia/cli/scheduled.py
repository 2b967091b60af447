"""`motia scheduled`: list and cancel scheduled emits (`delay`, `at`, `key`) that have not
fired yet, in the project's store, whether or not a server is running."""

from __future__ import annotations

from pathlib import Path

import click

from motia import jsoncodec
from motia.cli.options import project_dir_option
from motia.cli.stores import when, with_stores
from motia.errors import MotiaError


@click.group()
def scheduled() -> None:
    """Scheduled emits waiting for their time: list them, cancel them."""


@scheduled.command("list")
@project_dir_option
@click.option("--topic", help="Only this topic.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(project_dir: Path, topic: str | None, limit: int, as_json: bool) -> None:
    """List pending scheduled emits, soonest first."""
    emits = with_stores(
        project_dir, lambda s: s.queue.scheduled(topic, limit=limit), "scheduled emits", "scheduled"
    )
    if as_json:
        for emit in emits:
            click.echo(jsoncodec.dumps_str(emit.as_dict()))
        return
    if not emits:
        click.echo("no scheduled emits")
        return
    for emit in emits:
        key = f"  key={emit.key}" if emit.key is not None else ""
        click.echo(
            f"{emit.id}  {when(emit.fire_at)}  {emit.topic}{key}  "
            f"steps={','.join(emit.subscribers)}  trace={emit.trace_id}"
        )


@scheduled.command()
@project_dir_option
@click.argument("message_id", required=False)
@click.option("--key", help="Cancel by the key given on emit instead of by id.")
@click.option("--topic", help="With --key: only on this topic.")
def cancel(project_dir: Path, message_id: str | None, key: str | None, topic: str | None) -> None:
    """Cancel a scheduled emit by its id (as `ctx.emit` returned it) or by --key."""
    if (message_id is None) == (key is None):
        raise click.UsageError("give a scheduled emit's id or --key, one of them")
    if topic is not None and key is None:
        raise click.UsageError("--topic goes with --key")
    count = with_stores(
        project_dir,
        lambda s: s.queue.cancel_scheduled(message_id, topic=topic, key=key),
        "scheduled emits",
        "scheduled",
    )
    if not count:
        named = f"id {message_id!r}" if message_id is not None else f"key {key!r}"
        raise MotiaError(f"no pending scheduled emit with {named}")
    click.echo(f"cancelled: {count}")
