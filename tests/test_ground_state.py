"""The ground-state stage as users run it: CLI, MPI ranks, storage, errors."""

import json

import numpy as np
import pytest

from nqsgen.errors import StorageError
from nqsgen.storage import GroundState

pytestmark = pytest.mark.mpi


@pytest.fixture(scope="module")
def kagome12_runs(tmp_path_factory):
    from tests.conftest import run_module

    base = tmp_path_factory.mktemp("gs")
    out = {}
    for ranks in (1, 2):
        out[ranks] = base / f"n{ranks}"
        run_module("nqsgen.stages.ground_state", "--cluster", "kagome_12", "--j2", "0.7", "--out",
                   out[ranks], "--shard-rows", "200", ranks=ranks)
    out["scipy"] = base / "scipy"
    run_module("nqsgen.stages.ground_state", "--cluster", "kagome_12", "--j2", "0.7", "--out",
               out["scipy"], "--solver", "scipy")
    return out


def test_mpi_two_ranks_equal_one(kagome12_runs):
    one, two = GroundState.open(kagome12_runs[1]), GroundState.open(kagome12_runs[2])
    assert one.metadata["ranks"] == 1 and two.metadata["ranks"] == 2
    assert two.energy == pytest.approx(one.energy, rel=1e-11, abs=0)
    overlap = one.vector() @ two.vector()
    assert overlap >= 1 - 1e-10  # same global sign, not just |overlap|
    np.testing.assert_array_equal(one.states(), two.states())


def test_scipy_and_slepc_agree(kagome12_runs):
    slepc, scipy = GroundState.open(kagome12_runs[2]), GroundState.open(kagome12_runs[1].parent
                                                                         / "scipy")
    assert scipy.metadata["solver"] == "scipy" and slepc.metadata["solver"] == "slepc"
    assert scipy.energy == pytest.approx(slepc.energy, rel=1e-11, abs=0)
    assert scipy.vector() @ slepc.vector() >= 1 - 1e-10


def test_metadata_and_shards(kagome12_runs):
    state = GroundState.open(kagome12_runs[2])
    meta = state.metadata
    for key in ("energy", "energy_per_site", "gap", "residual", "dimension", "solver", "ranks",
                "wall_time_s", "peak_rss_bytes", "versions", "shards", "cluster", "j2"):
        assert key in meta, key
    assert meta["dimension"] == 924
    assert meta["energy_per_site"] == pytest.approx(meta["energy"] / 48)
    assert meta["residual"] <= 1e-10
    assert meta["gap"] > 0 and meta["degenerate"] is False
    ranks_seen = {s["file"].split("-")[1] for s in meta["shards"]}
    assert ranks_seen == {"00000", "00001"}
    assert all(s["rows"] <= 200 for s in meta["shards"])
    assert sum(s["rows"] for s in meta["shards"]) == 924
    assert meta["versions"]["PETSc"].startswith("3.")
    assert np.sum(state.vector() ** 2) == pytest.approx(1.0, abs=1e-12)
    psi = state.vector()
    first_max = np.flatnonzero(np.abs(psi) >= np.abs(psi).max() * (1 - 1e-9))[0]
    assert psi[first_max] > 0


def test_reader_chunks_amplitudes_and_sampling(kagome12_runs):
    state = GroundState.open(kagome12_runs[2])
    chunks = list(state.iter_chunks(batch_rows=100))
    assert [c[0] for c in chunks][:3] == [0, 100, 200]
    np.testing.assert_array_equal(np.concatenate([c[1]["amplitude"] for c in chunks]),
                                  state.vector())
    states = state.states()
    np.testing.assert_array_equal(state.amplitude(states[::7]), state.vector()[::7])
    idx = state.sample(200_000, np.random.default_rng(0))
    counts = np.bincount(idx, minlength=state.dimension)
    p = state.vector() ** 2
    top = np.argsort(p)[-20:]
    np.testing.assert_allclose(counts[top] / 200_000, p[top], rtol=0.15)


