"""Benchmark learning from the 36-spin symmetric ground state (the 6×6 square lattice).

Usage::

    python benchmarks/bench_36.py [--ground-state results/ground_states/square_36/J2=0.5]
        [--draws 10000000] [--eps 1e-5] [--j2 0.5] [--seed 0] [--skip-train]
        [--out benchmarks/out]

1. **Sampling** (one core: numba and torch limited to one thread): ``draws`` states from |ψ|²
   through the symmetric sampler (a representative with probability c_r², then a uniformly
   random element of the 576-element group), best of two.
2. **Look-ups** (one core): the amplitudes of those ``draws`` states, and of as many states
   drawn uniformly from the Sz = 0 basis (the plain sign accuracy needs those), each the
   smallest image over the group and a bisection in the 15.8 M representatives.
3. **One training run** at ``--eps`` (the paper's protocol; default dense2, sign) as a
   subprocess ``python -m nqsgen.stages.train ... --threads 1`` with ``OMP_NUM_THREADS=1``: its wall
   time and peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), ground-state computation
   excluded, test overlap by Monte Carlo (sized for SE ≤ 0.005).

Targets (issue 10): 10⁷ draws ≤ 30 s and 10⁷ look-ups ≤ 30 s on one core; one run ≤ 10 min
and ≤ 4 GB peak RSS.  Also records the machine load (1-minute load average before and after).
Writes OUT/bench_36.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"draws_s": 30.0, "lookups_s": 30.0, "train_wall_s": 600.0, "train_rss_gb": 4.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ground-state", default=str(ROOT / "results/ground_states/square_36/J2=0.5"))
    p.add_argument("--cluster", default="square_36")
    p.add_argument("--j2", type=float, default=0.5)
    p.add_argument("--draws", type=int, default=10_000_000)
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--arch", default="dense2")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    return p.parse_args(argv)


def timed(fn, repeat: int = 2):
    """(best wall time, last result) of ``repeat`` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def sampling_and_lookups(args) -> dict:
    import numba
    import numpy as np

    from nqsgen.storage import GroundState

    numba.set_num_threads(1)
    t0 = time.perf_counter()
    state = GroundState.open(args.ground_state)
    state.symmetric()
    opened = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed)
    state.sample_states(1000, rng)  # compile and build the cumulative distribution
    state.amplitude(state.sample_states(1000, rng))
    draw_s, states = timed(lambda: state.sample_states(args.draws, rng))
    lookup_s, amplitudes = timed(lambda: state.amplitude(states))
    basis = state.basis
    uniform = basis.states_at(rng.integers(0, basis.dimension, args.draws))
    uniform_s, _ = timed(lambda: state.amplitude(uniform))
    assert np.all(amplitudes != 0)  # drawn states lie in the sector's orbits
    return {"open_s": opened, "representatives": state.stored_rows,
            "dimension": state.dimension, "draws": args.draws, "draw_s": draw_s,
            "draws_per_s": args.draws / draw_s, "lookup_s": lookup_s,
            "lookups_per_s": args.draws / lookup_s, "uniform_lookup_s": uniform_s}


def train_run(args) -> dict:
    out = Path(args.out) / f"bench_36-train-eps={args.eps:g}"
    cmd = [sys.executable, "-m", "nqsgen.stages.train", "--cluster", args.cluster, "--j2",
           str(args.j2), "--target", "sign", "--arch", args.arch, "--eps", str(args.eps),
           "--seed", str(args.seed), "--out", str(out), "--ground-state", args.ground_state,
           "--device", "cpu", "--threads", "1"]
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"train run failed: {proc.stderr[-2000:]}")
    import pyarrow.parquet as pq

    metrics = pq.read_table(out / "metrics.parquet").to_pylist()[0]
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    keys = ("n_train", "train_unique", "n_val", "epochs", "overlap", "overlap_se",
            "overlap_samples", "overlap_draws", "overlap_method", "train_time_s",
            "eval_time_s")
    return {"command": " ".join(cmd[1:]), "wall_s": wall, "peak_rss_bytes": rss,
            **{k: metrics[k] for k in keys}}


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    result = {"machine": platform.node(), "cpus": os.cpu_count(),
              "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
              "load_before": load_before, "ground_state": args.ground_state,
              "sampling": sampling_and_lookups(args)}
    if not args.skip_train:
        result["train"] = train_run(args)
    result["load_after"] = os.getloadavg()[0]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "bench_36.json").write_text(json.dumps(result, indent=2) + "\n")
    s = result["sampling"]
    print(f"| quantity | measured | target |\n|---|---:|---:|\n"
          f"| {s['draws']:,} draws from |ψ|² | {s['draw_s']:.1f} s | ≤ {TARGETS['draws_s']:g} s |\n"
          f"| {s['draws']:,} look-ups of drawn states | {s['lookup_s']:.1f} s | "
          f"≤ {TARGETS['lookups_s']:g} s |\n"
          f"| {s['draws']:,} look-ups of uniform states | {s['uniform_lookup_s']:.1f} s | — |")
    if "train" in result:
        t = result["train"]
        print(f"| one run, εtrain = {args.eps:g} ({t['n_train']:,} draws, {t['epochs']} "
              f"epochs) | {t['wall_s']:.0f} s, {t['peak_rss_bytes'] / 1e9:.2f} GB | "
              f"≤ {TARGETS['train_wall_s']:g} s, ≤ {TARGETS['train_rss_gb']:g} GB |")
    print(f"load average {load_before:.2f} before, {result['load_after']:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
