"""Benchmark the VMC stage: SR iterations per second at 24 sites (kagome_24 by default).

Usage::

    python benchmarks/bench_vmc.py [--ground-state /tmp/gs_k24_0] [--cluster kagome_24]
        [--j2 0] [--iterations 30] [--configs 64:1024:float64 64:1024:float32 ...]
        [--device cpu|cuda|auto] [--threads 1] [--paper-iterations 1000] [--out benchmarks/out]

For every configuration ``WIDTH:SAMPLES:DTYPE`` (both networks of width WIDTH, SAMPLES
Metropolis samples per iteration on 128 chains, one kept sample per sweep of N proposals,
2 burn-in sweeps per iteration):

1. **End to end**: ``python -m nqsgen.stages.vmc --cluster C --j2 J --seed 0 --iterations I
   --samples S --width W --dtype D --device DEV --threads T`` as a subprocess (with
   ``OMP_NUM_THREADS=T``).  From its metrics.parquet and trajectory.parquet: SR iterations
   per second (iterations 1..I−1; iteration 0 includes the initial burn-in of 100 sweeps), CG
   iterations per SR iteration (mean, max), parameters, the final exact overlap's evaluation
   time (streaming over all K basis states) and the whole command's wall time.
2. **Breakdown** of one SR iteration (in-process, same settings, after 5 warm-up iterations,
   best of 5): Metropolis sampling (burn-in + kept sweeps), local energies (Heisenberg
   connections + network on the connected states), per-sample Jacobian (torch.func vmap(grad))
   and centring, and the CG solve.

The "paper-sized run" estimate multiplies the measured seconds per iteration by
``--paper-iterations`` (default 1000) and adds the final evaluation.  If the ground state does
not exist it is computed first with ``mpiexec -n 2 nqsgen-ground-state`` (not timed).
Writes OUT/bench_vmc.json and OUT/bench_vmc.md; prints the table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS = ["64:1024:float64", "64:1024:float32", "64:4096:float32"]
CHAINS = 128


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ground-state", default="/tmp/gs_k24_0")
    p.add_argument("--cluster", default="kagome_24")
    p.add_argument("--j2", type=float, default=0.0)
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--paper-iterations", type=int, default=1000)
    p.add_argument("--no-breakdown", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    return p.parse_args(argv)


def env(threads: int) -> dict:
    out = dict(os.environ)
    out.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                        os.environ.get("PYTHONPATH")])))
    return out


def ensure_ground_state(args) -> None:
    if (Path(args.ground_state) / "metadata.json").exists():
        return
    print(f"computing the ground state {args.ground_state} (not timed) ...", flush=True)
    cmd = ["mpiexec", "-n", "2", sys.executable, "-m", "nqsgen.stages.ground_state", "--cluster",
           args.cluster, "--j2", str(args.j2), "--out", args.ground_state]
    subprocess.run(cmd, check=True, env=env(1), cwd=ROOT)


def stage_command(args, width: int, samples: int, dtype: str, out: Path) -> list[str]:
    flags = {"--cluster": args.cluster, "--j2": args.j2, "--seed": 0, "--out": out,
             "--ground-state": args.ground_state, "--iterations": args.iterations,
             "--samples": samples, "--chains": CHAINS, "--width": width, "--dtype": dtype,
             "--device": args.device, "--threads": args.threads, "--log-every": 10,
             "--checkpoint-every": 0, "--checkpoint": out.with_name(out.name + ".ckpt")}
    return [sys.executable, "-m", "nqsgen.stages.vmc"] + [
        str(x) for flag, value in flags.items() for x in (flag, value)]


def end_to_end(args, width: int, samples: int, dtype: str, out_root: Path) -> dict:
    import pyarrow.parquet as pq

    out = out_root / f"vmc_{args.cluster}_w{width}_s{samples}_{dtype}"
    cmd = stage_command(args, width, samples, dtype, out)
    Path(str(out) + ".ckpt").unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(args.threads), cwd=ROOT)
    wall = time.perf_counter() - t0
    (out_root / "logs").mkdir(parents=True, exist_ok=True)
    (out_root / "logs" / f"{out.name}.log").write_text(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    m = pq.read_table(out / "metrics.parquet").to_pylist()[0]
    traj = pq.read_table(out / "trajectory.parquet").to_pandas()
    steady = traj[traj["iteration"] >= 1]
    seconds = float(steady["time_s"].mean())
    return {"command": " ".join(cmd), "wall_s": wall, "width": width, "dtype": dtype,
            "samples": m["samples"], "parameters": m["n_parameters"],
            "seconds_per_iteration": seconds, "iterations_per_s": 1.0 / seconds,
            "first_iteration_s": float(traj["time_s"].iloc[0]),
            "cg_mean": float(steady["cg_iterations"].mean()),
            "cg_max": int(steady["cg_iterations"].max()),
            "acceptance": float(steady["acceptance"].mean()),
            "eval_time_s": m["eval_time_s"], "energy": m["energy"],
            "rel_energy_error": m["rel_energy_error"], "overlap": m["overlap"],
            "device": m["device"]}


def breakdown(args, width: int, samples: int, dtype: str) -> dict:
    """Seconds per part of one SR iteration (best of 5 after 5 warm-up iterations)."""
    import torch

    from nqsgen.clusters import get_cluster
    from nqsgen.devices import resolve_device, set_threads
    from nqsgen.hamiltonian import Heisenberg
    from nqsgen.vmc.sampler import MetropolisSampler
    from nqsgen.vmc.sr import CenteredJacobian, SRConfig, solve, sr_step
    from nqsgen.vmc.wavefunction import DTYPES, build_wavefunction

    set_threads(args.threads)
    device = resolve_device(args.device)
    cluster = get_cluster(args.cluster)
    hamiltonian = Heisenberg.from_cluster(cluster, args.j2)
    wf = build_wavefunction(cluster.n_sites, width, "tanh", 0, device, DTYPES[dtype])
    sampler = MetropolisSampler(hamiltonian, CHAINS, -(-samples // CHAINS),
                                sweep_size=cluster.n_sites, burn_in=2, initial_burn_in=100,
                                seed=1, device=device, dtype=DTYPES[dtype])
    config = SRConfig()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    best: dict[str, float] = {}
    for t in range(10):
        times = {}
        t0 = time.perf_counter()
        ensemble = sampler.sample(wf)
        sync()
        times["sampling_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        e_loc = sampler.local_energies(wf, ensemble)
        sync()
        times["local_energy_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        jac = CenteredJacobian(wf, ensemble.spins, ensemble.weights)
        force = jac.force(e_loc, (ensemble.weights * e_loc).sum())
        sync()
        times["jacobian_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        solve(jac, force, config.diagonal_shift(t), config)
        sync()
        times["cg_s"] = time.perf_counter() - t0
        sr_step(wf, ensemble.spins, ensemble.weights, e_loc, config, t)  # move on
        if t >= 5:
            best = {k: min(v, best.get(k, v)) for k, v in times.items()}
    return best


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, {platform.node()}"


def table(rows: list[dict], paper_iterations: int) -> str:
    head = ("| width | dtype | samples/iter | parameters | s/iter | SR it/s | CG iter (mean/max) "
            "| acceptance | sampling | E_loc | Jacobian | CG | final eval | "
            f"{paper_iterations} iterations |")
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        b = r.get("breakdown", {})
        part = [f"{b[k] * 1e3:.0f} ms" if k in b else "–"
                for k in ("sampling_s", "local_energy_s", "jacobian_s", "cg_s")]
        paper = r["seconds_per_iteration"] * paper_iterations + r["eval_time_s"]
        lines.append(
            f"| {r['width']} | {r['dtype']} | {r['samples']} | {r['parameters']} | "
            f"{r['seconds_per_iteration']:.3f} | {r['iterations_per_s']:.2f} | "
            f"{r['cg_mean']:.0f} / {r['cg_max']} | {r['acceptance']:.2f} | {' | '.join(part)} | "
            f"{r['eval_time_s']:.1f} s | {paper / 60:.0f} min |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    ensure_ground_state(args)
    rows = []
    for spec in args.configs:
        width, samples, dtype = spec.split(":")
        row = end_to_end(args, int(width), int(samples), dtype, out_root)
        if not args.no_breakdown:
            row["breakdown"] = breakdown(args, int(width), int(samples), dtype)
        rows.append(row)
        print(json.dumps(row), flush=True)
    report = {"machine": machine(), "date": _dt.date.today().isoformat(),
              "command": " ".join([sys.executable, *sys.argv]), "args": vars(args),
              "rows": rows}
    (out_root / "bench_vmc.json").write_text(json.dumps(report, indent=2) + "\n")
    text = table(rows, args.paper_iterations)
    (out_root / "bench_vmc.md").write_text(text + "\n")
    print(f"\n{report['machine']}, {report['date']}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
