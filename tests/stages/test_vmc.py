"""The VMC stage as users run it: outputs, reproducibility, checkpoints, errors, and SR
converging to the square_16 ground state (full sum and Monte Carlo)."""

import math
import os
import signal
import subprocess
import sys
import time

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import torch

from nqsgen.paths import vmc_run_dir
from nqsgen.stages.vmc import METRIC_COLUMNS, main, read_runs
from nqsgen.vmc.optimize import TRAJECTORY_COLUMNS

EXACT_ITERATIONS = 70  # full-sum SR iterations of the convergence test
SMALL = ["--width", "8", "--samples", "64", "--chains", "16", "--final-samples", "256",
         "--initial-burn-in", "10", "--log-every", "1"]


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    from tests.conftest import solve_ground_states

    return solve_ground_states(tmp_path_factory.mktemp("gs"),
                               (("kagome_12", "0.5"), ("square_16", "0")))


def kagome(states, out, *extra):
    return ["--cluster", "kagome_12", "--j2", "0.5", "--ground-state", str(states["kagome_12"]),
            "--out", str(out), *SMALL, *map(str, extra)]


def metrics(out) -> dict:
    return pq.read_table(out / "metrics.parquet").to_pylist()[0]


def trajectory(out, drop=("time_s",)) -> list[dict]:
    rows = pq.read_table(out / "trajectory.parquet").to_pylist()
    return [{k: v for k, v in row.items() if k not in drop} for row in rows]


def same(a: list[dict], b: list[dict]) -> bool:
    """Equal rows, NaN equal to NaN."""
    def norm(v):
        return "nan" if isinstance(v, float) and math.isnan(v) else v
    return [{k: norm(v) for k, v in r.items()} for r in a] == \
        [{k: norm(v) for k, v in r.items()} for r in b]


def test_cli_writes_metrics_and_trajectory(states, tmp_path, run_stage):
    out = vmc_run_dir("kagome_12", 0.5, 0, root=tmp_path / "results")
    assert str(out).endswith("vmc/kagome_12/J2=0.5/seed=0")
    proc = run_stage("nqsgen.stages.vmc", *kagome(states, out, "--seed", 0, "--iterations", 4))
    assert "iter 4/4" in proc.stderr and "eta" in proc.stderr and "acc" in proc.stderr
    assert "final energy" in proc.stderr
    table = pq.read_table(out / "metrics.parquet")
    assert table.num_rows == 1 and tuple(table.column_names[:len(METRIC_COLUMNS)]) == \
        METRIC_COLUMNS
    row = table.to_pylist()[0]
    assert row["cluster"] == "kagome_12" and row["seed"] == 0 and row["device"] == "cpu"
    assert row["samples"] == 64 and row["iterations"] == 4 and row["sweep_size"] == 12
    assert row["energy_method"] == "monte_carlo" and row["energy_error"] > 0
    assert 0 <= row["overlap"] <= 1 and -1 <= row["sign_overlap"] <= 1
    assert 0 < row["acceptance"] <= 1 and row["overlap_method"] == "exact"
    e0 = row["ground_state_energy"]
    assert row["rel_energy_error"] == pytest.approx((row["energy"] - e0) / abs(e0))
    assert row["energy_per_site"] == pytest.approx(row["energy"] / 48)
    assert row["energy_exact_sum"] >= e0 - 1e-9  # variational
    assert row["n_parameters"] == row["n_amplitude_parameters"] + row["n_phase_parameters"]
    traj = pq.read_table(out / "trajectory.parquet")
    assert set(TRAJECTORY_COLUMNS) <= set(traj.column_names) and traj.num_rows == 4
    assert traj.column("iteration").to_pylist() == [0, 1, 2, 3]
    assert sorted(p.name for p in out.parent.iterdir()) == ["seed=0"]  # no temporaries


def test_same_seed_same_trajectory_and_hive_layout(states, tmp_path):
    root = tmp_path / "results/vmc"
    args = ("--iterations", 3, "--overlap-every", 2)
    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        assert main(kagome(states, tmp_path / name, "--seed", seed, *args)) == 0
    a, b, c = (trajectory(tmp_path / n) for n in "abc")
    assert same(a, b) and not same(a, c)
    assert not math.isnan(a[0]["overlap"]) and math.isnan(a[1]["overlap"])
    assert metrics(tmp_path / "a")["energy"] == metrics(tmp_path / "b")["energy"]
    for seed in (1, 2):
        out = vmc_run_dir("kagome_12", 0.5, seed, root=root.parent)
        assert main(kagome(states, out, "--seed", seed, "--iterations", 2)) == 0
    table = read_runs(root).to_pandas()
    assert len(table) == 2 and {"J2", "seed", "overlap", "j2"} <= set(table)
    assert len(read_runs(root, "trajectory")) == 4
    everything = ds.dataset(root, partitioning="hive").to_table().to_pandas()
    assert len(everything) == 6 and everything["iteration"].isna().sum() == 2
    assert everything["overlap_method"].notna().sum() == 2


