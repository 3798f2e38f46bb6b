"""Paper-scale Fig. 3 end to end, and where the time goes per rule.

    python benchmarks/bench_fig3.py --full            # the main job: snakemake --cores all
                                                      # results/figures/fig3.pdf, default config
    python benchmarks/bench_fig3.py --reduced         # a subset, extrapolated to paper scale
    python benchmarks/bench_fig3.py --report-only DIR # tables from an existing run directory
    python benchmarks/bench_fig3.py --full --train ensemble_size=1 --workdir DIR
                                                      # the same with one job per run
    python benchmarks/bench_fig3.py --report-only DIR --compare OTHER_DIR
                                                      # critical εtrain of two runs compared

Fig. 3 of the default configuration (config/config.yaml, experiment ``fig3``) is kagome_24 at
J2/J1 ∈ {0.4, 0.5, 0.6, 1.0}, 10 εtrain values from 1e-4 to 0.1, 5 seeds, dense2: 4 ground
states (2 MPI ranks each), 200 trainings (1 thread each), one aggregation and one figure.

The run happens in its own working directory (default ``benchmarks/out/fig3-<mode>/``, which
is emptied first unless ``--reuse``): the default configuration is copied there unchanged in
``--full`` mode (every experiment stays configured, so fig3's runs are grouped into the same
ensemble jobs as in the whole study; only fig3.pdf is built), with only a reduced ``fig3`` in
``--reduced`` mode (``--j2``, ``--seeds``, ``--eps``); ``--train KEY=VALUE`` sets keys of its
``train`` section (e.g. ``ensemble_size=1``: one job per run, the path before ensembles).
The wall time of the whole ``snakemake`` command is measured, then every job's
``benchmark:`` file (``results/benchmarks/<rule>/...tsv``: wall s, max RSS, CPU time) is read
back and summed per rule (training jobs: ensembles and single runs apart), and the runs'
metrics per εtrain (epochs, time until the run stopped).  ``--compare OTHER`` checks, per J2,
that each run's critical εtrain (``results/tables/fig3.critical.parquet``) lies inside the
other's bootstrap interval.

``--reduced`` also writes an **extrapolation** to paper scale (clearly labelled as such):
ground states = the mean solve × 4 J2 values, run one after the other (each uses every core);
trainings = for every εtrain, the mean run over the measured (J2, seed) × 4 J2 × 5 seeds,
spread over ``cores / threads`` parallel slots; aggregation and figure as measured (the
aggregation ×4/n_J2 for the bootstrap of 4 sweeps); Snakemake's own overhead per job as
measured.  Output: a markdown report on stdout and in ``<workdir>/bench_fig3.md``, everything
in ``<workdir>/bench_fig3.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET = "results/figures/fig3.pdf"
RULE_DIRS = {"ground_state": "ground_state", "train": "train", "aggregate_eps_sweep":
             "aggregate", "figure_eps_sweep": "figure"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="the paper-scale Fig. 3 (≈ 1 h)")
    mode.add_argument("--reduced", action="store_true", help="a subset, extrapolated")
    mode.add_argument("--report-only", metavar="DIR", help="only read an existing run")
    p.add_argument("--j2", type=float, nargs="+", default=[0.4, 1.0],
                   help="--reduced: J2 values (default 0.4 1.0: ordered and frustrated)")
    p.add_argument("--seeds", type=int, default=2, help="--reduced: seeds (default 2)")
    p.add_argument("--eps", type=float, nargs="+",
                   help="--reduced: εtrain values (default: all 10 of the config)")
    p.add_argument("--cores", default="all", help="snakemake --cores (default all)")
    p.add_argument("--workdir", help="run directory (default benchmarks/out/fig3-<mode>)")
    p.add_argument("--reuse", action="store_true", help="keep results already in --workdir")
    p.add_argument("--train", action="append", default=[], metavar="KEY=VALUE",
                   help="set a key of the config's train section (YAML value)")
    p.add_argument("--compare", metavar="DIR", help="another run directory: compare the "
                   "critical εtrain of every J2")
    return p.parse_args(argv)


def machine() -> dict:
    info = {"host": platform.node(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        info["memory_gb"] = round(int(mem) / 2**20, 1)
    except OSError:
        pass
    info["loadavg_before"] = os.getloadavg()
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                        capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def make_config(args) -> dict:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for item in args.train:
        key, _, value = item.partition("=")
        config.setdefault("train", {})[key] = yaml.safe_load(value)
    if args.reduced:
        fig3 = dict(config["experiments"]["fig3"])
        fig3["j2"] = list(args.j2)
        fig3["seeds"] = args.seeds
        if args.eps:
            fig3["eps"] = list(args.eps)
        # only the reduced fig3 is configured (the target builds nothing else either way)
        config["experiments"] = {"fig3": fig3}
    return config


def run(args, workdir: Path) -> dict:
    if workdir.exists() and not args.reuse:
        shutil.rmtree(workdir)
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(make_config(args),
                                                               sort_keys=False))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", str(args.cores), TARGET]
    print("running:", " ".join(cmd[2:]), flush=True)
    busy0, ours0 = busy_cpu_s(), children_cpu_s()
    t0 = time.perf_counter()
    with open(workdir / "snakemake.out", "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    busy, ours = busy_cpu_s() - busy0, children_cpu_s() - ours0
    if proc.returncode != 0:
        sys.exit(f"snakemake failed ({proc.returncode}); see {workdir / 'snakemake.out'}")
    cores = os.cpu_count() or 1
    return {"command": f"snakemake --cores {args.cores} {TARGET}", "wall_s": wall,
            "loadavg_after": os.getloadavg(), "cpu_s_ours": ours, "cpu_s_machine": busy,
            # cores that processes outside this run kept busy, on average
            "other_cores": max(0.0, (busy - ours) / wall),
            "cores": cores}


def busy_cpu_s() -> float:
    """CPU-seconds the whole machine has spent busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """CPU-seconds of this process's waited-for descendants (snakemake, jobs, MPI ranks)."""
    t = os.times()
    return t.children_user + t.children_system


