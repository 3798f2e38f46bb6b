"""STREAM-like memory bandwidth of this machine (triad a = b + s·c, numba ``prange``).

Usage::

    python benchmarks/stream.py [--threads 2] [--elements 50000000] [--repeat 20] [--json]

Arrays of ``--elements`` float64 each (default 3 × 400 MB, far larger than any cache) are
first touched in parallel; the triad runs ``--repeat`` times and the best time counts, with
24 bytes per element (read b, read c, write a; write-allocate traffic not counted, as in
STREAM).  Copy (16 B/element) is reported too.  Run it in the project venv (numba).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numba
import numpy as np


@numba.njit(parallel=True, cache=True)
def _init(a, b, c):
    for i in numba.prange(a.size):
        a[i] = 0.0
        b[i] = 1.0
        c[i] = 2.0


@numba.njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    for i in numba.prange(a.size):
        a[i] = b[i] + s * c[i]


@numba.njit(parallel=True, cache=True)
def _copy(a, b):
    for i in numba.prange(a.size):
        a[i] = b[i]


def measure(threads: int | None = None, elements: int = 50_000_000, repeat: int = 20) -> dict:
    """Best-of-``repeat`` triad and copy bandwidth in GB/s (1 GB = 1e9 bytes)."""
    threads = threads or os.cpu_count() or 1
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    a = np.empty(elements)
    b = np.empty(elements)
    c = np.empty(elements)
    _init(a, b, c)
    _triad(a, b, c, 3.0)  # compile + warm up
    _copy(a, b)
    best_triad = best_copy = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        _triad(a, b, c, 3.0)
        best_triad = min(best_triad, time.perf_counter() - t0)
        t0 = time.perf_counter()
        _copy(a, b)
        best_copy = min(best_copy, time.perf_counter() - t0)
    if not np.all(a[:: max(1, elements // 1000)] == 1.0):
        raise RuntimeError("copy kernel produced wrong values")
    return {
        "threads": numba.get_num_threads(),
        "elements": elements,
        "array_bytes": 8 * elements,
        "repeat": repeat,
        "triad_gb_s": 24 * elements / best_triad / 1e9,
        "copy_gb_s": 16 * elements / best_copy / 1e9,
        "triad_best_s": best_triad,
        "copy_best_s": best_copy,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None, help="default: all cores")
    p.add_argument("--elements", type=int, default=50_000_000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = p.parse_args(argv)
    result = measure(args.threads, args.elements, args.repeat)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"STREAM triad ({result['threads']} threads, 3 x {result['array_bytes'] / 1e6:.0f}"
              f" MB arrays, best of {args.repeat}): {result['triad_gb_s']:.1f} GB/s; "
              f"copy {result['copy_gb_s']:.1f} GB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
