"""Training throughput of ensembles (nqsgen.ensemble) against one run per process.

    python benchmarks/bench_ensemble.py --ground-state DIR            # CPU, kagome_24 J2=0.5
    python benchmarks/bench_ensemble.py --ground-state DIR --device cuda \\
        --sizes 1 10 100 300 1000 --compare benchmarks/out/ensemble/bench_ensemble-cpu.json

(``DIR``: a kagome_24 ground state, e.g. from ``mpiexec -n 2 python -m
nqsgen.stages.ground_state --cluster kagome_24 --j2 0.5 --out DIR``; computed there first
when missing.)  For each architecture (dense2, cnn) and ensemble size M, in one process:

* **ensemble**: M members (seeds 0 .. M-1, εtrain = ``--eps``), drawn and initialised as the
  stage does, trained together by :func:`nqsgen.ensemble.fit_ensemble` for ``--epochs`` epochs
  (patience above that, so every member trains every epoch).  *Examples/s* = all members'
  optimisation examples / time in optimisation steps; *members/s* = M / wall time of the fit
  (validation included) — trainings of that many epochs completed per second.
* **per run, in process**: the code before ensembles, :func:`nqsgen.training.fit` on one
  ``nn.Module`` (M = 1 only: it is one run).

Each in-process point is measured ``--repeat`` times (default 3) and the best counts.

Then, side by side, **one run per process**: ``python -m nqsgen.stages.train`` for
``--process-runs`` seeds as separate processes (imports, opening and verifying the ground
state, draws, training, the exact test pass, writing), and the ensemble stage
``--runs`` with M of those runs in one process; per run and total wall times, so the cost of
M separate processes (M × the mean measured) stands next to one ensemble process of M.

Every measurement records ``os.getloadavg()`` before and after (the machine may be shared).
Writes ``OUT/bench_ensemble-<device>.json`` and ``.md``; prints the table.  With
``--compare`` (the JSON of a CPU run), adds the GPU/CPU ratio of examples/s per size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import ROOT, ensure_ground_state, environment, machine


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ground-state", default="/tmp/nqsgen-bench/gs_kagome_24_0.5")
    p.add_argument("--cluster", default="kagome_24")
    p.add_argument("--j2", type=float, default=0.5)
    p.add_argument("--archs", nargs="+", default=["dense2", "cnn"])
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20, 100])
    p.add_argument("--eps", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3,
                   help="in-process measurements per point: the best counts (noisy machines)")
    p.add_argument("--process-runs", type=int, default=3,
                   help="separate stage processes per architecture (0: skip)")
    p.add_argument("--process-ensemble", type=int, default=20,
                   help="runs of the ensemble stage process (0: skip)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "ensemble"))
    p.add_argument("--compare", help="bench_ensemble JSON of a CPU run (GPU/CPU ratio)")
    return p.parse_args(argv)


def members(args, arch: str, n: int, state, cluster):
    from nqsgen.datasets import default_eps_val, make_split, seed_streams
    from nqsgen.ensemble import init_member
    from nqsgen.models import ModelConfig

    out = []
    for seed in range(n):
        streams = seed_streams(seed)
        model, generator = init_member(streams, ModelConfig(arch=arch), cluster)
        split = make_split(state, args.eps, default_eps_val(args.eps), streams)
        out.append((model, generator, split))
    return out


def config(args):
    from nqsgen.training import TrainConfig

    return TrainConfig(target="sign", max_epochs=args.epochs, patience=args.epochs + 1,
                       log_interval_s=1e9)


def ensemble_throughput(args, arch: str, size: int, state, cluster, device) -> dict:
    import torch

    from nqsgen.ensemble import fit_ensemble
    from nqsgen.models import StackedNetwork

    ms = members(args, arch, size, state, cluster)
    net = StackedNetwork([m[0] for m in ms], device)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = fit_ensemble(net, [m[2].train for m in ms], [m[2].val for m in ms],
                           [m[1] for m in ms], config(args), cluster.n_sites, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    examples = sum(r.epochs * len(m[2].train) for r, m in zip(results, ms, strict=True))
    # every member has the same εtrain and trains every epoch: they all stop at the last step,
    # so each one's examples / samples_per_s is the ensemble's time in optimisation steps
    step_time = results[0].epochs * len(ms[0][2].train) / results[0].samples_per_s
    return {"arch": arch, "size": size, "path": "ensemble", "examples": examples,
            "step_time_s": step_time, "wall_s": wall, "examples_per_s": examples / step_time,
            "members_per_s": size / wall, "epochs": args.epochs,
            "load": [load, os.getloadavg()[0]]}


def legacy_throughput(args, arch: str, state, cluster, device) -> dict:
    from nqsgen.training import fit

    (model, generator, split), = members(args, arch, 1, state, cluster)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = fit(model.to(device), split.train, split.val, config(args), cluster.n_sites,
                 device, generator)
    wall = time.perf_counter() - t0
    return {"arch": arch, "size": 1, "path": "fit (one nn.Module)",
            "examples": result.epochs * len(split.train),
            "examples_per_s": result.samples_per_s, "members_per_s": 1 / wall,
            "wall_s": wall, "epochs": args.epochs, "load": [load, os.getloadavg()[0]]}


def stage(args, arch: str, runs: list[tuple[int, Path]], out: Path) -> dict:
    """The train stage as a subprocess: one run (--seed) or an ensemble (--runs)."""
    common = [sys.executable, "-m", "nqsgen.stages.train", "--cluster", args.cluster,
              "--target", "sign", "--arch", arch, "--ground-state", args.ground_state,
              "--device", args.device, "--threads", str(args.threads), "--max-epochs",
              str(args.epochs), "--patience", str(args.epochs + 1)]
    if len(runs) == 1:
        cmd = common + ["--j2", str(args.j2), "--eps", str(args.eps), "--seed",
                        str(runs[0][0]), "--out", str(runs[0][1])]
    else:
        cmd = common + ["--runs", *(str(d) for _, d in runs)]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environment(args.threads))
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return {"runs": len(runs), "wall_s": wall, "load": [load, os.getloadavg()[0]],
            "command": " ".join(cmd[:3] + ["..."])}


def processes(args, arch: str, out: Path) -> dict:
    import shutil

    from nqsgen.paths import train_run_dir

    root = out / "runs" / arch
    shutil.rmtree(root, ignore_errors=True)
    single = [stage(args, arch, [(s, root / f"single/seed={s}")], out)
              for s in range(args.process_runs)]
    result = {"arch": arch, "single": single}
    if args.process_ensemble > 1:
        runs = [(s, train_run_dir(args.cluster, args.j2, "sign", arch, args.eps, s,
                                  root=root / "ens")) for s in range(args.process_ensemble)]
        result["ensemble"] = stage(args, arch, runs, out)
    return result


def table(result: dict) -> str:
    a, m = result["args"], result["machine"]
    lines = [f"Machine: {m['cpu']} ({m['cores']} cores), GPU {m['gpu']}, torch {m['torch']}, "
             f"{m['date']}; load average at start {m['loadavg_start'][0]:.2f}",
             f"{a['cluster']} J2={a['j2']:g}, sign, εtrain={a['eps']:g}, {a['epochs']} epochs, "
             f"device {a['device']}, {a['threads']} thread(s)", "",
             "| arch | M | path | examples/s (all members) | vs one run | members/s | "
             "load (before-after) |", "|---|---|---|---|---|---|---|"]
    for arch in a["archs"]:
        rows = [r for r in result["throughput"] if r["arch"] == arch]
        base = next((r["examples_per_s"] for r in rows if r["path"] != "ensemble"), None)
        for r in rows:
            ratio = f"{r['examples_per_s'] / base:.2f}×" if base else ""
            lines.append(f"| {arch} | {r['size']} | {r['path']} | {r['examples_per_s']:,.0f} | "
                         f"{ratio} | {r['members_per_s']:.3f} | "
                         f"{r['load'][0]:.1f}-{r['load'][1]:.1f} |")
    for p in result.get("processes", []):
        single = p["single"]
        if single:
            mean = sum(s["wall_s"] for s in single) / len(single)
            walls = ", ".join(f"{s['wall_s']:.1f}" for s in single)
            lines.append(f"\n{p['arch']}: one run per process (stage, {len(single)} runs): "
                         f"{mean:.1f} s per run (walls {walls} s)")
        if "ensemble" in p:
            e = p["ensemble"]
            lines.append(f"{p['arch']}: one process for {e['runs']} runs (--runs): "
                         f"{e['wall_s']:.1f} s = {e['wall_s'] / e['runs']:.2f} s per run"
                         + (f"; {e['runs']} separate processes ≈ {e['runs'] * mean:.0f} s "
                            f"({e['runs'] * mean / e['wall_s']:.1f}×)" if single else ""))
    if "gpu_cpu_ratio" in result:
        lines.append(f"\nGPU/CPU examples/s ratio per (arch, M): "
                     f"{json.dumps(result['gpu_cpu_ratio'])}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import torch

    from nqsgen.clusters import get_cluster
    from nqsgen.devices import resolve_device, set_threads
    from nqsgen.storage import open_ground_state

    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_ground_state(args.cluster, args.j2, args.ground_state)
    set_threads(args.threads)
    device = resolve_device(args.device)
    cluster = get_cluster(args.cluster)
    state = open_ground_state(args.ground_state, cluster, args.j2)
    result = {"args": vars(args), "machine": {**machine(), "loadavg_start": os.getloadavg()},
              "throughput": [], "processes": []}
    for arch in args.archs:  # warm-up (first calls, allocator, compiled kernels): not recorded
        warm = argparse.Namespace(**{**vars(args), "epochs": 1, "eps": 1e-3})
        ensemble_throughput(warm, arch, 2, state, cluster, device)
        legacy_throughput(warm, arch, state, cluster, device)
    best = lambda runs: max(runs, key=lambda r: r["examples_per_s"])  # noqa: E731
    for arch in args.archs:
        if device.type == "cpu":
            result["throughput"].append(best([legacy_throughput(args, arch, state, cluster,
                                                                device)
                                              for _ in range(args.repeat)]))
        for size in args.sizes:
            result["throughput"].append(best([ensemble_throughput(args, arch, size, state,
                                                                  cluster, device)
                                              for _ in range(args.repeat)]))
            print(json.dumps(result["throughput"][-1]), flush=True)
            if device.type == "cuda":
                torch.cuda.empty_cache()
        if args.process_runs or args.process_ensemble > 1:
            result["processes"].append(processes(args, arch, out))
    if args.compare:
        cpu = json.loads(Path(args.compare).read_text())["throughput"]
        ref = {(r["arch"], r["size"]): r["examples_per_s"] for r in cpu
               if r["path"] == "ensemble"}
        result["gpu_cpu_ratio"] = {f"{r['arch']}/{r['size']}": r["examples_per_s"] /
                                   ref[(r["arch"], r["size"])] for r in result["throughput"]
                                   if (r["arch"], r["size"]) in ref}
    name = f"bench_ensemble-{device.type}"
    (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    text = table(result)
    (out / f"{name}.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
