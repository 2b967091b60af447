"""Fan-out branch: every record has a positive amount and a two-letter country code."""

from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "CheckSchema",
    "description": "Check each record's amount and country code",
    "subscribes": ["batch.submitted"],
    "emits": ["batch.check.done"],
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    problems = [
        f"record {r['id']}: {reason}" for r in input_data["records"] for reason in _problems(r)
    ]
    await ctx.emit(
        {
            "topic": "batch.check.done",
            "data": {"batchId": input_data["id"], "check": "schema", "problems": problems},
            "messageGroupId": input_data["id"],  # JoinChecks takes one batch at a time
        }
    )


def _problems(record: dict[str, Any]) -> list[str]:
    found = []
    if record["amount"] <= 0:
        found.append("amount must be positive")
    country = record["country"]
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        found.append(f"country {country!r} is not a two-letter code")
    return found
