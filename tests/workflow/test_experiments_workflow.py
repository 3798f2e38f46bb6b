"""The workflow's experiments end to end: the paper configuration's plan, the CI configuration
run for real (every figure, tables with mean/SE/n, the report), bad experiment configs, and a
training job killed with SIGKILL.  Helpers in helpers.py; the CI run is the session fixture
``test_run`` (conftest.py)."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest
import yaml

from tests.workflow.helpers import (
    CI_CONFIG,
    DEFAULT_CONFIG,
    REPO,
    assert_ok,
    job_counts,
    make_workdir,
    processes_in,
    smk_env,
    snakemake,
    snakemake_cmd,
    trained_runs,
    training_jobs,
    wait_for,
)

pytestmark = [pytest.mark.workflow]

FIGURE_RULES = {"clusters": "figure_clusters", "j2_sweep": "figure_j2_sweep",
                "eps_sweep": "figure_eps_sweep", "scaling": "figure_scaling",
                "capacity": "figure_capacity"}


def expected_plan(config: dict, enabled_only: bool = True) -> dict:
    """Jobs the config implies, computed independently of the workflow's own functions."""
    runs, figures, aggregates = set(), {}, {}
    for name, exp in config["experiments"].items():
        if enabled_only and not exp.get("enabled", True):
            continue
        figures[name] = FIGURE_RULES[exp["kind"]]
        if exp["kind"] == "clusters":
            continue
        aggregates[name] = "aggregate_" + exp["kind"]
        for cluster in exp["clusters"]:
            archs = exp.get("archs", ["dense2"])
            if exp["kind"] == "capacity":  # width labels, expressibility by default
                archs = [f"{a}-w{w}" for a in archs for w in exp["widths"]]
                eps_list = [exp.get("eps", 0.01)] + (
                    [1.0] if exp.get("expressibility", True) else [])
            elif exp["kind"] == "j2_sweep":
                eps_list = [exp.get("eps", 0.01)] + ([1.0] if exp.get("expressibility") else [])
            elif isinstance(exp["eps"], dict):
                eps_list = exp["eps"][cluster]
            else:
                eps_list = exp["eps"]
            j2s = exp.get("j2") or config["ground_states"][cluster]["j2"]
            for j2 in j2s:
                for target in exp.get("targets", ["sign"]):
                    for arch in archs:
                        for eps in eps_list:
                            for seed in range(exp.get("seeds", 5)):
                                runs.add((cluster, float(j2), target, arch, float(eps), seed))
    return {"runs": runs, "figures": figures, "aggregates": aggregates}


def count(rules: dict) -> dict:
    out = {}
    for rule in rules.values():
        out[rule] = out.get(rule, 0) + 1
    return out


