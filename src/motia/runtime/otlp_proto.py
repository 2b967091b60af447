"""OTLP trace export requests (`ExportTraceServiceRequest`) in protobuf wire format.

The spans Motia makes have a handful of fields, and most of their attributes repeat from
run to run (the step, its kind, the topic): writing the wire format directly, with the
bytes of each repeated attribute kept, costs a small part of building the SDK's message
objects, and the encoding runs in a thread that shares the server's GIL. Field numbers
are those of `opentelemetry/proto/trace/v1/trace.proto` and `common/v1/common.proto`.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from hashlib import blake2b
from typing import Any

from motia.runtime.span_record import RequestFields, SpanEvent, SpanRecord

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Span kinds and status codes as the protocol numbers them.
KIND_INTERNAL, KIND_SERVER, KIND_CLIENT, KIND_PRODUCER, KIND_CONSUMER = 1, 2, 3, 4, 5
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
# Span.flags: the W3C trace flags, plus whether the parent's remoteness is known and is.
FLAG_SAMPLED = 0x01
FLAG_HAS_IS_REMOTE = 0x100
FLAG_IS_REMOTE = 0x200


@lru_cache(maxsize=4096)
def message_span_id(message_id: str) -> int:
    """`motia.tracecontext.emit_span_id(message_id)` as an integer, without the hex: the
    span id of the emit that produced the message, which its subscribers' runs name as
    their parent. Kept for the latest messages: both spans ask for it."""
    value = int.from_bytes(blake2b(message_id.encode(), digest_size=8).digest(), "big")
    return value or 1


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 is written as its two's complement, ten bytes
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


# The varints of the lengths most fields and spans have (a span is a few hundred bytes).
_SIZES = [_varint(n) for n in range(4096)]


def _len(tag: bytes, payload: bytes) -> bytes:
    size = len(payload)
    return tag + (_SIZES[size] if size < 4096 else _varint(size)) + payload


_pack_u64 = struct.Struct("<Q").pack
_pack_u32 = struct.Struct("<I").pack
_pack_double = struct.Struct("<d").pack

# ExportTraceServiceRequest.resource_spans; ResourceSpans.resource, .scope_spans;
# Resource.attributes; ScopeSpans.scope, .spans; InstrumentationScope.name, .version.
_REQUEST_RESOURCE_SPANS = _tag(1, _LEN)
_RESOURCE_SPANS_RESOURCE = _tag(1, _LEN)
_RESOURCE_SPANS_SCOPE_SPANS = _tag(2, _LEN)
_RESOURCE_ATTRIBUTES = _tag(1, _LEN)
_SCOPE_SPANS_SCOPE = _tag(1, _LEN)
_SCOPE_SPANS_SPANS = _tag(2, _LEN)
_SCOPE_NAME = _tag(1, _LEN)
_SCOPE_VERSION = _tag(2, _LEN)
# Span fields.
_TRACE_ID = _tag(1, _LEN) + _varint(16)
_SPAN_ID = _tag(2, _LEN) + _varint(8)
_PARENT_SPAN_ID = _tag(4, _LEN) + _varint(8)
_NAME = _tag(5, _LEN)
_KIND = _tag(6, _VARINT)
_START = _tag(7, _I64)
_END = _tag(8, _I64)
_ATTRIBUTE = _tag(9, _LEN)
_EVENT = _tag(11, _LEN)
_STATUS = _tag(15, _LEN)
_FLAGS = _tag(16, _I32)
# Span.Event, Status, KeyValue, AnyValue, ArrayValue fields.
_EVENT_TIME = _tag(1, _I64)
_EVENT_NAME = _tag(2, _LEN)
_EVENT_ATTRIBUTE = _tag(3, _LEN)
_STATUS_MESSAGE = _tag(2, _LEN)
_STATUS_CODE = _tag(3, _VARINT)
_KEY = _tag(1, _LEN)
_VALUE = _tag(2, _LEN)
_STRING = _tag(1, _LEN)
_BOOL = _tag(2, _VARINT)
_INT = _tag(3, _VARINT)
_DOUBLE = _tag(4, _I64)
_ARRAY = _tag(5, _LEN)
_ARRAY_VALUES = _tag(1, _LEN)

# The framed bytes of attributes seen before: a busy server repeats a few hundred of them.
_KNOWN_LIMIT = 4096
_known: dict[tuple[bytes, str, type, Any], bytes] = {}
_keys: dict[str, bytes] = {}


def any_value(value: Any) -> bytes:
    """An `AnyValue` message: strings, booleans, integers, floats, and sequences of them;
    anything else as its text."""
    if isinstance(value, str):
        return _len(_STRING, value.encode())
    if isinstance(value, bool):
        return _BOOL + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return _INT + _varint(value)
    if isinstance(value, float):
        return _DOUBLE + _pack_double(value)
    if isinstance(value, (list, tuple)):
        values = b"".join(_len(_ARRAY_VALUES, any_value(item)) for item in value)
        return _len(_ARRAY, values)
    return _len(_STRING, str(value).encode())


def key_value(key: str, value: Any) -> bytes:
    """A `KeyValue` message."""
    encoded_key = _keys.get(key)
    if encoded_key is None:
        encoded_key = _keys[key] = _len(_KEY, key.encode())
        if len(_keys) > _KNOWN_LIMIT:
            _keys.clear()
    return encoded_key + _len(_VALUE, any_value(value))


def _framed(tag: bytes, key: str, value: Any) -> bytes:
    """One attribute framed as the field `tag`; scalar pairs, and lists of strings, are
    encoded once and then reused (bool is an int, so the type is part of the key)."""
    cls = value.__class__
    if cls in _SCALARS:
        lookup: tuple[bytes, str, type, Any] | None = (tag, key, cls, value)
    elif cls is list and all(item.__class__ is str for item in value):
        lookup = (tag, key, tuple, tuple(value))  # the emits of a step repeat
    else:
        lookup = None
    encoded = _known.get(lookup) if lookup is not None else None
    if encoded is None:
        encoded = _len(tag, key_value(key, value))
        if lookup is not None and len(encoded) < 256:
            if len(_known) >= _KNOWN_LIMIT:
                _known.clear()
            _known[lookup] = encoded
    return encoded


def _attributes(tag: bytes, attributes: Mapping[str, Any]) -> list[bytes]:
    return [_framed(tag, key, value) for key, value in attributes.items()]


def attribute(key: str, value: Any) -> bytes:
    """One span attribute in wire format, to add to `SpanRecord.fixed`."""
    return _framed(_ATTRIBUTE, key, value)


def id_attribute(key: str, value: str) -> bytes:
    """`attribute` for a string value seen once (a message id): encoded, never kept.
    Ids of one key have one length: what comes before the value is kept by both."""
    raw = value.encode()
    prefix = _id_prefixes.get((key, len(raw)))
    if prefix is None:
        prefix = _id_prefix(key, len(raw))
    return prefix + raw


_id_prefixes: dict[tuple[str, int], bytes] = {}


def _id_prefix(key: str, size: int) -> bytes:
    # KeyValue{key, value: AnyValue{string_value}} framed as an attribute, without the
    # string's bytes.
    encoded_key = _len(_KEY, key.encode())
    any_size = len(_STRING) + len(_varint(size)) + size
    pair = len(encoded_key) + len(_VALUE) + len(_varint(any_size)) + any_size
    prefix = b"".join(
        (_ATTRIBUTE, _varint(pair), encoded_key, _VALUE, _varint(any_size), _STRING, _varint(size))
    )
    if len(_id_prefixes) < 256:
        _id_prefixes[key, size] = prefix
    return prefix


_SCALARS = frozenset({str, int, float, bool})


# Start and end times with their tags (fields 7 and 8, fixed64) in one pack.
_pack_times = struct.Struct("<BQBQ").pack
_START_TAG, _END_TAG = _START[0], _END[0]
_TIMES_SIZE = struct.calcsize("<BQBQ")
_KIND_FIELDS = [_KIND + _varint(kind) for kind in range(6)]
_FLAG_FIELDS = [  # by sampled, then by remote
    [
        _FLAGS
        + _pack_u32(
            FLAG_HAS_IS_REMOTE
            | (FLAG_SAMPLED if sampled else 0)
            | (FLAG_IS_REMOTE if remote else 0)
        )
        for remote in (False, True)
    ]
    for sampled in (False, True)
]
_names: dict[str, bytes] = {}


# The ids with their tags (fields 1, 2 and 4: bytes, big-endian) in one pack.
_pack_ids = struct.Struct(">2s16s2sQ").pack
_pack_ids_parent = struct.Struct(">2s16s2sQ2sQ").pack


def encode_span(span: SpanRecord) -> bytes:
    """A `Span` message (without the PRODUCER spans of its `emitted`)."""
    return b"".join(_span_parts(span, bytes.fromhex(span.trace_id)))


def span_field(span: SpanRecord) -> bytes:
    """`span` as one entry of `ScopeSpans.spans`, for `encode_request` (without the
    PRODUCER spans of its `emitted`: `span_fields` adds those)."""
    body = b"".join(_span_parts(span, bytes.fromhex(span.trace_id)))
    size = len(body)
    return b"".join((_SCOPE_SPANS_SPANS, _SIZES[size] if size < 4096 else _varint(size), body))


def span_fields(spans: Iterable[SpanRecord]) -> list[bytes]:
    """Each record as entries of `ScopeSpans.spans`: its span, then the PRODUCER spans of
    what it emitted. One loop for a batch: the export thread's cost is mostly calls."""
    out: list[bytes] = []
    append = out.append
    sizes, framing = _SIZES, _SCOPE_SPANS_SPANS
    for span in spans:
        trace_id = bytes.fromhex(span.trace_id)
        head = span.head
        if span.events is None and span.status == STATUS_UNSET:
            if head is not None:
                body = _run_span(span, trace_id, head)  # a step's run: most spans
            elif span.request is not None and span.attributes is None:
                body = _server_span(span, trace_id)  # a request's
            else:
                body = b"".join(_span_parts(span, trace_id))
        else:
            body = b"".join(_span_parts(span, trace_id))
        size = len(body)
        append(b"".join((framing, sizes[size] if size < 4096 else _varint(size), body)))
        emit_id = span.emit_id
        if emit_id is not None:
            parent_id = span.span_id
            append(_emit_field(trace_id, parent_id, emit_id, span.emit_head, span.emit_at))
            if span.emitted:
                for message_id, head, at in span.emitted:
                    append(_emit_field(trace_id, parent_id, message_id, head, at))
    return out


