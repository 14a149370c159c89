"""The one timing loop the benchmark scripts share: the median wall time of a step after untimed warm-ups.

Not a benchmark itself: the scripts beside it import it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(step: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median seconds of `repeats` timed calls of `step`, after `warmup` untimed ones (allocations, lazy
    initialisation, graph optimisation)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