@pytest.mark.parametrize("sampler", ["metropolis", "exact"])
def test_resumed_run_ends_where_an_uninterrupted_run_ends(states, tmp_path, sampler):
    common = ("--seed", 4, "--sampler", sampler, "--overlap-every", 3)
    straight, resumed, ckpt = tmp_path / "straight", tmp_path / "resumed", tmp_path / "c.pt"
    assert main(kagome(states, straight, *common, "--iterations", 8)) == 0
    assert main(kagome(states, resumed, *common, "--iterations", 4, "--checkpoint", ckpt)) == 0
    assert len(trajectory(resumed)) == 4 and ckpt.exists()
    assert main(kagome(states, resumed, *common, "--iterations", 8, "--checkpoint", ckpt)) == 0
    assert same(trajectory(straight), trajectory(resumed))
    m_straight, m_resumed = metrics(straight), metrics(resumed)
    assert m_resumed["resumed_from"] == 4 and m_straight["resumed_from"] == 0
    for key in ("energy", "energy_error", "overlap", "sign_overlap", "energy_exact_sum"):
        assert m_straight[key] == m_resumed[key], key


def test_killed_run_resumes_from_its_checkpoint(states, tmp_path):
    from tests.conftest import REPO, stage_env

    common = ("--seed", 6, "--iterations", 60, "--checkpoint-every", 1, "--log-every", 20)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert main(kagome(states, straight, *common)) == 0
    checkpoint = killed.with_name(f".{killed.name}.checkpoint.pt")
    cmd = [sys.executable, "-m", "nqsgen.stages.vmc", *kagome(states, killed, *common)]
    proc = subprocess.Popen(cmd, env=stage_env(), cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists() and not killed.exists()
    done = torch.load(checkpoint, weights_only=False)["iteration"]
    assert 1 <= done < 60
    assert main(kagome(states, killed, *common)) == 0
    assert metrics(killed)["resumed_from"] == done
    assert same(trajectory(straight), trajectory(killed))
    assert metrics(straight)["energy"] == metrics(killed)["energy"]
    assert not checkpoint.exists()  # the default checkpoint is removed after success


def test_stale_default_checkpoint_of_other_settings_is_discarded(states, tmp_path):
    out = tmp_path / "run"
    default = out.with_name(f".{out.name}.checkpoint.pt")
    assert main(kagome(states, out, "--seed", 0, "--iterations", 2, "--checkpoint", default)) == 0
    assert default.exists()
    assert main(kagome(states, out, "--seed", 0, "--iterations", 3, "--lr", 0.01)) == 0
    assert metrics(out)["resumed_from"] == 0 and len(trajectory(out)) == 3
    assert not default.exists()


def run_error(args, capsys) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_errors_are_one_line_and_come_before_any_work(states, tmp_path, capsys):
    out = tmp_path / "out"
    assert "argument --sampler: invalid choice: 'gibbs'" in run_error(
        kagome(states, out, "--seed", 0, "--sampler", "gibbs"), capsys)
    assert "--lr -1.0: input should be greater than 0" in run_error(
        kagome(states, out, "--seed", 0, "--lr", "-1"), capsys)
    assert "--max-jacobian-mb" in run_error(
        kagome(states, out, "--seed", 0, "--sampler", "exact", "--max-jacobian-mb", "0.01"),
        capsys)
    wrong_j2 = ["--cluster", "kagome_12", "--j2", "0.7", "--seed", "0", "--out", str(out),
                "--ground-state", str(states["kagome_12"])]
    assert "J2=0.5, not 0.7" in run_error(wrong_j2, capsys)
    assert "argument --activation: invalid choice: 'sigmoid'" in run_error(
        kagome(states, out, "--seed", 0, "--activation", "sigmoid"), capsys)
    if not torch.cuda.is_available():
        assert "CUDA is not available" in run_error(
            kagome(states, out, "--seed", 0, "--device", "cuda"), capsys)
    assert not out.exists()
    ckpt = tmp_path / "c.pt"
    assert main(kagome(states, out, "--seed", 0, "--iterations", 2, "--checkpoint", ckpt)) == 0
    assert "written with lr=0.05, this run has lr=0.01" in run_error(
        kagome(states, out, "--seed", 0, "--iterations", 4, "--checkpoint", ckpt, "--lr",
               "0.01"), capsys)
    assert "beyond --iterations 1" in run_error(
        kagome(states, out, "--seed", 0, "--iterations", 1, "--checkpoint", ckpt), capsys)


def test_whole_basis_that_does_not_fit_is_refused_naming_cluster_and_memory(tmp_path, capsys):
    from nqsgen.clusters import get_cluster
    from nqsgen.errors import ConfigError
    from nqsgen.stages.vmc import check_memory, parse_args

    args = parse_args(["--cluster", "kagome_30", "--j2", "0.5", "--seed", "0", "--out", "x"])
    with pytest.raises(ConfigError) as err:  # exact observables over K = 155,117,520 states
        check_memory(args, get_cluster("kagome_30"), 155_117_520, available=2e9)
    assert str(err.value) == ("kagome_30 J2=0.5: the whole basis (K = 155,117,520) needs 5.0 GB, "
                              "only 2.0 GB are available (lower --exact-max-states below K to "
                              "skip the exact observables)")
    check_memory(args, get_cluster("kagome_30"), 155_117_520, available=6e9)  # fits
    # at 36 spins (K = 9.1e9 > --exact-max-states) the exact overlap during SR is impossible:
    # refused before the ground state is even looked for
    out = tmp_path / "out"
    message = run_error(["--cluster", "square_36", "--j2", "0.5", "--seed", "0", "--out",
                         str(out), "--overlap-every", "5"], capsys)
    assert "--overlap-every needs the exact overlap" in message and "9,075,135,300" in message
    assert not out.exists()


def final_metrics(states, tmp_path, *extra) -> dict:
    out = tmp_path / "run"
    args = ["--cluster", "square_16", "--j2", "0", "--ground-state", str(states["square_16"]),
            "--out", str(out), "--seed", "0", "--width", "32", "--log-every", "10",
            *map(str, extra)]
    assert main(args) == 0
    return metrics(out)


@pytest.mark.slow
def test_full_sum_sr_reaches_the_square_16_ground_state(states, tmp_path):
    """Exact |ψ|² sums over all 12,870 states: ≤ 1e-3 relative energy error, overlap ≥ 0.99."""
    m = final_metrics(states, tmp_path, "--sampler", "exact", "--iterations", EXACT_ITERATIONS,
                      "--phase-width", 16, "--shift-decay", 0.9, "--dtype", "float32",
                      "--sr-solver", "dense")
    assert m["energy_method"] == "exact" and m["energy_error"] == 0.0
    assert 0 <= m["rel_energy_error"] <= 1e-3
    assert m["overlap"] >= 0.99 and m["sign_overlap"] > 0.999
    assert m["energy_exact_sum"] == pytest.approx(m["energy"], rel=1e-6)


@pytest.mark.slow
def test_monte_carlo_sr_reaches_the_square_16_ground_state(states, tmp_path):
    """1000 Metropolis samples per iteration: ≤ 1e-2 relative energy error, overlap ≥ 0.95."""
    m = final_metrics(states, tmp_path, "--iterations", 70, "--samples", 1000, "--chains", 100,
                      "--final-samples", 8000, "--cg-max-iterations", 40)
    assert m["energy_method"] == "monte_carlo" and 0 < m["energy_error"] < 0.05
    assert abs(m["rel_energy_error"]) <= 1e-2 and m["overlap"] >= 0.95
    assert 0.1 < m["acceptance"] < 0.9 and m["autocorrelation_time"] < 3
    # the Monte-Carlo energy agrees with the exact sum over the basis within its error
    assert abs(m["energy"] - m["energy_exact_sum"]) < 5 * m["energy_error"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("sampler", ["metropolis", "exact"])
def test_cuda_runs_end_to_end(states, tmp_path, sampler):
    args = ("--seed", 3, "--iterations", 3, "--sampler", sampler, "--dtype", "float64")
    assert main(kagome(states, tmp_path / "gpu", *args, "--device", "cuda")) == 0
    m = metrics(tmp_path / "gpu")
    assert m["device"].startswith("cuda") and 0 <= m["overlap"] <= 1
    assert math.isfinite(m["energy"]) and len(trajectory(tmp_path / "gpu")) == 3