def _emit_field(trace_id: bytes, parent_id: int, message_id: str, head: bytes, at: int) -> bytes:
    """The PRODUCER span of an emit a record carries, as an entry of `ScopeSpans.spans`."""
    raw = message_id.encode()
    ids = _pack_ids_parent(
        _TRACE_ID, trace_id, _SPAN_ID, message_span_id(message_id), _PARENT_SPAN_ID, parent_id
    )
    prefix = _message_id_prefixes.get(len(raw)) or _message_id_prefix(len(raw))
    size = len(ids) + _TIMES_SIZE + len(head) + len(prefix) + len(raw)
    return b"".join(
        (
            _SCOPE_SPANS_SPANS,
            _SIZES[size] if size < 4096 else _varint(size),
            ids,
            _pack_times(_START_TAG, at, _END_TAG, at),
            head,
            prefix,
            raw,
        )
    )


def span_head(name: str, kind: int, fixed: bytes, remote: bool = False) -> bytes:
    """The name, kind and flags (sampled; whether the parent is remote) of a span, and its
    `fixed` attributes, in wire format: `SpanRecord.head`, for spans that share them."""
    return b"".join(
        (_len(_NAME, name.encode()), _KIND_FIELDS[kind], fixed, _FLAG_FIELDS[1][remote])
    )


