"""The Snakemake workflow's cluster and ground-state part, run for real with Snakemake.

Helpers (temporary working directories, Snakemake as a subprocess) are in helpers.py; the CI
configuration's end-to-end run (fixture ``test_run``) is shared with the other workflow tests
(conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
import yaml

from tests.workflow.helpers import (
    REPO,
    assert_ok,
    job_counts,
    make_workdir,
    processes_in,
    smk_env,
    snakemake,
    snakemake_cmd,
    wait_for,
)

pytestmark = [pytest.mark.workflow, pytest.mark.mpi]


# ----------------------------------------------------------------------------- (c), (e)
def test_ci_config_produces_clusters_and_exact_ground_states(test_run):
    from nqsgen.basis import SzBasis
    from nqsgen.clusters import get_cluster
    from nqsgen.eigensolvers import solve_scipy
    from nqsgen.hamiltonian import Heisenberg
    from nqsgen.paths import j2_dirname
    from nqsgen.storage import GroundState

    config = yaml.safe_load((test_run / "config" / "config.yaml").read_text())
    for name in set(config["clusters"]) | set(config["ground_states"]):
        geometry = json.loads((test_run / f"results/clusters/{name}.json").read_text())
        assert geometry["name"] == name
        assert (test_run / f"results/clusters/{name}.pdf").read_bytes().startswith(b"%PDF")
        assert (test_run / f"logs/clusters/{name}.log").exists()
    for name, settings in config["ground_states"].items():
        cluster = get_cluster(name, config["clusters"])
        scipy = settings.get("solver", "slepc") == "scipy"
        for j2 in settings["j2"]:
            path = test_run / "results" / "ground_states" / name / j2_dirname(j2)
            meta = json.loads((path / "metadata.json").read_text())
            assert meta["cluster"] == name and meta["j2"] == j2
            assert meta["cluster_fingerprint"] == cluster.fingerprint()
            assert meta["residual"] <= 1e-10
            assert meta["solver"] == ("scipy" if scipy else "slepc")
            assert meta["ranks"] == (1 if scipy else 2)
            GroundState.open(path)  # every shard present, row counts and sha256 as recorded
            exact = solve_scipy(Heisenberg.from_cluster(cluster, j2=j2), SzBasis(cluster.n_sites))
            assert meta["energy"] == pytest.approx(exact.energy, rel=1e-10, abs=1e-10)
            assert (test_run / f"logs/ground_states/{name}/{j2_dirname(j2)}.log").exists()
            benchmark = test_run / f"results/benchmarks/ground_state/{name}/{j2_dirname(j2)}.tsv"
            assert benchmark.read_text().startswith("s\t")
    # nothing left to do, and no temporary directories left behind
    proc = snakemake(test_run, "-n")
    assert_ok(proc)
    assert "Nothing to be done" in proc.stdout
    assert not list((test_run / "results").rglob(".J2=*"))


def test_single_ground_state_as_target(test_run):
    # kagome_12 is configured with J2 = 0 and 1; any other J2 can be asked for by path
    target = "results/ground_states/kagome_12/J2=0.5/metadata.json"
    proc = snakemake(test_run, "--cores", "2", target)
    assert_ok(proc)
    assert job_counts(proc.stdout) == {"ground_state": 1, "total": 1}
    meta = json.loads((test_run / target).read_text())
    assert meta["cluster"] == "kagome_12" and meta["j2"] == 0.5
    assert meta["residual"] <= 1e-10 and meta["ranks"] == 2


# ----------------------------------------------------------------------------- kill -9
def test_killed_solve_leaves_no_complete_looking_output_and_reruns(tmp_path):
    # a 20-site user cluster: K = 184,756, a solve of a few seconds to kill in the middle of
    config = {"clusters": {"square_20": {"lattice": "square", "supercell": [[4, 2], [-2, 4]]}},
              "ground_states": {"square_20": {"j2": [0.5]}}}
    workdir = make_workdir(tmp_path / "run", config).resolve()
    out = workdir / "results/ground_states/square_20/J2=0.5"
    log = workdir / "logs/ground_states/square_20/J2=0.5.log"
    with open(tmp_path / "first.out", "w") as sink:
        proc = subprocess.Popen(snakemake_cmd(workdir, "--cores", "2"), cwd=REPO, env=smk_env(),
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: log.exists() and "assembled" in log.read_text(), 120,
                      "the solve to start")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Open MPI starts each rank in its own process group; they exit once mpiexec is gone
    try:
        wait_for(lambda: not processes_in(workdir), 20, "the MPI ranks to exit")
    finally:
        for pid in processes_in(workdir):
            os.kill(pid, signal.SIGKILL)
    assert not (out / "metadata.json").exists()
    # as if the stage had been killed while writing its shards
    stale = out.parent / ".J2=0.5.tmp-deadbeef"
    stale.mkdir()
    (stale / "part-00000-0000.parquet").write_bytes(b"partial")

    # SIGKILL leaves Snakemake's lock behind: --unlock, then the same command again
    assert_ok(snakemake(workdir, "--unlock"))
    proc = snakemake(workdir, "--cores", "2")
    assert_ok(proc)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["residual"] <= 1e-10 and meta["n_sites"] == 20
    from nqsgen.storage import GroundState

    GroundState.open(out)
    assert not stale.exists()
