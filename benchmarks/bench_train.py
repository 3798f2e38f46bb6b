"""Benchmark the train stage end to end, and the network's full-basis inference throughput.

Usage::

    python benchmarks/bench_train.py [--ground-state /tmp/gs_k24_05] [--cluster kagome_24]
        [--j2 0.5] [--target sign] [--arch dense2] [--eps 0.01] [--seeds 0 1 2]
        [--device cpu|cuda|auto] [--threads 1] [--out benchmarks/out]

1. **End to end**: for every seed, ``python -m nqsgen.train --cluster C --j2 J --target T
   --arch A --eps E --seed S --device D --threads N`` as a subprocess with
   ``OMP_NUM_THREADS=N``.  The wall time is that of the whole command: Python and torch
   imports, opening and verifying the ground state (sha256 of the shards), sampling the
   training and validation sets, training to early stop (restore-best), the exact test overlap
   over every state not in train ∪ val, and writing the two parquet files.  Training samples/s
   (examples × epochs / training time) and the stage's evaluation throughput (test states /
   evaluation time, including state generation and masking) come from its metrics.parquet.
2. **Inference**: the architecture (freshly initialised) evaluated on all K basis states by
   :class:`nqsgen.models.Predictor` — uint64 states → spins written by a numba kernel into a
   preallocated float32 buffer → forward pass under ``torch.inference_mode`` (CPU), or states
   copied to the GPU and expanded there (CUDA).  Best of three passes; states/s per thread.

If the ground state does not exist it is computed first with
``mpiexec -n 2 nqsgen-ground-state`` (not timed).  ``--device cuda`` records the same
run on a GPU (and the GPU/CPU ratio when ``--device cpu`` results are given with
``--compare``).  Writes OUT/bench_train.json and OUT/bench_train.md; prints the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from harness import ROOT, ensure_ground_state, environment, machine

TARGETS = {"wall_s": 60.0, "inference_per_thread": 2e6}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ground-state", default="/tmp/gs_k24_05")
    p.add_argument("--cluster", default="kagome_24")
    p.add_argument("--j2", type=float, default=0.5)
    p.add_argument("--target", default="sign")
    p.add_argument("--arch", default="dense2")
    p.add_argument("--eps", type=float, default=0.01)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    p.add_argument("--compare", help="bench_train.json of a CPU run, for the GPU/CPU ratio")
    return p.parse_args(argv)


def end_to_end(args, seed: int, out: Path) -> dict:
    run = out / "runs" / f"seed={seed}"
    cmd = [sys.executable, "-m", "nqsgen.train", "--cluster", args.cluster, "--j2",
           str(args.j2), "--target", args.target, "--arch", args.arch, "--eps", str(args.eps),
           "--seed", str(seed), "--out", str(run), "--ground-state", args.ground_state,
           "--device", args.device, "--threads", str(args.threads)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environment(args.threads))
    wall = time.perf_counter() - t0
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "logs" / f"train-seed{seed}.log").write_text(proc.stderr)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    import pyarrow.parquet as pq

    row = pq.read_table(run / "metrics.parquet").to_pylist()[0]
    keys = ("overlap", "epochs", "best_epoch", "n_train", "test_states", "wall_time_s",
            "train_time_s", "train_samples_per_s", "eval_time_s", "inference_states_per_s",
            "device")
    return {"seed": seed, "command": " ".join(cmd), "process_wall_s": wall,
            **{k: row[k] for k in keys}}


def inference(args) -> dict:
    """Best-of-3 full-basis throughput of a fresh network (states/s)."""
    import torch

    from nqsgen.basis import SzBasis
    from nqsgen.clusters import get_cluster
    from nqsgen.devices import resolve_device, set_threads
    from nqsgen.models import ModelConfig, Predictor, build_model

    set_threads(args.threads)
    device = resolve_device(args.device)
    cluster = get_cluster(args.cluster)
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=args.arch), cluster).to(device)
    states = SzBasis(cluster.n_sites).states()
    predict = Predictor(model, cluster.n_sites, device)
    predict(states[:100_000])  # warm-up (compilation, allocations)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        predict(states)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return {"states": len(states), "seconds": best, "states_per_s": len(states) / best,
            "states_per_s_per_thread": len(states) / best / args.threads}


def table(result: dict) -> str:
    a = result["args"]
    lines = [f"Machine: {result['machine']['cpu']} ({result['machine']['cores']} cores), "
             f"GPU: {result['machine']['gpu']}, torch {result['machine']['torch']}, "
             f"{result['machine']['date']}",
             f"Run: {a['cluster']} J2={a['j2']:g} {a['target']}/{a['arch']} εtrain={a['eps']:g}, "
             f"device {a['device']}, {a['threads']} thread(s)", "",
             "| seed | wall (process) | stage wall | epochs (best) | train time | "
             "train samples/s | test eval | eval states/s | overlap |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        lines.append(f"| {r['seed']} | {r['process_wall_s']:.1f} s | {r['wall_time_s']:.1f} s | "
                     f"{r['epochs']} ({r['best_epoch']}) | {r['train_time_s']:.1f} s | "
                     f"{r['train_samples_per_s']:,.0f} | {r['eval_time_s']:.2f} s | "
                     f"{r['inference_states_per_s']:,.0f} | {r['overlap']:.5f} |")
    inf = result["inference"]
    lines += ["", f"Full-basis inference ({inf['states']:,} states, best of 3): "
              f"{inf['seconds']:.2f} s = {inf['states_per_s']:,.0f} states/s "
              f"({inf['states_per_s_per_thread']:,.0f} per thread; target "
              f"{TARGETS['inference_per_thread']:,.0f})."]
    worst = max(r["process_wall_s"] for r in result["runs"])
    lines.append(f"Slowest end-to-end run {worst:.1f} s (target ≤ {TARGETS['wall_s']:.0f} s).")
    if "gpu_cpu_ratio" in result:
        lines.append(f"GPU/CPU speed ratio: {json.dumps(result['gpu_cpu_ratio'])}")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_ground_state(args.cluster, args.j2, args.ground_state)
    runs = [end_to_end(args, seed, out) for seed in args.seeds]
    result = {"args": vars(args), "machine": machine(), "runs": runs, "inference": inference(args)}
    if args.compare:
        cpu = json.loads(Path(args.compare).read_text())
        best = min(r["process_wall_s"] for r in runs)
        result["gpu_cpu_ratio"] = {
            "end_to_end": min(r["process_wall_s"] for r in cpu["runs"]) / best,
            "inference": result["inference"]["states_per_s"] / cpu["inference"]["states_per_s"]}
    (out / "bench_train.json").write_text(json.dumps(result, indent=1) + "\n")
    text = table(result)
    (out / "bench_train.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
