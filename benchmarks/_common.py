"""Shared benchmark harness: interleaved timing, machine description, one JSON object out.

``ratio`` is ``baseline_s / ours_s`` (a speed-up: above 1 means ASTRA is faster);
``ok`` says whether it reaches ``target_ratio``. Times are medians of repeats, the
baseline and ours alternating so machine noise hits both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory, MiB: ``VmHWM`` of its own address space.

    Not ``getrusage(...).ru_maxrss``: Linux carries that across ``exec``, so a child started
    from a large parent reports at least the parent's footprint."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # not Linux: the rusage figure is the best available

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def compare(
    name: str,
    size: str,
    ours: Callable[[], object],
    baseline: Callable[[], object],
    baseline_name: str,
    *,
    target_ratio: float,
    repeats: int = 5,
) -> dict:
    ours(), baseline()  # warm up (numba compilation, caches)
    ours_t, base_t = [], []
    for _ in range(repeats):
        ours_t.append(timed(ours))
        base_t.append(timed(baseline))
    ours_s, base_s = statistics.median(ours_t), statistics.median(base_t)
    ratio = base_s / ours_s
    return {
        "name": name,
        "size": size,
        "ours_s": ours_s,
        "baseline": baseline_name,
        "baseline_s": base_s,
        "ratio": ratio,
        "target_ratio": target_ratio,
        "ok": ratio >= target_ratio,
    }


def emit(area: str, cases: list[dict], **extra) -> None:
    """Print the area's JSON object; ``extra`` adds checks that are not timing ratios (accuracy, memory)."""
    sys.stdout.write(json.dumps({"area": area, "machine": machine(), "cases": cases, **extra}, indent=2) + "\n")
