"""The train stage as users run it: CLI, output layout (hive), errors before training."""

import shutil

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import torch

from nqsgen.paths import train_run_dir
from nqsgen.stages.train import CURVE_COLUMNS, METRIC_COLUMNS, main, read_runs

QUICK = ["--max-epochs", "6", "--width", "16", "--channels", "4"]


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    from tests.conftest import solve_ground_states

    return solve_ground_states(tmp_path_factory.mktemp("gs"),
                               (("kagome_12", "0.5"), ("square_10", "0")))


def kagome_args(states, out, *extra):
    return ["--cluster", "kagome_12", "--j2", "0.5", "--ground-state", str(states["kagome_12"]),
            "--out", str(out), *QUICK, *map(str, extra)]


def read_metrics(out):
    return pq.read_table(out / "metrics.parquet").to_pylist()[0]


def test_cli_writes_one_metrics_row_and_curves(states, tmp_path, run_stage):
    out = train_run_dir("kagome_12", 0.5, "sign", "cnn", 0.1, 0, root=tmp_path / "results")
    assert str(out).endswith("train/kagome_12/J2=0.5/sign/cnn/eps=0.1/seed=0")
    proc = run_stage("nqsgen.stages.train", *kagome_args(states, out, "--target", "sign", "--arch",
                                                  "cnn", "--eps", "0.1", "--seed", "0"))
    assert "epoch" in proc.stderr and "eta" in proc.stderr and "val_overlap" in proc.stderr
    metrics = pq.read_table(out / "metrics.parquet")
    assert metrics.num_rows == 1
    assert tuple(metrics.column_names[:len(METRIC_COLUMNS)]) == METRIC_COLUMNS
    row = metrics.to_pylist()[0]
    assert all(row[c] is None for c in metrics.column_names[len(METRIC_COLUMNS):])
    assert row["cluster"] == "kagome_12" and row["arch"] == "cnn" and row["seed"] == 0
    assert row["overlap_method"] == "exact" and -1 <= row["overlap"] <= 1
    assert row["overlap"] == row["sign_overlap"] and row["device"] == "cpu"
    assert row["n_train"] == round(0.1 * 924) and row["epochs"] <= 6
    assert row["test_states"] == row["overlap_samples"]
    assert 924 - row["train_unique"] - row["val_unique"] <= row["test_states"]
    assert row["test_states"] <= 924 - max(row["train_unique"], row["val_unique"])
    curves = pq.read_table(out / "curves.parquet")
    assert set(CURVE_COLUMNS) <= set(curves.column_names)
    assert curves.schema == metrics.schema  # one dataset call reads both kinds
    assert curves.num_rows == row["epochs"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["seed=0"]  # no temporaries


def test_hive_layout_reads_all_runs_in_one_call(states, tmp_path):
    root = tmp_path / "results/train"
    for target, eps, seed in (("sign", 0.1, 0), ("sign", 0.05, 1), ("amplitude", 1.0, 0)):
        out = train_run_dir("kagome_12", 0.5, target, "dense2", eps, seed, root=root.parent)
        assert main(kagome_args(states, out, "--target", target, "--arch", "dense2", "--eps",
                                eps, "--seed", seed)) == 0
    everything = ds.dataset(root, partitioning="hive").to_table().to_pandas()
    table = read_runs(root).to_pandas()
    curves = read_runs(root, "curves").to_pandas()
    assert len(table) == 3 and {"J2", "eps", "seed", "overlap", "eps_train", "j2"} <= set(table)
    assert len(curves) == table["epochs"].sum() and curves["epoch"].notna().all()
    assert len(everything) == len(table) + len(curves)
    assert everything["epoch"].isna().sum() == 3
    assert sorted(table["eps_train"]) == [0.05, 0.1, 1.0]
    assert sorted(table["seed"]) == [0, 0, 1]
    expressibility = table[table["eps_train"] == 1.0].iloc[0]
    assert expressibility["expressibility"] and expressibility["test_states"] == 924
    assert expressibility["test_mass"] == pytest.approx(1.0)


def test_monte_carlo_overlap_above_the_threshold(states, tmp_path):
    args = ["--target", "sign", "--arch", "dense2", "--eps", "0.2", "--seed", "5"]
    assert main(kagome_args(states, tmp_path / "exact", *args)) == 0
    assert main(kagome_args(states, tmp_path / "mc", *args, "--exact-max-states", "100",
                            "--mc-samples", "40000")) == 0
    exact, mc = read_metrics(tmp_path / "exact"), read_metrics(tmp_path / "mc")
    assert exact["overlap_method"] == "exact" and exact["overlap_se"] == 0
    assert mc["overlap_method"] == "monte_carlo" and 0 < mc["overlap_se"] < 0.02
    assert abs(mc["overlap"] - exact["overlap"]) < 5 * mc["overlap_se"]
    assert mc["val_loss"] == exact["val_loss"]  # same training, only the evaluation differs


@pytest.mark.slow
def test_monte_carlo_test_set_agrees_with_the_exact_sum_at_24_sites(tmp_path):
    """Issue 10: on a 24-site (symmetric) ground state the Monte-Carlo test overlap (default
    size: SE ≤ 0.005) agrees with the exact streaming sum over the 2.7e6-state test set
    within 3 SE, for the sign and the amplitude network.  (The amplitude estimator
    E[r]/sqrt(E[r²]), r = a/|ψ|, has heavy tails for a poorly trained network, whose a ≫ |ψ|
    on rarely drawn states; these networks are trained to overlaps ≈ 0.9.)"""
    from tests.conftest import run_module

    gs = tmp_path / "gs"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_24", "--j2", "0.5", "--out", gs,
               "--symmetries", "full")
    for target in ("sign", "amplitude"):
        base = ["--cluster", "square_24", "--j2", "0.5", "--ground-state", str(gs),
                "--target", target, "--arch", "dense2", "--eps", "0.01", "--seed", "1",
                "--max-epochs", "40"]
        assert main([*base, "--out", str(tmp_path / f"exact-{target}")]) == 0
        assert main([*base, "--out", str(tmp_path / f"mc-{target}"),
                     "--exact-max-states", "1e6"]) == 0
        exact = read_metrics(tmp_path / f"exact-{target}")
        mc = read_metrics(tmp_path / f"mc-{target}")
        assert exact["overlap_method"] == "exact" and exact["overlap_samples"] == \
            exact["test_states"] > 2_600_000
        assert mc["overlap_method"] == "monte_carlo" and mc["overlap_samples"] == 40_000
        assert mc["overlap_draws"] >= 40_000 and 0 < mc["overlap_se"]
        assert mc["overlap_se"] <= (0.005 if target == "sign" else 0.05)  # sized for signs
        assert mc["val_loss"] == exact["val_loss"]  # the same network, evaluated twice
        assert abs(mc["overlap"] - exact["overlap"]) < 3 * mc["overlap_se"], (target, exact,
                                                                              mc)


