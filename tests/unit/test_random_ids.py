"""Ids come from the OS's random generator, drawn in blocks: no slice is handed out twice,
not to two threads and not to a forked child and its parent."""

from __future__ import annotations

import os
import threading

from motia.clock import new_message_id, new_trace_id
from motia.randomness import random_hex
from motia.tracecontext import is_trace_id, new_span_id


def test_ids_have_their_shapes_and_do_not_repeat() -> None:
    traces = {new_trace_id() for _ in range(20_000)}
    assert len(traces) == 20_000 and all(is_trace_id(t) for t in traces)
    messages = {new_message_id() for _ in range(20_000)}
    assert len(messages) == 20_000 and all(len(m) == 24 for m in messages)
    spans = {new_span_id() for _ in range(20_000)}
    assert len(spans) == 20_000 and all(len(s) == 16 for s in spans)


def test_a_request_larger_than_a_block_is_served_whole() -> None:
    assert len(random_hex(5000)) == 10_000


def test_threads_never_get_the_same_bytes() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        for _ in range(5_000):
            into.append(random_hex(8))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for into in drawn for value in into]
    assert len(set(every)) == len(every) == 40_000


def test_a_forked_child_draws_new_bytes_not_its_parents() -> None:
    random_hex(8)  # the block is filled: a child that kept it would repeat the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, sent to the parent
        os.write(write, "".join(random_hex(8) for _ in range(16)).encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    child = os.read(read, 1024).decode()
    os.close(read)
    parent = "".join(random_hex(8) for _ in range(16))
    assert status == 0 and len(child) == len(parent) == 256
    child_ids = {child[i : i + 16] for i in range(0, 256, 16)}
    parent_ids = {parent[i : i + 16] for i in range(0, 256, 16)}
    assert not child_ids & parent_ids