def test_missing_and_corrupted_shards_are_clear_errors(kagome12_runs, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(kagome12_runs[2], broken)
    meta = json.loads((broken / "metadata.json").read_text())
    victim = broken / meta["shards"][1]["file"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="corrupted|not a readable"):
        GroundState.open(broken)
    victim.unlink()
    with pytest.raises(StorageError, match="missing"):
        GroundState.open(broken)
    (broken / "metadata.json").unlink()
    with pytest.raises(StorageError, match="metadata.json is missing"):
        GroundState.open(broken)


def test_ground_state_of_another_cluster_is_refused(kagome12_runs):
    from nqsgen.clusters import get_cluster

    with pytest.raises(StorageError, match="belongs to cluster 'kagome_12'"):
        GroundState.open(kagome12_runs[1], cluster=get_cluster("triangular_12"))


def test_unconverged_solve_writes_nothing(run_stage, tmp_path):
    out = tmp_path / "gs"
    proc = run_stage("nqsgen.stages.ground_state", "--cluster", "kagome_12", "--j2", "0.5", "--out",
                     out, "--max-iterations", "1", ranks=2, check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "converged" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary directory left behind either


def test_rerun_replaces_an_existing_result(run_stage, tmp_path):
    out = tmp_path / "gs"
    for j2 in ("0.2", "0.4"):
        run_stage("nqsgen.stages.ground_state", "--cluster", "kagome_12", "--j2", j2, "--out", out)
    assert GroundState.open(out).metadata["j2"] == 0.4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gs"]


@pytest.mark.parametrize("args,message", [
    (["--cluster", "nope_7", "--j2", "0.5"], "unknown cluster 'nope_7'"),
    (["--cluster", "kagome_12", "--j2", "nan"], "--j2"),
    (["--cluster", "square_30", "--j2", "0.5", "--symmetries", "none"], "symmetries"),
    (["--cluster", "square_16", "--j2", "0.5", "--symmetries", "full", "--sectors", "X+"],
     "symmetry sector 'X+' does not exist"),
    (["--cluster", "square_36", "--j2", "0.5", "--memory-limit-gb", "8"],
     "the symmetric basis (~16,543,216 representatives, |G|=576"),
    (["--cluster", "square_10", "--j2", "0", "--j1", "0"], "the Hamiltonian is zero"),
    (["--cluster", "square_10", "--j2", "0", "--threads", "0"], "--threads must be ≥ 1"),
    (["--cluster", "square_10", "--j2", "0", "--symmetries", "none", "--sectors", "trivial"],
     "applies to symmetric solves only"),
])
def test_bad_input_is_one_line(run_stage, tmp_path, args, message):
    """On 2 ranks under a timeout: one line from rank 0, every rank exits, nothing written."""
    proc = run_stage("nqsgen.stages.ground_state", *args, "--out", tmp_path / "x", check=False,
                     ranks=2, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("out,message", [
    ("/proc/nqsgen-gs", "--out /proc/nqsgen-gs"),       # not creatable
    ("user_dir", "without metadata.json"),                # somebody's directory
])
def test_unwritable_output_is_refused_before_the_solve(run_stage, tmp_path, out, message):
    """The output location is checked on every rank before the basis is built: no solve."""
    if out == "user_dir":
        out = tmp_path / "user_dir"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    proc = run_stage("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0.5", "--out",
                     out, check=False, ranks=2, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "memory estimate" not in proc.stderr and "krylov" not in proc.stderr
    if not isinstance(out, str):
        assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_scipy_and_slepc_agree_at_24_sites(run_stage, tmp_path):
    for solver, ranks in (("slepc", 2), ("scipy", None)):
        run_stage("nqsgen.stages.ground_state", "--cluster", "kagome_24", "--j2", "0.6", "--out",
                  tmp_path / solver, "--solver", solver, ranks=ranks)
    slepc, scipy = GroundState.open(tmp_path / "slepc"), GroundState.open(tmp_path / "scipy")
    assert slepc.dimension == 2_704_156
    assert scipy.energy == pytest.approx(slepc.energy, rel=1e-10, abs=0)
    assert slepc.vector() @ scipy.vector() >= 1 - 1e-10
