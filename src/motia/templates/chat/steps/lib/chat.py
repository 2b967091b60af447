"""Rooms, members, message ids and who may watch what: the rules every chat step shares.

- A room is named like `general` (lower-case letters, digits, `-`). Its members are in
  the state group `members:{room}` (one key per user); the rooms of a user are the list
  under the key `{user}` of the group `memberships`.
- A direct message (DM) between two users is the room `dm.{a}.{b}`, the two names sorted:
  both users are its members, nobody else, and it needs no joining.
- `inbox.{user}` is a user's own group of the `messages` stream: "bob wrote to you".
- Message history is in state, group `history:{room}`, keyed by message id. Ids sort in
  the order the messages were posted, so an id is also a cursor (`before=`, `after=`).
"""

import itertools
import re
import secrets
from typing import Any

from motia import ApiResponse, FlowContext
from motia.auth import issue_access_token

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ROOM = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
TOKEN_TTL = 12 * 3600  # seconds; a stream connection re-uses its token when it reconnects

_sequence = itertools.count()  # orders the messages one process posts in the same millisecond


def error(status: int, code: str, message: str) -> ApiResponse:
    """Every refusal of these steps: a machine-readable code and a sentence."""
    return {"status": status, "body": {"error": code, "message": message}}


def dm_room(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return f"dm.{first}.{second}"


def dm_pair(room: str) -> tuple[str, str] | None:
    """The two users of a DM room, or None when `room` is not one (the names must be
    sorted, so that each pair has one room)."""
    parts = room.split(".")
    if len(parts) != 3 or parts[0] != "dm" or not all(NAME.match(p) for p in parts[1:]):
        return None
    return (parts[1], parts[2]) if parts[1] < parts[2] else None


def may_watch(group_id: str, claims: dict[str, Any] | None) -> bool:
    """The `canAccess` rule of both streams: the rooms in the token, the user's own DMs
    and the user's own inbox. The token is the one the connection was opened with."""
    if not claims:
        return False
    user = claims.get("sub")
    pair = dm_pair(group_id)
    if pair is not None:
        return user in pair
    if group_id.startswith("inbox."):
        return group_id == f"inbox.{user}"
    rooms = claims.get("rooms", [])
    return isinstance(rooms, list) and group_id in rooms


async def rooms_of(ctx: FlowContext, user: str) -> list[str]:
    rooms: list[str] | None = await ctx.state.get("memberships", user)
    return rooms or []


def token_for(user: str, rooms: list[str]) -> str:
    """An access token naming the user's rooms, so stream access needs no lookup."""
    return issue_access_token(user, ttl=TOKEN_TTL, claims={"rooms": sorted(rooms)})


async def is_member(ctx: FlowContext, room: str, user: str) -> bool:
    pair = dm_pair(room)
    if pair is not None:
        return user in pair
    return await ctx.state.get(f"members:{room}", user) is not None


def message_id(ctx: FlowContext) -> str:
    """Sortable: the time in milliseconds, then this process's sequence, then a random
    tail that keeps ids of different processes apart."""
    millis = int(ctx.utils.dates.now().timestamp() * 1000)
    return f"{millis:013d}-{next(_sequence):08d}-{secrets.token_hex(2)}"


def known_room(room: str) -> bool:
    return ROOM.match(room) is not None or dm_pair(room) is not None
