"""CPU per request of OpenTelemetry's own work for figure 11's `POST /items`, in-process.

The calls a request makes with trace export on (the SERVER span opened and closed, the API
run's start and end, its emit, the event run's start and end) and the export thread's
encoding of their spans, timed with the thread's CPU clock in one process: no server, no
network, no scheduler, so it moves far less than `otel_cpu.py` and shows what a change to
the hooks or the encoder does. Inside the server the same work costs more (colder caches,
garbage collection of the records waiting for export); compare versions with it, and
confirm with `otel_cpu.py`:

    PYTHONPATH=src python bench/otel_hooks.py
    PYTHONPATH=/tmp/before/src python bench/otel_hooks.py   # another version
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from types import SimpleNamespace
from typing import Any

from motia.clock import new_trace_id
from motia.logs import Logger, LogSink
from motia.runtime.events import Event
from motia.runtime.hooks import Run, RunEnd
from motia.runtime.otel import OtelConfig
from motia.runtime.otel_export import OtelExport
from motia.runtime.otel_runs import RunSpans

API_STEP: Any = SimpleNamespace(
    name="CreateItem", language="python", config=SimpleNamespace(),
    api=SimpleNamespace(path="/items"), flows=["bench"],
)
EVENT_STEP: Any = SimpleNamespace(
    name="ItemCreated", language="python", config=SimpleNamespace(), api=None, flows=["bench"],
)
HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"),
           (b"content-type", b"application/json"), (b"content-length", b"48")]


class Discard:
    """Stands for the collector: takes each export request, keeps its size."""

    target = SimpleNamespace(timeout=0.1)

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def post(self, body: bytes, deadline: float | None = None) -> bool:
        self.sizes.append(len(body))
        return True

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=25_600, help="per round")
    args = parser.parse_args()
    from motia.http.otel_spans import ServerSpans

    export = OtelExport(
        OtelConfig(True, False, "bench"),
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
         "OTEL_BSP_SCHEDULE_DELAY": "1000000000", "OTEL_BSP_MAX_QUEUE_SIZE": "100000000",
         "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100000000"},
        Logger(LogSink(stream=io.StringIO()), None, None, []),
    )
    spans: Any = export.spans
    discard = Discard()
    spans._poster = discard  # the thread never wakes: batches are sent from here
    runs = RunSpans(export)
    server = ServerSpans(export, True)

    def request(otel: bool) -> None:
        scope: dict[str, Any] = {
            "type": "http", "method": "POST", "path": "/items", "headers": HEADERS,
            "scheme": "http", "http_version": "1.1", "query_string": b"",
            "client": ("127.0.0.1", 5555),
        }
        span, token = server.open(scope) if otel else (None, None)
        trace_id: str = scope["motia.trace_id"] if otel else new_trace_id()
        run = Run(API_STEP, "api", trace_id, "POST /items", 0.0)
        event = Event(topic="item.created", data={}, trace_id=trace_id, flows=["bench"])
        end = RunEnd("ok", 0.0, emits=["item.created"], http_status=201)
        scope["motia.status"] = 201
        if otel:
            runs.run_started(run)
            export.emitted(event)
            runs.run_ended(run, end)
            server.close(span, token, scope)  # type: ignore[arg-type]
        delivered = Run(EVENT_STEP, "event", trace_id, "topic item.created", 0.0, 1, event.id)
        done = RunEnd("ok", 0.0)
        if otel:
            runs.run_started(delivered)
            runs.run_ended(delivered, done)

    def one_round(otel: bool) -> tuple[float, float]:
        on_path = exporting = 0.0
        for _ in range(args.requests // 128):
            start = time.thread_time()
            for _ in range(128):  # a batch of 512 spans, as the export thread sends them
                request(otel)
            middle = time.thread_time()
            spans._send_waiting(None, False)
            on_path += middle - start
            exporting += time.thread_time() - middle
        return on_path / args.requests * 1e6, exporting / args.requests * 1e6

    one_round(True), one_round(False)  # warm up
    off, on, encode = [], [], []
    for _ in range(args.rounds):
        off.append(one_round(False)[0])
        path, sent = one_round(True)
        on.append(path)
        encode.append(sent)
    base = statistics.median(off)
    hooks = statistics.median(on) - base
    export_us = statistics.median(encode)
    print(f"request without OTel {base:.2f} us; with OTel +{hooks:.2f} us on the request path, "
          f"{export_us:.2f} us encoding: +{hooks + export_us:.2f} us CPU per request "
          f"({discard.sizes[-1] / 128:.0f} bytes of OTLP per request)")
    export.shutdown()


if __name__ == "__main__":
    main()
