"""`delay`, `at` and `key` on an emit: what is accepted, and the errors that name the step
and the field for what is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from motia.errors import InvalidEmit
from motia.runtime.events import parse_emit

NOW = 1_750_000_000.0


def parse(**fields: Any) -> tuple[float | None, str | None]:
    event = parse_emit({"topic": "t", "data": 1, **fields}, "tr", [], now=NOW, step="Planner")
    return event.fire_at, event.key


def test_no_schedule_fields_is_a_plain_emit() -> None:
    assert parse() == (None, None)


def test_delay_counts_from_now() -> None:
    assert parse(delay=90) == (NOW + 90, None)
    assert parse(delay=0.5) == (NOW + 0.5, None)


def test_at_takes_aware_datetimes_and_iso_strings_with_an_offset() -> None:
    moment = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert parse(at=moment) == (moment.timestamp(), None)
    paris = datetime(2026, 5, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse(at=paris)[0] == moment.timestamp()
    assert parse(at="2026-05-01T11:00:00+02:00")[0] == moment.timestamp()
    assert parse(at="2026-05-01T09:00:00Z")[0] == moment.timestamp()


def test_a_past_at_is_kept_and_fires_at_once() -> None:
    assert parse(at="2000-01-01T00:00:00+00:00")[0] == datetime(2000, 1, 1, tzinfo=UTC).timestamp()


def test_a_key_alone_schedules_for_now() -> None:
    assert parse(key="cart-1") == (NOW, "cart-1")
    assert parse(key="cart-1", delay=5) == (NOW + 5, "cart-1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"delay": -1}, "'delay' must be between 0"),
        ({"delay": float("nan")}, "'delay' must be between 0"),
        ({"delay": "10"}, "'delay' must be a number of seconds"),
        ({"delay": True}, "'delay' must be a number of seconds"),
        ({"delay": 1, "at": "2026-01-01T00:00:00+00:00"}, "give 'delay' or 'at', not both"),
        ({"at": datetime(2026, 5, 1, 9, 0)}, "'at' 2026-05-01T09:00:00 has no timezone"),
        ({"at": "2026-05-01T09:00:00"}, "has no timezone"),
        ({"at": "next tuesday"}, "is not an ISO-8601 date-time"),
        ({"at": 1_750_000_000}, "'at' must be a timezone-aware datetime"),
        ({"key": ""}, "'key' must be a non-empty string"),
        ({"key": 7}, "'key' must be a non-empty string"),
        ({"key": "k" * 201}, "'key' must be a non-empty string of at most 200"),
    ],
)
def test_bad_fields_name_the_step_topic_and_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEmit, match="step 'Planner': emit of 't'") as caught:
        parse(**fields)
    assert message in str(caught.value)
