"""Log records: fixed fields always present and never overwritten by user fields."""

from __future__ import annotations

import io

from motia import jsoncodec
from motia.logs import Logger, LogSink


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [jsoncodec.loads(line) for line in stream.getvalue().splitlines()]


def test_record_fields_and_levels() -> None:
    stream = io.StringIO()
    logger = Logger(LogSink("info", "json", stream=stream), "Step", "trace-1", ["flow"])
    logger.debug("hidden")
    logger.info("shown", {"orderId": 7})
    logger.warning("careful")
    logger.error("failed", "not a dict")
    logger.log({"level": "warn", "msg": "classic", "extra": True})
    records = _records(stream)
    assert [r["level"] for r in records] == ["info", "warn", "error", "warn"]
    first = records[0]
    assert {k: first[k] for k in ("msg", "step", "traceId", "flows", "orderId")} == {
        "msg": "shown",
        "step": "Step",
        "traceId": "trace-1",
        "flows": ["flow"],
        "orderId": 7,
    }
    assert isinstance(first["time"], int)
    assert records[2]["data"] == "not a dict"
    assert records[3]["extra"] is True


def test_user_fields_never_replace_fixed_fields() -> None:
    for fmt in ("json", "pretty"):
        stream = io.StringIO()
        logger = Logger(LogSink("debug", fmt, stream=stream), "Step", "trace-1", [])
        logger.info("real message", {"level": "custom", "msg": "other", "traceId": "x"})
        if fmt == "json":
            record = _records(stream)[0]
            assert (record["level"], record["msg"], record["traceId"]) == (
                "info",
                "real message",
                "trace-1",
            )
            assert (record["level_"], record["msg_"], record["traceId_"]) == (
                "custom",
                "other",
                "x",
            )
        else:
            assert "real message" in stream.getvalue()