def _message_id_prefix(size: int) -> bytes:
    prefix = _id_prefix(MESSAGE_ID, size)
    if len(_message_id_prefixes) < 256:
        _message_id_prefixes[size] = prefix
    return prefix


MESSAGE_ID = "messaging.message.id"
_message_id_prefixes: dict[int, bytes] = {}


def _run_span(span: SpanRecord, trace_id: bytes, head: bytes) -> bytes:
    """`_span_parts` of a span with a `head`, no events and no status, joined."""
    span_id, parent_id = span.span_id, span.parent_id
    message_id = span.message_id
    if message_id is not None:
        if span.span_from_message:
            span_id = message_span_id(message_id)
        if span.parent_from_message:
            parent_id = message_span_id(message_id)
        raw = message_id.encode()
        message = (_message_id_prefixes.get(len(raw)) or _message_id_prefix(len(raw))) + raw
    else:
        message = b""
    if parent_id:
        ids = _pack_ids_parent(_TRACE_ID, trace_id, _SPAN_ID, span_id, _PARENT_SPAN_ID, parent_id)
    else:
        ids = _pack_ids(_TRACE_ID, trace_id, _SPAN_ID, span_id)
    outcome, http_status = span.outcome, span.http_status
    if outcome is not None or http_status:
        emits = span.emits
        ends = _ends.get((outcome, tuple(emits) if emits else (), http_status))
        if ends is None:
            ends = _end_attributes(outcome, emits, http_status)
    else:
        ends = b""
    times = _pack_times(_START_TAG, span.start, _END_TAG, span.end)
    if span.attributes:
        return b"".join(
            (ids, times, head, message, ends, *_attributes(_ATTRIBUTE, span.attributes))
        )
    return b"".join((ids, times, head, message, ends))


