"""An extrapolation of the whole default study (``snakemake --cores all``, config/config.yaml)
on this machine, from measured per-rule samples — an estimate, labelled as such.

    python benchmarks/bench_study.py measure [--out DIR]     # throughput samples (minutes)
    python benchmarks/bench_study.py epochs RUN_ROOT ...     # epochs of measured runs
    python benchmarks/bench_study.py estimate [--out DIR]    # the extrapolation (seconds)

What is measured, and how it is combined
----------------------------------------
* **Training throughput** per (cluster, architecture) of the plan (``measure``): an
  ensemble of ``--members`` members on synthetic Sz = 0 draws (throughput depends on the
  network and the input size, not on the ground state) trained for ``--epochs`` epochs by
  :func:`nqsgen.ensemble.fit_ensemble` on one thread: optimisation examples/s, validation
  examples/s and the shared test pass (states·members/s of
  :meth:`nqsgen.models.StackedNetwork.forward_shared`).
* **Epochs to early stopping** per (architecture, training-set size): from runs that really
  trained (``epochs``: the metrics.parquet files below the given roots, e.g. the paper-scale
  Fig. 3 run and the expressibility samples); a run of the plan takes the mean epochs of the
  measured runs of its architecture with the nearest number of training draws (log scale);
  an architecture without samples takes dense2's.
* **Ground states**: measured solve times (benchmarks/RESULTS.md, and ``--gs`` overrides):
  24 sites full sector, 30 sites symmetric, square_36 (its configured sector); each solve uses
  both cores (2 MPI ranks), so they run one after another.
* **A training job** (one ensemble of the plan, nqsgen.plan.Plan.ensembles, or one run):
  fixed start-up (interpreter, imports, opening the ground states; measured ``--startup``)
  + Σ over members of epochs × (n_train / training rate + n_val / validation rate), the rates
  of the ensemble's typical active size, + the shared exact pass (K × members / pass rate;
  Monte Carlo for K > 3e8: 2 × 40,000 states per member) + draws.  Training jobs run
  ``cores`` at a time: their sum divided by the cores (the plan has hundreds of jobs, so the
  tail is small against the total; the largest job is reported).
* **SR runs** (fig2 d–f): the plan's VMC runs × iterations × the measured seconds per SR
  iteration (``VMC_S_PER_ITERATION``, benchmarks/RESULTS.md "VMC stage"), one core each.
* **Marshall baselines**: ``BASELINE_S`` each (one exact pass over K), one core each.
* **Completeness scans** after the symmetric (30- and 36-site) solves: ``COMPLETENESS_FACTOR``
  × the solve (measured at 30 sites, issue 17), unless the config turns them off.
* Aggregation and figures: seconds each (measured in the Fig. 3 run), negligible.

Writes ``OUT/bench_study.json`` and ``OUT/bench_study.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
#: Measured solve times in s on this 2-core machine (2 MPI ranks), benchmarks/RESULTS.md:
#: 24 sites --symmetries none (21-25 s; 254 s measured under a load of 5 in this session),
#: 30 sites full symmetries, all sectors (issue 5 table), square_36 trivial sector.
GROUND_STATE_S = {"square_24": 21.0, "triangular_24": 10.0, "kagome_24": 24.9,
                  "square_30": 189.0, "triangular_30": 133.0, "kagome_30": 451.0,
                  "square_36": 1395.0}
#: The completeness scan after a symmetric solve (issue 17), as a multiple of the solve: at
#: 30 sites (square_30, J2 = 0.5) 1.7 h after a 29-min main scan, both under the same load.
COMPLETENESS_FACTOR = 3.5
#: One SR run at the default vmc settings (two dense2 of width 64, 1024 samples, float32):
#: 245 s for 500 iterations end to end on one core (benchmarks/RESULTS.md, "VMC stage").
VMC_S_PER_ITERATION = 245.0 / 500
BASELINE_S = 10.0  # a Marshall baseline: one exact pass over K ≤ 2.7e6 (≈ seconds), or MC
MC_STATES = 80_000  # Monte-Carlo test set: ψ² draws and as many uniform ones


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["measure", "epochs", "estimate"])
    p.add_argument("roots", nargs="*", help="epochs: run roots (results/train) to read")
    p.add_argument("--out", default=str(REPO / "benchmarks/out/study"))
    p.add_argument("--members", type=int, default=16)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--startup", type=float, default=6.0,
                   help="s per training job before training (measured in the Fig. 3 run)")
    return p.parse_args(argv)


def plan():
    from nqsgen.config.validate import check_config
    from nqsgen.plan import Plan

    return Plan(check_config(yaml.safe_load((REPO / "config/config.yaml").read_text())))


def training_jobs(p) -> list[tuple[str, str, str, tuple]]:
    """(cluster, target, arch, members) of every training job of the default plan."""
    jobs = [(e.cluster, e.target, e.arch, e.members) for e in p.ensembles]
    grouped = {(e.cluster, e.target, e.arch, m) for e in p.ensembles for m in e.members}
    for run in p._run_experiments():
        c, j2, target, arch, eps, seed = run
        if (c, target, arch, (j2, eps, seed)) not in grouped:
            jobs.append((c, target, arch, ((j2, eps, seed),)))
    return jobs


# ----------------------------------------------------------------------------- measure
def synthetic_sample(n_sites: int, n: int, rng):
    """``n`` random Sz = 0 states with random amplitudes (throughput only)."""
    from nqsgen.datasets import labelled

    class Fake:
        def amplitude(self, states):
            return rng.standard_normal(len(states))

    bits = np.argsort(rng.random((n, n_sites)), axis=1)[:, :n_sites // 2]
    states = np.bitwise_or.reduce(np.left_shift(np.uint64(1), bits.astype(np.uint64)),
                                  axis=1)
    return labelled(Fake(), states)


def measure_pair(cluster_name: str, arch: str, members: int, epochs: int) -> dict:
    import torch

    from nqsgen.clusters import get_cluster
    from nqsgen.ensemble import _inference_batch, _outputs, _Spins, fit_ensemble
    from nqsgen.models import ModelConfig, StackedNetwork, build_model
    from nqsgen.paths import split_arch_label
    from nqsgen.training import TrainConfig

    cluster, rng = get_cluster(cluster_name), np.random.default_rng(0)
    name, width = split_arch_label(arch)  # a capacity run's label, e.g. dense2-w256
    config = ModelConfig(arch=name, **({"width": width} if width else {}))
    models = []
    for seed in range(members):
        torch.manual_seed(seed)
        models.append(build_model(config, cluster))
    net = StackedNetwork(models)
    n = 128 * 100
    train = [synthetic_sample(cluster.n_sites, n, rng) for _ in range(members)]
    val = [synthetic_sample(cluster.n_sites, 128, rng) for _ in range(members)]
    config = TrainConfig(max_epochs=epochs, patience=epochs + 1, log_interval_s=1e9)
    gens = [torch.Generator().manual_seed(i) for i in range(members)]
    load = os.getloadavg()[0]
    results = fit_ensemble(net, train, val, gens, config, cluster.n_sites, "cpu")
    train_rate = members * results[0].samples_per_s
    states = synthetic_sample(cluster.n_sites, 1 << 16, rng).states
    batch = _inference_batch(net, members, "cpu")
    spins = _Spins(cluster.n_sites, "cpu", batch)
    params = [p.detach() for p in net.params]
    t0 = time.perf_counter()
    _outputs(net, params, spins, states, batch)
    pass_rate = len(states) * members / (time.perf_counter() - t0)
    return {"cluster": cluster_name, "arch": arch, "members": members,
            "train_examples_per_s": train_rate, "pass_states_per_s": pass_rate,
            # validation: forward only, in inference batches: the pass rate bounds it
            "val_examples_per_s": pass_rate, "load": [load, os.getloadavg()[0]]}


def measure(args) -> None:
    from nqsgen.devices import set_threads

    set_threads(1)
    pairs = sorted({(c, a) for c, _, a, _ in training_jobs(plan())})
    out = []
    for cluster, arch in pairs:
        out.append(measure_pair(cluster, arch, args.members, args.epochs))
        print(json.dumps(out[-1]), flush=True)
    write(args, "throughput.json", {"date": now(), "pairs": out})


# ----------------------------------------------------------------------------- epochs
def epochs(args) -> None:
    from nqsgen.stages.train import read_runs

    rows = []
    for root in args.roots:
        t = read_runs(root).to_pandas()
        rows += [{"arch": r.arch, "n_train": int(r.n_train), "epochs": int(r.epochs),
                  "cluster": r.cluster, "eps": float(r.eps_train)} for r in t.itertuples()]
    write(args, "epochs.json", {"date": now(), "roots": args.roots, "runs": rows})
    print(f"{len(rows)} runs")


def epochs_model(samples: list[dict]):
    """(arch, n_train) -> mean epochs of the measured runs of that arch (dense2 if none) at
    the nearest measured training-set size (log scale)."""
    by = defaultdict(lambda: defaultdict(list))
    for r in samples:
        by[r["arch"]][r["n_train"]].append(r["epochs"])
    means = {a: {n: float(np.mean(v)) for n, v in d.items()} for a, d in by.items()}

    def f(arch: str, n_train: int) -> float:
        table = means.get(arch) or means["dense2"]
        nearest = min(table, key=lambda n: abs(math.log(n) - math.log(max(n_train, 1))))
        return table[nearest]

    return f


# ----------------------------------------------------------------------------- estimate
def job_seconds(job, rates, n_epochs, startup: float) -> float:
    from nqsgen.basis import SzBasis
    from nqsgen.clusters import get_cluster
    from nqsgen.datasets import default_eps_val, sample_size

    cluster, _, arch, members = job
    n_sites = get_cluster(cluster).n_sites
    k = SzBasis(n_sites).dimension
    r = rates[(cluster, arch)]
    seconds = startup
    for _, eps, _ in members:
        n_train, n_val = sample_size(eps, k), sample_size(default_eps_val(eps), k)
        seconds += n_epochs(arch, n_train) * (n_train / r["train_examples_per_s"]
                                              + n_val / r["val_examples_per_s"])
        seconds += (k if k <= 3e8 else MC_STATES) / r["pass_states_per_s"]
        seconds += (n_train + n_val) * 2e-6  # draws and amplitude look-ups (≈ 2 µs each)
    return seconds


def estimate(args) -> None:
    out = Path(args.out)
    rates = {(r["cluster"], r["arch"]): r for r in
             json.loads((out / "throughput.json").read_text())["pairs"]}
    n_epochs = epochs_model(json.loads((out / "epochs.json").read_text())["runs"])
    p = plan()
    jobs = training_jobs(p)
    seconds = [job_seconds(j, rates, n_epochs, args.startup) for j in jobs]
    per_kind = defaultdict(lambda: [0, 0.0, 0])
    for job, s in zip(jobs, seconds, strict=True):
        key = f"{job[0]} {job[2]}"
        per_kind[key][0] += 1
        per_kind[key][1] += s
        per_kind[key][2] += len(job[3])
    gs = {c: len(v["j2"]) * ground_state_seconds(c, v) for c, v in
          p.config["ground_states"].items()}
    vmc_runs, baselines = vmc_and_baseline_jobs(p)
    vmc = vmc_runs * p.config["vmc"]["iterations"] * VMC_S_PER_ITERATION
    one_core = (sum(seconds) + vmc + baselines * BASELINE_S) / args.cores
    train = sum(seconds) / args.cores
    total = sum(gs.values()) + one_core + 60
    result = {"label": "EXTRAPOLATED from measured samples, not measured end to end",
              "date": now(), "cores": args.cores, "training_jobs": len(jobs),
              "runs": sum(len(j[3]) for j in jobs), "train_job_seconds": sum(seconds),
              "train_wall_s": train, "largest_job_s": max(seconds),
              "ground_states_s": gs, "vmc_runs": vmc_runs, "vmc_wall_s": vmc / args.cores,
              "baselines": baselines, "total_s": total,
              "per_kind": {k: {"jobs": v[0], "runs": v[2], "job_s": v[1]}
                           for k, v in sorted(per_kind.items())}}
    write(args, "bench_study.json", result)
    lines = [f"**{result['label']}** ({result['date']}, {args.cores} cores)", "",
             f"{result['runs']} runs in {result['training_jobs']} training jobs; "
             f"training {sum(seconds):,.0f} job-s / {args.cores} cores = {train / 3600:.1f} h "
             f"(largest job {max(seconds) / 3600:.2f} h); {vmc_runs} SR runs "
             f"{vmc / args.cores / 3600:.1f} h; {baselines} baselines "
             f"{baselines * BASELINE_S / args.cores / 3600:.2f} h; ground states "
             f"{sum(gs.values()) / 3600:.1f} h; **total ≈ {total / 3600:.1f} h**", "",
             "| cluster arch | jobs | runs | job-hours |", "|---|---|---|---|"]
    for k, v in result["per_kind"].items():
        lines.append(f"| {k} | {v['jobs']} | {v['runs']} | {v['job_s'] / 3600:.2f} |")
    lines += ["", "| ground states | hours |", "|---|---|"]
    lines += [f"| {c} | {s / 3600:.2f} |" for c, s in gs.items()]
    (out / "bench_study.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def ground_state_seconds(cluster: str, entry: dict) -> float:
    """One solve of ``cluster`` (2 ranks), with its completeness scan where one runs."""
    from nqsgen.clusters import get_cluster
    from nqsgen.symmetry.selection import resolve_symmetries

    symmetric = resolve_symmetries(entry.get("symmetries", "auto"),
                                   get_cluster(cluster).n_sites) != "none"
    scan = symmetric and entry.get("completeness", "auto") != "off"
    return GROUND_STATE_S[cluster] * (1 + COMPLETENESS_FACTOR * scan)


def vmc_and_baseline_jobs(p) -> tuple[int, int]:
    """SR runs and Marshall baselines of the plan (the aggregation inputs)."""
    from types import SimpleNamespace

    vmc, baselines = set(), set()
    for name in (n for n, exp in p.experiments.items() if exp["enabled"]):
        inputs = p.aggregate_input(SimpleNamespace(experiment=name))
        vmc.update(inputs["vmc"])
        baselines.update(inputs["baselines"])
    return len(vmc), len(baselines)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write(args, name: str, obj) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(obj, indent=1, default=str) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    {"measure": measure, "epochs": epochs, "estimate": estimate}[args.mode](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
