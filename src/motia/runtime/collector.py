"""The cyclic garbage collector, settled for serving once the project is loaded.

A request allocates a few hundred container objects and frees nearly all of them by
reference counting; at CPython's default threshold (a young-generation pass every 700
net allocations) the collector still walks the in-flight requests' objects every few
requests, a few percent of the CPU of a short request. Passes every 10,000 allocations
cost a fourteenth of that; what cyclic garbage waits for them is bounded by the same
count (a few megabytes at most).
"""

from __future__ import annotations

import gc

# What CPython 3.11 and 3.12 start with; a process that set anything else chose it, and
# newer interpreters (2,000 young allocations, a different scheme) are left as they are.
INTERPRETER_DEFAULT = (700, 10, 10)
SERVING_THRESHOLD = (10_000, 10, 10)


def settle_collector() -> None:
    """Keep what is loaded out of every collection, and collect young objects less often,
    unless the process (a step module, the embedding program) set its own thresholds."""
    # Everything loaded so far lives as long as the process: no pass need walk it.
    gc.freeze()
    if gc.get_threshold() == INTERPRETER_DEFAULT:
        gc.set_threshold(*SERVING_THRESHOLD)
