"""Training ensembles in the workflow: one job trains the runs of an ensemble (one process),
the dry run lists every run, a run no experiment plans is built alone, the grouping follows
the config, and an ensemble job killed with SIGKILL leaves no run that looks complete and,
rerun, trains only the runs that had not finished."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.workflow.helpers import (
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

#: square_16 (K = 12870): a run at εtrain = 0.02 stops after a few hundred steps, one at 0.5
#: trains for many seconds; both in one ensemble (same cluster, target, arch, experiment).
CONFIG = {"ground_states": {"square_16": {"j2": [0.0], "solver": "scipy"}},
          "train": {"max_epochs": 60, "patience": 60, "batch_size": 32, "width": 16},
          "experiments": {"k": {"kind": "eps_sweep", "clusters": ["square_16"], "j2": [0.0],
                                "eps": [0.02, 0.5], "archs": ["dense1"], "seeds": 1}}}
RUN = "results/train/square_16/J2=0/sign/dense1/eps={eps}/seed={seed}"


def test_dry_run_lists_the_runs_of_each_ensemble_and_follows_the_config(tmp_path):
    config = {**CONFIG, "experiments": {"k": {**CONFIG["experiments"]["k"], "seeds": 3}}}
    workdir = make_workdir(tmp_path / "a", config)
    proc = snakemake(workdir, "-n", "results/tables/k.parquet")
    assert_ok(proc)
    assert sorted(trained_runs(proc.stdout)) == sorted(
        RUN.format(eps=e, seed=s) for e in (0.02, 0.5) for s in range(3))
    (rule, n), = training_jobs(job_counts(proc.stdout)).items()
    assert rule.startswith("train_square_16_sign_dense1_") and n == 1
    assert "--runs results/train/square_16/J2=0/sign/dense1/eps=0.02/seed=0 " in proc.stdout
    # at most 2 runs per job: 3 balanced jobs of 2 (one 0.5 run each)
    workdir = make_workdir(tmp_path / "b", {**config, "train": {**config["train"],
                                                                "ensemble_size": 2}})
    proc = snakemake(workdir, "-n", "results/tables/k.parquet")
    assert_ok(proc)
    assert sum(training_jobs(job_counts(proc.stdout)).values()) == 3
    assert len(trained_runs(proc.stdout)) == 6
    # ensemble_size 1: one job per run (rule train), as before ensembles
    workdir = make_workdir(tmp_path / "c", {**config, "train": {**config["train"],
                                                                "ensemble_size": 1}})
    proc = snakemake(workdir, "-n", "results/tables/k.parquet")
    assert_ok(proc)
    assert training_jobs(job_counts(proc.stdout)) == {"train": 6}
    # a run no experiment plans is built alone by rule train
    target = RUN.format(eps=0.1, seed=7) + "/metrics.parquet"
    proc = snakemake(workdir, "-n", target)
    assert_ok(proc)
    assert training_jobs(job_counts(proc.stdout)) == {"train": 1}
    assert "--eps 0.1 --seed 7" in proc.stdout


def test_killed_ensemble_reruns_only_the_runs_that_had_not_finished(tmp_path):
    workdir = make_workdir(tmp_path / "run", CONFIG).resolve()
    target = "results/tables/k.parquet"
    small, large = (workdir / RUN.format(eps=e, seed=0) for e in (0.02, 0.5))
    with open(tmp_path / "first.out", "w") as sink:
        proc = subprocess.Popen(snakemake_cmd(workdir, "--cores", "2", target), cwd=REPO,
                                env=smk_env(), stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            def small_saved():  # saved when it stops, before the ensemble's next step
                return list((workdir / "results/train/.ensembles").glob("*/member-*.pt"))
            wait_for(small_saved, 240, "the small run to finish training and be saved")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        wait_for(lambda: not processes_in(workdir), 20, "the job's processes to exit")
    finally:
        for pid in processes_in(workdir):
            os.kill(pid, signal.SIGKILL)
    # nothing looks complete; the finished run is saved for the next attempt
    assert not (small / "metrics.parquet").exists() and not (large / "metrics.parquet").exists()
    assert len(list((workdir / "results/train/.ensembles").glob("*/member-*.pt"))) == 1

    assert_ok(snakemake(workdir, "--unlock"))
    proc = snakemake(workdir, "--cores", "2", target)
    assert_ok(proc)
    assert sum(training_jobs(job_counts(proc.stdout)).values()) == 1
    log = next((workdir / "logs/train/ensembles").glob("*.log")).read_text()
    assert "reusing 1 member(s)" in log
    assert (small / "metrics.parquet").exists() and (large / "metrics.parquet").exists()
    assert not (workdir / "results/train/.ensembles").exists()
    import pandas as pd

    table = pd.read_parquet(workdir / target)
    assert len(table) == 2 and (table["n"] == 1).all()