# ----------------------------------------------------------------------------- plan
def test_dry_run_of_paper_config_lists_every_job(tmp_path):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    workdir = make_workdir(tmp_path / "run", DEFAULT_CONFIG)
    proc = snakemake(workdir, "-n")  # its speed is a benchmark (benchmarks/RESULTS.md)
    assert_ok(proc)
    assert "Using workflow specific profile" in proc.stdout  # profiles/default/ is loaded
    n_states = sum(len(gs["j2"]) for gs in config["ground_states"].values())
    assert job_counts(proc.stdout)["ground_state"] == n_states
    # directory names are nqsgen.paths.j2_dirname: format(j2, "g")
    assert "results/ground_states/square_24/J2=0.05/metadata.json" in proc.stdout
    # the documented MPI pattern, with the memory estimate as a resource
    assert ("mpiexec --bind-to none -n 2 python -m nqsgen.stages.ground_state --cluster "
            "kagome_24 --j2 0.5") in proc.stdout
    assert re.search(r"mem_mb=\d{3,}", proc.stdout)
    plan = expected_plan(config)
    counts = job_counts(proc.stdout)
    # every run is listed once, as an output of its ensemble job (or of rule train)
    runs = trained_runs(proc.stdout)
    assert len(runs) == len(set(runs)) == len(plan["runs"]) > 2000
    assert sum(training_jobs(counts).values()) < len(plan["runs"]) / 5  # ensembles of runs
    for rule, n in {**count(plan["figures"]), **count(plan["aggregates"])}.items():
        assert counts[rule] == n, rule
    # the paper's experiments are all there, with the supplementary 30-site ones
    assert set(plan["figures"]) == {"fig1", "fig2", "fig3", "fig4", "fig5", "figS2", "figS3",
                                    "figS4", "capacity"}
    # the capacity sweep's runs carry their width in the architecture directory
    assert "results/train/kagome_24/J2=0.6/sign/dense2-w256/eps=1/seed=4/" in proc.stdout
    for name in plan["figures"]:
        assert f"results/figures/{name}.pdf" in proc.stdout
    # the 30-site ground states are planned (symmetric solves; auto = full from 30 sites)
    assert "results/ground_states/kagome_30/J2=0.5/metadata.json" in proc.stdout
    assert "--symmetries full" in proc.stdout or "symmetries=full" in proc.stdout
    # fig5 reaches 36 spins: the configured fully symmetric sector, and trainings on it
    assert "results/ground_states/square_36/J2=0.5/metadata.json" in proc.stdout
    assert "--cluster square_36 --j2 0.5" in proc.stdout and "--sectors 'trivial'" in proc.stdout
    assert "--completeness auto" in proc.stdout  # ground_states.<cluster>.completeness
    assert "results/train/square_36/J2=0/sign/dense2/eps=1e-06/seed=4/" in proc.stdout
    # >= 5 seeds per point everywhere
    assert all(exp.get("seeds", 5) >= 5 for exp in config["experiments"].values()
               if exp["kind"] != "clusters")
    # expressibility (εtrain = 1) of fig2 and a Fig. 3 run, with the hive-style run directory
    assert "results/train/kagome_24/J2=0.5/sign/cnn/eps=1/seed=4/metrics.parquet" in proc.stdout
    assert "results/train/kagome_24/J2=0.6/sign/dense2/eps=0.0001/seed=0/" in proc.stdout
    # the main job (bin/main): Fig. 3 alone = 4 ground states, 200 trainings, 1 table, 1 figure
    proc = snakemake(workdir, "-n", "results/figures/fig3.pdf")
    assert_ok(proc)
    counts = job_counts(proc.stdout)
    assert len(trained_runs(proc.stdout)) == 200
    n_train = sum(training_jobs(counts).values())
    assert {k: v for k, v in counts.items() if not k.startswith("train")} == {
        "cluster": 1, "ground_state": 4, "aggregate_eps_sweep": 1, "figure_eps_sweep": 1,
        "total": 7 + n_train}
    assert 2 <= n_train <= 12  # ensembles of ≤ 32 runs on CPUs, at least one per core


