"""A span as Motia keeps it from its start until the export thread encodes it
(`otlp_proto`): a few slots set as the run goes, no encoding on the request path."""

from __future__ import annotations

from typing import Any

STATUS_UNSET = 0  # as `otlp_proto` numbers span statuses

SpanEvent = tuple[str, int, dict[str, Any]]  # name, time (ns), attributes
RequestFields = tuple[str, str, str, str, bytes, str | None, bytes | None]


class SpanRecord:
    """One span as Motia keeps it until it is exported. A record that is not `sampled`
    only names its ids to children and to `traceparent` headers; it is never sent.

    What a span learns on the request path is stored as it comes (`message_id`, `route`,
    `outcome`, `emits`, `http_status`, `request`) and turned into attributes by the export
    thread, a batch at a time: the request pays for a few stores, not for encoding."""

    # What most spans set has a slot, set by `__init__`; the rest (errors, retries, a
    # handler's own attributes) are class defaults until a span sets them.
    __slots__ = (
        "__dict__",
        "emit_at",
        "emit_head",
        "emit_id",
        "emits",
        "end",
        "handed",
        "head",
        "http_status",
        "kind",
        "message_id",
        "name",
        "outcome",
        "parent_from_message",
        "parent_id",
        "parent_remote",
        "request",
        "route",
        "sampled",
        "span_id",
        "start",
        "trace_id",
    )

    attributes: dict[str, Any] | None = None
    # Attributes already in wire format (`attribute`, `encode_attributes`): those every
    # run of a step shares, encoded once.
    fixed: bytes = b""
    status: int = STATUS_UNSET
    status_message: str = ""
    events: list[SpanEvent] | None = None
    # An emit's span id derives from its message id (`message_span_id`), as does the
    # parent of the run of the event it emitted (`parent_from_message`).
    span_from_message: bool = False
    # The emits after the first one (see `emit_id`).
    emitted: list[tuple[str, bytes, int]] | None = None

    def __init__(
        self,
        trace_id: str,  # 32 hex digits
        span_id: int,
        parent_id: int,
        name: str,
        kind: int,
        start: int,  # ns since the epoch
        sampled: bool = True,
        parent_remote: bool = False,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self.start = start
        self.sampled = sampled
        self.parent_remote = parent_remote
        self.end = 0
        # The name, kind, flags and `fixed` attributes in wire format (`span_head`), kept
        # by whoever makes many alike spans (a step's runs): then those are not read.
        self.head: bytes | None = None
        self.message_id: str | None = None  # messaging.message.id
        self.parent_from_message = False
        self.route: str | None = None  # http.route; a SERVER span is named "METHOD route"
        self.outcome: str | None = None  # motia.outcome
        self.emits: list[str] | None = None  # motia.emits, when not empty
        self.http_status = 0  # http.response.status_code, when not 0
        # A request's method, scheme, protocol version, path, query, client address and
        # user agent (the attributes of a SERVER span).
        self.request: RequestFields | None = None
        # The emits made while this span was current and before it was handed for export:
        # PRODUCER spans, children of this one, sent with it (an emit after the hand-over
        # is a record of its own). The first one's message id, `span_head` and time are
        # slots (no container for the garbage collector to visit while the record waits);
        # the others, rarer, are listed in `emitted`.
        self.emit_id: str | None = None
        self.emit_head = b""
        self.emit_at = 0
        self.handed = False  # given to the exporter: no longer changed