def test_default_ground_state_path_and_rerun_replaces(states, tmp_path, monkeypatch):
    default = tmp_path / "results/ground_states/square_10/J2=0"
    shutil.copytree(states["square_10"], default)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    args = ["--cluster", "square_10", "--j2", "0", "--target", "amplitude", "--arch", "dense1",
            "--eps", "0.3", "--out", str(out), *QUICK]
    assert main([*args, "--seed", "1"]) == 0
    assert main([*args, "--seed", "2"]) == 0
    row = read_metrics(out)
    assert row["seed"] == 2 and row["ground_state"] == "results/ground_states/square_10/J2=0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "run"]


BAD = [
    (["--eps", "0"], "eps (εtrain) must be in (0, 1], got 0.0"),
    (["--eps", "1.5"], "must be in (0, 1]"),
    (["--eps", "-0.01"], "must be in (0, 1]"),
    (["--eps", "0.1", "--eps-val", "2"], "eps-val"),
    (["--arch", "resnet"], "argument --arch: invalid choice: 'resnet'"),
    (["--target", "phase"], "argument --target: invalid choice: 'phase'"),
    (["--batch-size", "0"], "--batch-size 0: input should be greater than or equal to 1"),
    (["--dropout", "1"], "--dropout 1.0: input should be less than 1"),
    (["--expressibility-mode", "all"], "argument --expressibility-mode: invalid choice: 'all'"),
    (["--mc-se", "0"], "--mc-se 0.0: input should be greater than 0"),
    (["--cluster", "nope_3"], "unknown cluster"),
    (["--cluster", "square_16"], "belongs to cluster 'kagome_12', not to 'square_16'"),
    (["--j2", "0.7"], "has J2=0.5, not 0.7"),
    (["--ground-state", "/nonexistent/gs"], "no ground state at /nonexistent/gs"),
    (["--seed", "x"], "argument --seed: invalid int value"),
    (["--seed", "-1"], "--seed must be in [0, 2^31)"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_parameters_are_one_line_errors_before_training(states, tmp_path, capsys, change,
                                                            message):
    args = {"--cluster": "kagome_12", "--j2": "0.5", "--target": "sign", "--arch": "dense2",
            "--eps": "0.1", "--seed": "0", "--out": str(tmp_path / "run"),
            "--ground-state": str(states["kagome_12"])}
    extra = []
    for key, value in zip(change[::2], change[1::2], strict=True):
        if key in args:
            args[key] = value
        else:
            extra += [key, value]
    assert main([x for kv in args.items() for x in kv] + extra) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not (tmp_path / "run").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_a_gpu_is_refused(states, tmp_path, run_stage):
    args = kagome_args(states, tmp_path / "run", "--target", "sign", "--arch", "dense1",
                       "--eps", "0.1", "--seed", "0", "--device", "cuda")
    proc = run_stage("nqsgen.stages.train", *args, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: device 'cuda' requested but CUDA is not available (use --device auto or cpu)"]
    assert not (tmp_path / "run").exists()