# ----------------------------------------------------------------------------- CI run
def test_ci_run_produces_every_enabled_figure_as_vector_pdf(test_run):
    config = yaml.safe_load(CI_CONFIG.read_text())
    plan = expected_plan(config)
    out = (test_run / "snakemake.out").read_text()
    counts = job_counts(out)
    runs = trained_runs(out)
    assert len(runs) == len(set(runs)) == len(plan["runs"])
    assert sum(training_jobs(counts).values()) < len(plan["runs"])  # ensembles ran
    for name in plan["figures"]:
        pdf = (test_run / f"results/figures/{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        assert b"/Subtype /Image" not in pdf          # vector: no embedded raster image
        assert b"CreationDate" not in pdf             # reproducible bytes
        assert (test_run / f"logs/figures/{name}.log").exists()
        assert (test_run / f"results/benchmarks/figure/{name}.tsv").exists()
    # the switched-off experiment was not built
    assert not (test_run / "results/figures/figS3.pdf").exists()
    assert sorted(p.stem for p in (test_run / "results/figures").glob("*.pdf")) == sorted(
        plan["figures"])


def test_tables_hold_mean_se_and_n_of_the_runs(test_run):
    from nqsgen.stages.train import read_runs

    metrics = read_runs(test_run / "results/train").to_pandas()
    table = pd.read_parquet(test_run / "results/tables/fig2.parquet")
    for column in ("experiment", "source", "cluster", "lattice", "n_sites", "dimension", "j2",
                   "target", "arch", "eps_train", "expressibility", "n", "mean", "se", "std",
                   "min", "max"):
        assert column in table.columns
    # square_10 and kagome_12, 2 J2 each, dense1 and cnn: 8 points of 2 seeds
    assert (table["source"] == "vmc").sum() == 4  # fig2's SR points: their own test
    # the Marshall-sign baseline, one exact point per (cluster, J2): the rule is exact for the
    # unfrustrated square_10 (J2 = 0), and the kagome_12 lattice is not bipartite
    marshall = table[table["source"] == "marshall"].set_index(["cluster", "j2"])
    assert len(marshall) == 4 and (marshall["n"] == 1).all()
    assert marshall.loc[("square_10", 0.0), "mean"] == pytest.approx(1.0, abs=1e-9)
    assert (marshall["overlap_method"] == "exact").all()
    table = table[table["source"] == "train"]
    assert len(table) == 8 and (table["n"] == 2).all()
    for row in table.itertuples():
        runs = metrics[(metrics["cluster"] == row.cluster) & (metrics["j2"] == row.j2)
                       & (metrics["arch"] == row.arch) & (metrics["target"] == row.target)
                       & np.isclose(metrics["eps_train"], row.eps_train)]
        values = runs["overlap"].to_numpy()
        assert len(values) == 2
        assert row.mean == pytest.approx(values.mean(), rel=1e-12, abs=1e-15)
        assert row.se == pytest.approx(values.std(ddof=1) / math.sqrt(2), rel=1e-12,
                                       abs=1e-15)
    # expressibility points of figS2 are separate points at εtrain = 1
    s2 = pd.read_parquet(test_run / "results/tables/figS2.parquet")
    s2 = s2[s2["source"] == "train"]
    assert sorted(s2["eps_train"].unique()) == [0.2, 1.0]
    assert (s2["expressibility"] == (s2["eps_train"] == 1.0)).all()

    # fig5: critical εtrain per cluster; square_16 (K = 12870) switches on inside the grid
    crit = pd.read_parquet(test_run / "results/tables/fig5.critical.parquet").set_index(
        "cluster")
    assert set(crit.index) == {"square_10", "square_16"}
    sq16 = crit.loc["square_16"]
    assert sq16["dimension"] == 12870 and sq16["n_points"] == 4 and sq16["n_runs"] == 8
    assert bool(sq16["defined"]), sq16["message"]
    assert 0.005 <= sq16["eps_c"] <= 0.2
    assert sq16["eps_c_low"] <= sq16["eps_c"] <= sq16["eps_c_high"]
    assert sq16["n_c"] == pytest.approx(sq16["eps_c"] * 12870)
    assert 0 < sq16["n_c_unique"] <= sq16["n_c"] and bool(sq16["bracketed"])
    # ... and the growth-exponent table: one series (J2 = 0), only square_16 has a switch
    (series,) = pd.read_parquet(test_run / "results/tables/fig5.scaling.parquet").itertuples()
    assert series.n_clusters == 2 and series.n_defined == 1 and math.isnan(series.exponent)
    # ... and its ground state went through the symmetric path (.test config: symmetries full)
    meta = json.loads((test_run / "results/ground_states/square_16/J2=0/metadata.json")
                      .read_text())
    assert meta["symmetries"] == "full" and meta["group"]["order"] == 256
    assert meta["sector"]["label"] == "T1+T2+C4+sigma_0+Z+" and len(meta["sectors"]) == 16
    assert meta["energy"] == pytest.approx(-44.913933, abs=1e-6)
    # fig4: a transition row per target, and one where the Marshall sign breaks down, with
    # the kagome frustrated region attached
    tr = pd.read_parquet(test_run / "results/tables/fig4.transitions.parquet")
    assert sorted(zip(tr["source"], tr["target"], strict=True)) == [
        ("marshall", "sign"), ("train", "amplitude"), ("train", "sign")]
    assert (tr["region_low"] == 0.51).all() and (tr["region_high"] == 1.82).all()


def test_capacity_table_has_a_point_per_width(test_run):
    """The CI capacity sweep (kagome_12, J2 0 and 1, dense2 of widths 4 and 16, εtrain 0.2 and
    1, 2 seeds): one point per (J2, width, εtrain), its runs under dense2-w{width}."""
    from nqsgen.stages.train import read_runs

    table = pd.read_parquet(test_run / "results/tables/capacity.parquet")
    assert (table["source"] == "train").all() and (table["arch"] == "dense2").all()
    assert len(table) == 8 and (table["n"] == 2).all()
    assert sorted(set(zip(table["j2"], table["width"], table["eps_train"], strict=True))) == [
        (j2, w, eps) for j2 in (0.0, 1.0) for w in (4, 16) for eps in (0.2, 1.0)]
    assert (table["expressibility"] == (table["eps_train"] == 1.0)).all()
    metrics = read_runs(test_run / "results/train/kagome_12").to_pandas()
    for row in table.itertuples():
        runs = metrics[(metrics["j2"] == row.j2) & (metrics["width"] == row.width)
                       & (metrics["arch"] == "dense2") & np.isclose(metrics["eps_train"],
                                                                    row.eps_train)]
        assert len(runs) == 2
        assert row.mean == pytest.approx(runs["overlap"].mean(), rel=1e-12)
    run = test_run / "results/train/kagome_12/J2=1/sign/dense2-w4/eps=1/seed=1/metrics.parquet"
    assert pd.read_parquet(run)["width"].item() == 4
    # the fig4 runs of the same cluster keep the configured width (16) and plain directory
    assert (test_run / "results/train/kagome_12/J2=1/sign/dense1/eps=0.2/seed=0").is_dir()


def test_results_read_back_in_one_call(test_run):
    from nqsgen.stages.train import read_runs

    config = yaml.safe_load(CI_CONFIG.read_text())
    n_runs = len(expected_plan(config)["runs"])
    # the plain call reads both files of every run, with the hive keys of the paths
    dataset = pads.dataset(str(test_run / "results/train"), partitioning="hive")
    assert len(dataset.files) == 2 * n_runs
    table = dataset.to_table()
    assert {"J2", "eps", "seed", "cluster", "epoch"} <= set(table.column_names)
    curves = table.filter(table["epoch"].is_valid())
    assert curves.num_rows >= n_runs                  # at least one epoch per run
    # one metrics row per run: nqsgen.stages.train.read_runs (one call, metrics files only)
    metrics = read_runs(test_run / "results/train")
    assert metrics.num_rows == n_runs
    assert {"J2", "eps", "seed", "overlap", "overlap_se"} <= set(metrics.column_names)


def test_plain_hive_call_has_the_metrics_columns(test_run):
    table = pads.dataset(str(test_run / "results/train"), partitioning="hive").to_table()
    assert "overlap" in table.column_names
    metrics = table.filter(table["epoch"].is_null())
    assert metrics.num_rows == len(expected_plan(yaml.safe_load(CI_CONFIG.read_text()))["runs"])


def test_disabled_experiment_is_built_when_named(test_run):
    proc = snakemake(test_run, "--cores", "2", "results/figures/figS3.pdf")
    assert_ok(proc)
    # its runs are fig5's: only the table and the figure are new
    assert job_counts(proc.stdout) == {"aggregate_eps_sweep": 1, "figure_eps_sweep": 1,
                                       "total": 2}
    assert (test_run / "results/figures/figS3.pdf").read_bytes().startswith(b"%PDF")


def test_sr_row_and_correlation_come_from_real_vmc_runs(test_run):
    """fig2 of the CI config has `vmc: true`: the VMC rule ran for every (cluster, J2, seed)
    and the table holds their overlaps next to the supervised points, with the correlation."""
    from nqsgen.stages.vmc import read_runs as read_vmc

    out = (test_run / "snakemake.out").read_text()
    assert job_counts(out)["vmc"] == 2 * 2 * 2  # 2 clusters × 2 J2 × vmc_seeds 2
    runs = read_vmc(test_run / "results/vmc").to_pandas()
    assert len(runs) == 8 and set(runs["cluster"]) == {"square_10", "kagome_12"}
    assert ((runs["overlap"] > 0) & (runs["overlap"] <= 1 + 1e-9)).all()
    table = pd.read_parquet(test_run / "results/tables/fig2.parquet")
    sr = table[table["source"] == "vmc"].sort_values(["cluster", "j2"])
    assert len(sr) == 4 and (sr["n"] == 2).all() and (sr["arch"] == "sr").all()
    for row in sr.itertuples():
        values = runs[(runs["cluster"] == row.cluster) & (runs["j2"] == row.j2)]["overlap"]
        assert row.mean == pytest.approx(values.mean(), rel=1e-12)
    corr = pd.read_parquet(test_run / "results/tables/fig2.correlation.parquet")
    assert set(corr["cluster"]) == {"square_10", "kagome_12", "pooled"}
    assert set(corr["arch"]) == {"dense1", "cnn"}
    pooled = corr[corr["cluster"] == "pooled"]
    assert (pooled["n_points"] == 4).all()  # 2 J2 per cluster: ρ per cluster is undefined
    assert pooled["rho"].between(-1, 1).all()
    log = (test_run / "logs/vmc/kagome_12/J2=0/seed=0.log").read_text()
    assert "iter 30/30" in log and "final energy" in log


def test_report_shows_every_figure_with_its_caption(test_run):
    report = test_run / "report.html"
    proc = snakemake(test_run, "--report", str(report))
    assert_ok(proc)
    html = report.read_text(errors="replace")
    config = yaml.safe_load(CI_CONFIG.read_text())
    for name in expected_plan(config)["figures"]:
        assert f"{name}.pdf" in html
    for snippet in ("generalisation vs frustration", "generalisation vs training-set size",
                    "scaling of the critical training-set size", "the periodic clusters",
                    "generalisation or capacity", "at width 16",
                    "Westerhout",
                    # fig5's caption reads its fitted exponents from the finished table
                    "J2/J1 = 0: no exponent (fewer than two clusters with a critical"):
        assert snippet in html, snippet


# ----------------------------------------------------------------------------- kill -9
def test_killed_training_leaves_no_complete_looking_output_and_reruns(tmp_path):
    # square_16 (K = 12870) at εtrain = 0.5: a few seconds of training to kill in the middle
    config = {"ground_states": {"square_16": {"j2": [0.0], "solver": "scipy"}},
              "train": {"max_epochs": 40, "patience": 40, "batch_size": 32, "width": 16},
              "experiments": {"k": {"kind": "eps_sweep", "clusters": ["square_16"],
                                    "j2": [0.0], "eps": [0.5], "archs": ["dense1"],
                                    "seeds": 1}}}
    workdir = make_workdir(tmp_path / "run", config).resolve()
    run = workdir / "results/train/square_16/J2=0/sign/dense1/eps=0.5/seed=0"
    log = workdir / "logs/train/square_16/J2=0/sign/dense1/eps=0.5/seed=0.log"
    target = "results/tables/k.parquet"
    with open(tmp_path / "first.out", "w") as sink:
        proc = subprocess.Popen(snakemake_cmd(workdir, "--cores", "2", target), cwd=REPO,
                                env=smk_env(), stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            wait_for(lambda: log.exists() and "epoch    1" in log.read_text(), 180,
                     "the training to start its epochs")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        wait_for(lambda: not processes_in(workdir), 20, "the job's processes to exit")
    finally:
        for pid in processes_in(workdir):
            os.kill(pid, signal.SIGKILL)
    assert not (run / "metrics.parquet").exists()
    assert not (workdir / target).exists()
    # as if the stage had been killed while writing its files
    stale = run.parent / ".seed=0.tmp-deadbeef"
    stale.mkdir(parents=True)
    (stale / "metrics.parquet").write_bytes(b"partial")

    assert_ok(snakemake(workdir, "--unlock"))
    proc = snakemake(workdir, "--cores", "2", target)
    assert_ok(proc)
    counts = job_counts(proc.stdout)
    assert counts["train"] == 1 and "ground_state" not in counts   # the solve was complete
    table = pd.read_parquet(workdir / target)
    assert len(table) == 1 and table["n"].iloc[0] == 1
    assert not stale.exists()
    assert not list(run.parent.glob(".seed=0.*"))


def test_lint_and_ruff_are_clean(tmp_path):
    workdir = make_workdir(tmp_path / "run", CI_CONFIG)
    proc = snakemake(workdir, "--lint")
    assert_ok(proc)
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout
    assert "Lints for" not in proc.stdout
    ruff = Path(sys.executable).parent / "ruff"  # a test dependency: installed by bin/test
    result = subprocess.run([str(ruff), "check", "."], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"All checks passed", result.stdout)