# What SERVER spans share but for their ids and times, by method, route, whether the
# parent is remote, request fields and status (requests repeat: same route and client).
_servers: dict[tuple[str, str | None, bool, RequestFields, int], bytes] = {}


def _server_span(span: SpanRecord, trace_id: bytes) -> bytes:
    """`_span_parts` of a SERVER span without events, status or attributes, joined."""
    request = span.request
    assert request is not None
    key = (span.name, span.route, span.parent_remote, request, span.http_status)
    rest = _servers.get(key)
    if rest is None:
        rest = b"".join(_span_parts(span, trace_id)[2:])  # all but the ids and times
        if len(_servers) >= 1024:
            _servers.clear()
        _servers[key] = rest
    parent_id = span.parent_id
    if parent_id:
        ids = _pack_ids_parent(
            _TRACE_ID, trace_id, _SPAN_ID, span.span_id, _PARENT_SPAN_ID, parent_id
        )
    else:
        ids = _pack_ids(_TRACE_ID, trace_id, _SPAN_ID, span.span_id)
    return b"".join((ids, _pack_times(_START_TAG, span.start, _END_TAG, span.end), rest))


def _span_parts(span: SpanRecord, trace_id: bytes) -> list[bytes]:
    """The fields of `span`, in wire format."""
    span_id, parent_id = span.span_id, span.parent_id
    message_id = span.message_id
    if message_id is not None:
        if span.span_from_message:
            span_id = message_span_id(message_id)
        if span.parent_from_message:
            parent_id = message_span_id(message_id)
    if parent_id:
        ids = _pack_ids_parent(_TRACE_ID, trace_id, _SPAN_ID, span_id, _PARENT_SPAN_ID, parent_id)
    else:
        ids = _pack_ids(_TRACE_ID, trace_id, _SPAN_ID, span_id)
    head = span.head
    if head is None:
        route = span.route
        name = _names.get(span.name) if route is None else _routed_name(span.name, route)
        if name is None:
            name = _len(_NAME, span.name.encode())
            if len(_names) < _KNOWN_LIMIT:
                _names[span.name] = name
        head = b"".join(
            (
                name,
                _KIND_FIELDS[span.kind],
                span.fixed,
                _FLAG_FIELDS[span.sampled][span.parent_remote],
            )
        )
    parts = [ids, _pack_times(_START_TAG, span.start, _END_TAG, span.end), head]
    request = span.request
    if request is not None:
        parts.append(_requests.get(request) or _request_attributes(request))
    if message_id is not None:
        raw = message_id.encode()
        parts.append(_message_id_prefixes.get(len(raw)) or _message_id_prefix(len(raw)))
        parts.append(raw)
    if span.outcome is not None or span.http_status:
        emits = span.emits
        ends = _ends.get((span.outcome, tuple(emits) if emits else (), span.http_status))
        parts.append(ends or _end_attributes(span.outcome, emits, span.http_status))
    if span.attributes:
        parts += _attributes(_ATTRIBUTE, span.attributes)
    if span.events:
        for event_name, time_ns, attributes in span.events:
            event = [_EVENT_TIME, _pack_u64(time_ns), _len(_EVENT_NAME, event_name.encode())]
            event += _attributes(_EVENT_ATTRIBUTE, attributes)
            parts.append(_len(_EVENT, b"".join(event)))
    if span.status != STATUS_UNSET:
        status = _STATUS_CODE + _varint(span.status)
        if span.status_message:
            status = _len(_STATUS_MESSAGE, span.status_message.encode()) + status
        parts.append(_len(_STATUS, status))
    return parts


