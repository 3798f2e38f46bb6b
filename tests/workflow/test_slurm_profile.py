"""The SLURM profile (slurm/config.yaml) against a real single-node Slurm that this module
starts and stops itself (tests/slurm/local_slurm.py: Debian's munge, slurmctld and slurmd,
installed with apt-get when missing).  One MPI ground-state job goes through `srun` with two
tasks, the two trainings are one ensemble job (one process) with a (fake) GPU, aggregation and
the figure run locally.  Skipped only where Slurm cannot be installed or started, with the reason.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.slurm.local_slurm import LocalSlurm, SlurmError, SlurmUnavailable, ensure_installed
from tests.workflow.helpers import assert_ok, job_counts, make_workdir, smk_env, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow, pytest.mark.mpi]

CONFIG = {
    "ground_states": {"square_10": {"j2": [0.0], "ranks": 2}},
    "train": {"width": 8, "max_epochs": 5, "patience": 2, "batch_size": 32},
    "experiments": {"slurm": {"kind": "j2_sweep", "clusters": ["square_10"], "eps": 0.5,
                              "archs": ["dense1"], "seeds": 2}},
    "aggregate": {"bootstrap": 20},
}


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = ensure_installed()
    if reason:
        pytest.skip(reason)
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
    except SlurmUnavailable as exc:
        cluster.stop()
        pytest.skip(str(exc))
    except (SlurmError, OSError) as exc:
        cluster.stop()
        pytest.skip(f"could not start a local Slurm: {str(exc).splitlines()[0]}")
    yield cluster
    cluster.stop()


def slurm_jobs(cluster: LocalSlurm) -> list[dict]:
    """Every job the controller knows (MinJobAge keeps finished ones): scontrol's fields."""
    out = cluster.run("scontrol", "show", "job", "-o")
    jobs = []
    for line in out.splitlines():
        if line.strip() and not line.startswith("No jobs"):
            jobs.append(dict(re.findall(r"(\w+)=(\S*)", line)))
    return jobs


def test_profile_runs_mpi_ground_state_and_an_ensemble_gpu_job(slurm, tmp_path):
    workdir = make_workdir(tmp_path / "run", CONFIG).resolve()
    env = smk_env(slurm.env())
    # exactly what users type, plus faster status polling for the test
    proc = snakemake(workdir, "--profile", "slurm",
                     "--slurm-init-seconds-before-status-checks", "1",
                     "--seconds-between-status-checks", "2", timeout=600, env=env)
    assert_ok(proc)
    out = proc.stdout
    counts = job_counts(out)
    (ensemble,) = [rule for rule in counts if rule.startswith("train_square_10_sign_dense1_")]
    assert counts == {"cluster": 1, "ground_state": 1, ensemble: 1, "baseline": 1,
                      "aggregate_j2_sweep": 1, "figure_j2_sweep": 1, "all": 1, "total": 7}
    assert "srun -n 2 python -m nqsgen.stages.ground_state --cluster square_10" in out
    assert "submitted with SLURM jobid" in out

    jobs = {job["JobId"]: job for job in slurm_jobs(slurm)}
    comments = {jid: job.get("Comment", "") for jid, job in jobs.items()}
    gs = [jobs[j] for j, c in comments.items() if c.startswith("rule_ground_state")]
    train = [jobs[j] for j, c in comments.items() if "train" in c]
    # one MPI job: 2 tasks, one CPU each, memory from the solver's estimate
    assert len(gs) == 1 and gs[0]["JobState"] == "COMPLETED", gs
    assert gs[0]["NumTasks"] == "2" and gs[0]["NumCPUs"] == "2"
    # both trainings in ONE Slurm job with a GPU: one ensemble, trained in one process
    assert len(train) == 1 and train[0]["JobState"] == "COMPLETED", train
    assert "gpu" in (train[0].get("TresPerJob", "") + train[0].get("TresPerNode", "")
                     + train[0].get("TRES", "")), train[0]
    assert train[0]["TimeLimit"] == "01:00:00"       # the config's 60 min per training job
    # the stage ran under srun with two MPI ranks
    meta = json.loads((workdir / "results/ground_states/square_10/J2=0/metadata.json")
                      .read_text())
    assert meta["ranks"] == 2 and meta["residual"] <= 1e-10
    table = pd.read_parquet(workdir / "results/tables/slurm.parquet").set_index("source")
    assert list(table.index) == ["marshall", "train"] and table.loc["train", "n"] == 2
    assert table.loc["marshall", "mean"] == pytest.approx(1.0, abs=1e-9)  # exact at J2 = 0
    assert (workdir / "results/figures/slurm.pdf").read_bytes().startswith(b"%PDF")
