"""Secret keys are masked at any depth of a record's fields; everything else is kept."""

from __future__ import annotations

import io

from motia import jsoncodec
from motia.logs import Logger, LogSink
from motia.redaction import DEFAULT_KEYS, MASK, Redactor


def test_keys_match_whatever_their_case_and_dashes() -> None:
    redactor = Redactor(DEFAULT_KEYS)
    for key in ("password", "Password", "SET-COOKIE", "x-api-key", "Authorization", "apiKey"):
        assert redactor.is_secret(key), key
    for key in ("passwords", "tokenizer", "user", "cookies_enabled", "secretary"):
        assert not redactor.is_secret(key), key


def test_globs_widen_the_match() -> None:
    redactor = Redactor(["*_token", "ssn"])
    assert redactor.is_secret("github_token")
    assert redactor.is_secret("Stripe-Token")
    assert redactor.is_secret("SSN")
    assert not redactor.is_secret("token")
    assert not redactor.is_secret("token_count")


def test_nested_dicts_and_lists_are_masked_and_the_original_is_untouched() -> None:
    redactor = Redactor(DEFAULT_KEYS)
    fields = {
        "user": {"name": "ada", "password": "hunter2", "cards": [{"credit_card": "4111"}]},
        "headers": [("x", {"Authorization": "Bearer abc"})],
        "token": {"nested": "whole value"},
        "count": 3,
    }
    masked = redactor.mask(fields)
    assert masked == {
        "user": {"name": "ada", "password": MASK, "cards": [{"credit_card": MASK}]},
        "headers": [["x", {"Authorization": MASK}]],
        "token": MASK,
        "count": 3,
    }
    assert fields["user"]["password"] == "hunter2"  # type: ignore[index]
    clean = {"user": {"name": "ada"}, "items": [1, 2]}
    assert redactor.mask(clean) is clean  # nothing secret: nothing copied


def test_a_cycle_does_not_loop_forever() -> None:
    loop: dict[str, object] = {"password": "p"}
    loop["self"] = loop
    masked = Redactor(["password"]).mask(loop)
    assert masked["password"] == MASK


def test_field_errors_of_secret_fields_lose_their_message() -> None:
    errors = [
        {"field": "account.password", "message": "'hunter2' is too short"},
        {"field": "age", "message": "'x' is not of type 'integer'"},
    ]
    assert Redactor(DEFAULT_KEYS).field_errors(errors) == [
        {"field": "account.password", "message": MASK},
        {"field": "age", "message": "'x' is not of type 'integer'"},
    ]


def test_the_logger_masks_fields_before_any_listener_or_output_sees_them() -> None:
    for fmt in ("json", "pretty"):
        stream = io.StringIO()
        sink = LogSink("info", fmt, stream=stream)
        heard: list[dict[str, object]] = []
        sink.subscribe(heard.append)
        logger = Logger(sink, "Step", "trace-1", [])
        logger.info("login", {"user": "ada", "body": {"password": "hunter2"}})
        logger.log({"level": "info", "msg": "classic", "api_key": "k-123"})
        assert "hunter2" not in stream.getvalue() and "k-123" not in stream.getvalue()
        assert heard[0]["body"] == {"password": MASK} and heard[0]["user"] == "ada"
        assert heard[1]["api_key"] == MASK
        assert list(sink.history) == heard


def test_an_empty_list_masks_nothing() -> None:
    stream = io.StringIO()
    logger = Logger(LogSink("info", "json", stream=stream, redact=()), "Step", None, [])
    logger.info("plain", {"password": "visible"})
    assert jsoncodec.loads(stream.getvalue())["password"] == "visible"


def test_bound_fields_go_on_every_record_of_a_run() -> None:
    stream = io.StringIO()
    root = Logger(LogSink("info", "json", stream=stream), None, None, [])
    run = root.child("Step", "trace-1", ["f"], {"topic": "order.created", "attempt": 2})
    run.info("working")
    record = jsoncodec.loads(stream.getvalue())
    assert (record["step"], record["traceId"], record["topic"], record["attempt"]) == (
        "Step",
        "trace-1",
        "order.created",
        2,
    )