# Fields may come in any order: a routed SERVER span's name and its `http.route`
# attribute are kept as one piece, by (method, route).
_routes: dict[tuple[str, str], bytes] = {}


def _routed_name(method: str, route: str) -> bytes:
    key = (method, route)
    encoded = _routes.get(key)
    if encoded is None:
        encoded = _len(_NAME, f"{method} {route}".encode()) + attribute("http.route", route)
        if len(_routes) < _KNOWN_LIMIT:  # methods and routes are few; keep them
            _routes[key] = encoded
    return encoded


# The attributes of requests seen before (most repeat: same path, client and agent).
_requests: dict[RequestFields, bytes] = {}


def _request_attributes(fields: RequestFields) -> bytes:
    encoded = _requests.get(fields)
    if encoded is None:
        method, scheme, version, path, query, client, agent = fields
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.scheme": scheme,
            "network.protocol.version": version,
            "url.path": path,
        }
        if query:
            attributes["url.query"] = query.decode("latin-1")
        if client:
            attributes["client.address"] = client
        if agent is not None:
            attributes["user_agent.original"] = agent.decode("latin-1")
        encoded = encode_attributes(attributes)
        if len(_requests) >= 1024:
            _requests.clear()
        _requests[fields] = encoded
    return encoded


# How runs end repeats (the outcome, the topics emitted, the HTTP status): each way is
# encoded once.
_ends: dict[tuple[str | None, tuple[str, ...], int], bytes] = {}


def _end_attributes(outcome: str | None, emits: list[str] | None, http_status: int) -> bytes:
    key = (outcome, tuple(emits) if emits else (), http_status)
    encoded = _ends.get(key)
    if encoded is None:
        encoded = attribute("motia.outcome", outcome) if outcome is not None else b""
        if emits:
            encoded += attribute("motia.emits", list(emits))
        if http_status:
            encoded += attribute("http.response.status_code", http_status)
        if len(_ends) >= 1024:
            _ends.clear()
        _ends[key] = encoded
    return encoded


def encode_attributes(attributes: Mapping[str, Any]) -> bytes:
    """Span attributes in wire format, for `SpanRecord.fixed`."""
    return b"".join(_attributes(_ATTRIBUTE, attributes))


def encode_resource(attributes: Mapping[str, Any]) -> bytes:
    """A `Resource` message, encoded once per process."""
    return b"".join(_attributes(_RESOURCE_ATTRIBUTES, attributes))


def encode_scope(name: str, version: str | None) -> bytes:
    scope = _len(_SCOPE_NAME, name.encode())
    if version:
        scope += _len(_SCOPE_VERSION, version.encode())
    return scope


def encode_request(resource: bytes, scope: bytes, span_fields: Iterable[bytes]) -> bytes:
    """One `ExportTraceServiceRequest` holding the spans (from `span_fields`) under one
    resource and scope, joined once (a batch is a few hundred kilobytes)."""
    fields = list(span_fields)
    scope_field = _len(_SCOPE_SPANS_SCOPE, scope)
    resource_field = _len(_RESOURCE_SPANS_RESOURCE, resource)
    scope_size = len(scope_field) + sum(map(len, fields))
    scope_spans = _RESOURCE_SPANS_SCOPE_SPANS + _varint(scope_size)
    resource_size = len(resource_field) + len(scope_spans) + scope_size
    head = _REQUEST_RESOURCE_SPANS + _varint(resource_size) + resource_field + scope_spans
    return b"".join((head, scope_field, *fields))


def exception_event(
    error_type: str, message: str, stack: str | None, time_ns: int | None = None
) -> SpanEvent:
    """The `exception` event of the semantic conventions (at `time_ns`, else now)."""
    attributes: dict[str, Any] = {
        "exception.type": error_type,
        "exception.message": message,
    }
    if stack:
        attributes["exception.stacktrace"] = stack
    return ("exception", time.time_ns() if time_ns is None else time_ns, attributes)