def read_benchmarks(workdir: Path) -> list[dict]:
    """One dict per job: rule, wildcards from the path, and the benchmark file's fields."""
    jobs = []
    for rule, sub in RULE_DIRS.items():
        for path in sorted((workdir / "results/benchmarks" / sub).rglob("*.tsv")):
            lines = path.read_text().splitlines()
            if len(lines) < 2:
                continue
            head, values = lines[0].split("\t"), lines[-1].split("\t")
            row = dict(zip(head, values, strict=False))
            rel = str(path.relative_to(workdir / "results/benchmarks" / sub))
            kind = "train_ensemble" if rule == "train" and rel.startswith("ensembles/") else rule
            job = {"rule": kind, "path": rel, "s": float(row["s"]),
                   "cpu_s": float(row.get("cpu_time", "nan") or "nan"),
                   "max_rss_mb": float(row.get("max_rss", "nan") or "nan")}
            for key in ("J2", "eps", "seed"):
                m = re.search(rf"{key}=([^/]+?)(?:/|\.tsv$)", rel)
                if m:
                    job[key] = m[1]
            jobs.append(job)
    return jobs


def per_rule(jobs: list[dict]) -> dict:
    out = {}
    for rule in ["ground_state", "train_ensemble", *list(RULE_DIRS)[1:]]:
        sel = [j for j in jobs if j["rule"] == rule]
        if sel:
            out[rule] = {"jobs": len(sel), "wall_sum_s": sum(j["s"] for j in sel),
                         "wall_mean_s": sum(j["s"] for j in sel) / len(sel),
                         "wall_max_s": max(j["s"] for j in sel),
                         "cpu_sum_s": sum(j["cpu_s"] for j in sel),
                         "max_rss_mb": max(j["max_rss_mb"] for j in sel)}
    return out


def per_eps(workdir: Path) -> dict:
    """Per εtrain, from the runs' metrics: runs, mean epochs, mean and max time until the run
    stopped (in an ensemble: wall time of the shared fit until then), ensemble sizes."""
    from nqsgen.stages.train import read_runs

    root = workdir / "results/train"
    if not root.is_dir():
        return {}
    table = read_runs(root).to_pandas()
    out = {}
    for eps, g in table.groupby("eps_train"):
        out[float(eps)] = {"runs": len(g), "epochs_mean": float(g["epochs"].mean()),
                           "mean_s": float(g["train_time_s"].mean()),
                           "max_s": float(g["train_time_s"].max()),
                           "ensemble_sizes": sorted({int(x) for x in g["ensemble_size"]})}
    return out


def compare_critical(workdir: Path, other: Path) -> list[dict]:
    """Per (J2, arch): this run's εc and interval against the other's, and whether each εc
    lies in the other's bootstrap interval."""
    import pandas as pd

    tables = [pd.read_parquet(d / "results/tables/fig3.critical.parquet").set_index(
        ["j2", "arch"]) for d in (workdir, other)]
    rows = []
    for key, a in tables[0].iterrows():
        b = tables[1].loc[key]
        rows.append({"j2": key[0], "arch": key[1], "eps_c": a["eps_c"],
                     "interval": [a["eps_c_low"], a["eps_c_high"]], "other_eps_c": b["eps_c"],
                     "other_interval": [b["eps_c_low"], b["eps_c_high"]],
                     "inside_other": bool(b["eps_c_low"] <= a["eps_c"] <= b["eps_c_high"]),
                     "other_inside": bool(a["eps_c_low"] <= b["eps_c"] <= a["eps_c_high"])})
    return rows


def extrapolate(result: dict, config: dict) -> dict:
    """Paper-scale wall time from a reduced run (see the module docstring)."""
    full = yaml.safe_load((REPO / "config/config.yaml").read_text())["experiments"]["fig3"]
    rules, eps = result["per_rule"], result["per_eps"]
    cores = os.cpu_count() or 1
    threads = config.get("train", {}).get("threads", 1)
    slots = max(1, cores // threads)
    n_j2, n_seeds = len(full["j2"]), full["seeds"]
    gs = rules["ground_state"]["wall_mean_s"] * n_j2
    missing = [e for e in full["eps"] if e not in eps]
    if missing:
        raise SystemExit(f"cannot extrapolate: no runs at εtrain {missing}")
    # the training jobs' wall time, scaled by the number of runs (ensembles keep their size)
    runs_measured = sum(e["runs"] for e in eps.values())
    train_jobs = sum(rules.get(r, {}).get("wall_sum_s", 0.0)
                     for r in ("train", "train_ensemble"))
    train_serial = train_jobs * n_j2 * n_seeds * len(full["eps"]) / runs_measured
    train = train_serial / slots
    measured_j2 = len(config["experiments"]["fig3"]["j2"])
    agg = rules.get("aggregate_eps_sweep", {}).get("wall_sum_s", 0.0) * n_j2 / measured_j2
    fig = rules.get("figure_eps_sweep", {}).get("wall_sum_s", 0.0)
    n_jobs_reduced = sum(r["jobs"] for r in rules.values()) + 1  # + the cluster job
    modelled_reduced = (rules["ground_state"]["wall_sum_s"] + train_jobs / slots
                        + rules.get("aggregate_eps_sweep", {}).get("wall_sum_s", 0.0) + fig)
    overhead_per_job = max(0.0, result["run"]["wall_s"] - modelled_reduced) / n_jobs_reduced
    n_jobs_full = n_j2 + round(n_jobs_reduced * n_j2 * n_seeds / (measured_j2 * max(
        1, config["experiments"]["fig3"]["seeds"]))) + 3
    overhead = overhead_per_job * n_jobs_full / slots
    total = gs + train + agg + fig + overhead
    run = result["run"]
    other = run.get("other_cores", 0.0)
    # first-order correction for other processes on the machine: this run had
    # (cores - other) of the cores; an idle machine gives it all of them
    idle_factor = max(0.05, (cores - other) / cores) if other else 1.0
    return {"label": "EXTRAPOLATED from the reduced run, not measured",
            "other_cores": other, "idle_factor": idle_factor,
            "total_idle_s": total * idle_factor,
            "ground_state_s": gs, "train_serial_s": train_serial, "train_parallel_slots": slots,
            "train_s": train, "aggregate_s": agg, "figure_s": fig,
            "snakemake_overhead_s": overhead, "total_s": total, "jobs": n_jobs_full}


def markdown(result: dict) -> str:
    lines = [f"## Fig. 3 workflow benchmark ({result['mode']})", ""]
    m = result["machine"]
    lines.append(f"Machine: {m.get('cpu', '?')}, {m.get('cpus')} CPUs, "
                 f"{m.get('memory_gb', '?')} GB; Python {m['python']}, torch "
                 f"{m.get('torch', '?')}; commit {m.get('commit', '?')}; {m['date']}; load "
                 f"average before {tuple(round(x, 2) for x in m['loadavg_before'])}, after "
                 f"{tuple(round(x, 2) for x in result['run'].get('loadavg_after', (0,)))}.")
    lines += ["", f"Command: `{result['run']['command']}` in `{result['workdir']}`; fig3 = "
              f"{result['fig3']}", "",
              f"**Measured wall time of the whole command: {result['run']['wall_s']:.0f} s "
              f"({result['run']['wall_s'] / 60:.1f} min)**; CPU time of the run "
              f"{result['run'].get('cpu_s_ours', float('nan')):.0f} s, other processes kept "
              f"{result['run'].get('other_cores', float('nan')):.2f} cores busy on average.",
              "",
              "| rule | jobs | wall sum (s) | mean (s) | max (s) | CPU sum (s) | max RSS (MB) |",
              "|---|---|---|---|---|---|---|"]
    for rule, r in result["per_rule"].items():
        lines.append(f"| {rule} | {r['jobs']} | {r['wall_sum_s']:.1f} | {r['wall_mean_s']:.1f} "
                     f"| {r['wall_max_s']:.1f} | {r['cpu_sum_s']:.1f} | {r['max_rss_mb']:.0f} |")
    lines += ["", "Runs per εtrain (from their metrics; time until the run stopped, in an "
              "ensemble the shared fit's):", "",
              "| εtrain | runs | mean epochs | mean time (s) | max (s) | ensemble sizes |",
              "|---|---|---|---|---|---|"]
    for e, r in result["per_eps"].items():
        lines.append(f"| {e:g} | {r['runs']} | {r['epochs_mean']:.0f} | {r['mean_s']:.1f} | "
                     f"{r['max_s']:.1f} | {r['ensemble_sizes']} |")
    if result.get("compare"):
        lines += ["", f"Critical εtrain against `{result['compare_dir']}`:", "",
                  "| J2 | arch | εc (interval) | other εc (interval) | inside the other's | "
                  "other's inside ours |", "|---|---|---|---|---|---|"]
        for r in result["compare"]:
            lines.append(f"| {r['j2']:g} | {r['arch']} | {r['eps_c']:.3g} "
                         f"({r['interval'][0]:.3g}–{r['interval'][1]:.3g}) | "
                         f"{r['other_eps_c']:.3g} ({r['other_interval'][0]:.3g}–"
                         f"{r['other_interval'][1]:.3g}) | {r['inside_other']} | "
                         f"{r['other_inside']} |")
    if "extrapolation" in result:
        x = result["extrapolation"]
        lines += ["", f"**{x['label']}** — paper-scale Fig. 3 ({x['jobs']} jobs) on this "
                  "machine:", "",
                  "| part | estimate (s) |", "|---|---|",
                  f"| ground states (4 × mean solve, sequential) | {x['ground_state_s']:.0f} |",
                  f"| trainings ({x['train_serial_s']:.0f} s serial / "
                  f"{x['train_parallel_slots']} slots) | {x['train_s']:.0f} |",
                  f"| aggregation | {x['aggregate_s']:.0f} |",
                  f"| figure | {x['figure_s']:.0f} |",
                  f"| Snakemake overhead | {x['snakemake_overhead_s']:.0f} |",
                  f"| **total** | **{x['total_s']:.0f} ({x['total_s'] / 60:.1f} min)** |"]
        if x["other_cores"]:
            lines += ["", f"Other processes kept {x['other_cores']:.2f} of the "
                      f"{result['run']['cores']} cores busy during the measurement; scaled to "
                      f"an idle machine (× {x['idle_factor']:.2f}): **{x['total_idle_s']:.0f} s "
                      f"({x['total_idle_s'] / 60:.1f} min)** (also an extrapolation)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    mode = "full" if args.full else "reduced" if args.reduced else "report-only"
    if args.report_only:
        workdir = Path(args.report_only).resolve()
        prior = json.loads((workdir / "bench_fig3.json").read_text()) if (
            workdir / "bench_fig3.json").exists() else {}
        run_info = prior.get("run", {"command": "?", "wall_s": float("nan")})
        info = prior.get("machine", machine())
        mode = prior.get("mode", mode)
    else:
        workdir = Path(args.workdir or REPO / f"benchmarks/out/fig3-{mode}").resolve()
        info = machine()
        run_info = run(args, workdir)
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    jobs = read_benchmarks(workdir)
    result = {"mode": mode, "machine": info, "run": run_info, "workdir": str(workdir),
              "fig3": {k: config["experiments"]["fig3"][k] for k in ("j2", "eps", "seeds")},
              "per_rule": per_rule(jobs), "per_eps": per_eps(workdir), "jobs": jobs}
    if args.compare:
        result["compare_dir"] = args.compare
        result["compare"] = compare_critical(workdir, Path(args.compare).resolve())
    if mode == "reduced":
        result["extrapolation"] = extrapolate(result, config)
    (workdir / "bench_fig3.json").write_text(json.dumps(result, indent=1, default=str))
    text = markdown(result)
    (workdir / "bench_fig3.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
