"""Ensembles (nqsgen.ensemble, the train stage's --runs): stacked networks are their members,
an ensemble's members are the separate runs with the same seeds, test overlaps are those of
nqsgen.overlaps, runs are deterministic, and a killed ensemble resumes from its finished
members."""

from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from nqsgen.clusters import get_cluster
from nqsgen.datasets import make_split, seed_streams
from nqsgen.ensemble import ensemble_test_overlaps, fit_ensemble, init_member
from nqsgen.models import ModelConfig, Predictor, StackedNetwork, build_model
from nqsgen.overlaps import test_overlap
from nqsgen.paths import train_run_dir
from nqsgen.stages import train as train_stage
from nqsgen.storage import GroundState
from nqsgen.training import TrainConfig, fit

TIMING = {"train_time_s", "train_samples_per_s", "eval_time_s", "inference_states_per_s",
          "wall_time_s", "created"}
#: Not summation-order dependent: draws, their unique counts and masses, the test set.
EXACT = ("n_train", "train_unique", "train_mass", "n_val", "val_unique", "val_mass",
         "test_states", "test_mass", "overlap_samples", "overlap_draws", "eps_val",
         "n_parameters", "overlap_method", "expressibility")
#: The settings of the stage tests: square_16 at J2 = 0 (Marshall sign), a small dense2.
OVERLAP_TOLERANCE = 0.01
SMALL = ["--width", "16", "--channels", "4", "--lr", "0.003", "--max-epochs", "60",
         "--patience", "8"]


@pytest.fixture(scope="module")
def square16(tmp_path_factory):
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_16"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0", "--out", out,
               "--solver", "scipy")
    return out


def stage_args(gs, arch="dense2", target="sign", *extra):
    return ["--cluster", "square_16", "--target", target, "--arch", arch,
            "--ground-state", str(gs), *SMALL, *map(str, extra)]


def run_dirs(root, members, arch="dense2", target="sign"):
    return [train_run_dir("square_16", 0.0, target, arch, eps, seed, root=root)
            for seed, eps in members]


def read(directory):
    return (pq.read_table(directory / "metrics.parquet").to_pylist()[0],
            pq.read_table(directory / "curves.parquet").to_pylist())


# ----------------------------------------------------------------------------- networks
@pytest.mark.parametrize("arch", ["dense1", "dense2", "cnn"])
@pytest.mark.parametrize("cluster_name", ["kagome_24", "square_10", "square_36"])
def test_stacked_network_is_its_members(arch, cluster_name):
    cluster = get_cluster(cluster_name)
    models = []
    for seed in range(4):
        torch.manual_seed(seed)
        models.append(build_model(ModelConfig(arch=arch, width=16, channels=4), cluster))
    net = StackedNetwork(models)
    g = torch.Generator().manual_seed(0)
    x = (torch.randint(0, 2, (4, 33, cluster.n_sites), generator=g) * 2 - 1).float()
    with torch.no_grad():
        reference = torch.stack([m(x[i]) for i, m in enumerate(models)])
        shared = torch.stack([m(x[0]) for m in models])
        torch.testing.assert_close(net(x), reference, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(net.forward_shared(x[0]), shared, rtol=1e-5, atol=1e-6)
    assert net.n_parameters == sum(p.numel() for p in models[0].parameters())
    # a member exported into a fresh network is that member
    fresh = net.load_member(build_model(ModelConfig(arch=arch, width=16, channels=4),
                                        cluster), 2)
    for a, b in zip(fresh.parameters(), models[2].parameters(), strict=True):
        assert torch.equal(a, b)


# ----------------------------------------------------------------------------- members
MEMBERS = [(seed, eps) for seed in (0, 1, 2) for eps in (0.02, 0.2)]


def test_ensemble_equals_separate_runs_and_is_deterministic(square16, tmp_path):
    """Six members with different seeds and εtrain, trained in one ensemble, against the six
    separate runs (the stage's one-run path).  Draws, unique counts, masses and test sets are
    equal exactly (they come from the same seed streams).  The first epoch's losses agree to
    float32 rounding (same initialisation and batches).  Training then amplifies rounding
    differences (batched vs single matrix products: summation order) chaotically, so the
    stopping epoch may move by a few and the overlap by about what it moves between
    neighbouring epochs of one run: we allow 5 epochs and 0.01 in overlap (measured: at most
    0.002, most members equal to 1e-12), well below the seed-to-seed spread of these runs
    (asserted: 0.045 at εtrain = 0.2), which is the error bar the study reports."""
    dirs = run_dirs(tmp_path / "ens", MEMBERS)
    rows = train_stage.train_runs(train_stage.parse_args(
        stage_args(square16) + ["--runs", *map(str, dirs)]))
    assert len(rows) == 6 and {r["ensemble_size"] for r in rows} == {6}
    assert len({r["ensemble_id"] for r in rows}) == 1
    overlaps = {}
    for (seed, eps), d in zip(MEMBERS, dirs, strict=True):
        ens, ens_curves = read(d)
        sep = train_stage.train(train_stage.parse_args(stage_args(square16) + [
            "--j2", "0", "--eps", str(eps), "--seed", str(seed), "--out",
            str(tmp_path / f"sep-{seed}-{eps}")]))
        _, sep_curves = read(tmp_path / f"sep-{seed}-{eps}")
        for key in EXACT:
            assert ens[key] == sep[key], (seed, eps, key)
        assert sep["ensemble_size"] == 1 and sep["ensemble_id"] != ens["ensemble_id"]
        for key in ("train_loss", "val_loss", "val_overlap"):
            assert ens_curves[0][key] == pytest.approx(sep_curves[0][key], rel=1e-5, abs=1e-6)
        assert abs(ens["epochs"] - sep["epochs"]) <= 5
        assert abs(ens["best_epoch"] - sep["best_epoch"]) <= 5
        assert abs(ens["overlap"] - sep["overlap"]) <= OVERLAP_TOLERANCE, (seed, eps)
        assert len(ens_curves) == ens["epochs"]
        overlaps.setdefault(eps, []).append(ens["overlap"])
    # the tolerance is well below the seed-to-seed spread (the study's error bars)
    assert np.ptp(overlaps[0.2]) > 3 * OVERLAP_TOLERANCE
    # deterministic: the same ensemble again gives the same numbers, curves included
    again = run_dirs(tmp_path / "again", MEMBERS)
    train_stage.train_runs(train_stage.parse_args(stage_args(square16) + [
        "--runs", *map(str, again)]))
    for a, b in zip(dirs, again, strict=True):
        (ma, ca), (mb, cb) = read(a), read(b)
        for key in set(ma) - TIMING - {"ground_state"}:
            assert ma[key] == mb[key] or (ma[key] != ma[key] and mb[key] != mb[key]), key
        assert [{k: v for k, v in r.items() if k != "time_s"} for r in ca] == \
            [{k: v for k, v in r.items() if k != "time_s"} for r in cb]


def _members(state, cluster, members, arch="dense2"):
    out = []
    for seed, eps in members:
        streams = seed_streams(seed)
        model, generator = init_member(streams, ModelConfig(arch=arch, width=16), cluster)
        out.append((model, generator, make_split(state, eps, min(eps, 0.05), streams),
                    streams))
    return out


def test_fit_ensemble_agrees_with_fit_on_one_module(square16):
    """The batched loop against the per-run loop of nqsgen.training.fit (an nn.Module, the
    code a run used before ensembles): same epochs, same first-epoch losses."""
    state, cluster = GroundState.open(square16), get_cluster("square_16")
    config = TrainConfig(target="sign", lr=3e-3, max_epochs=40, patience=6)
    members = [(0, 0.01), (1, 0.05), (2, 0.1)]
    ms = _members(state, cluster, members)
    net = StackedNetwork([m[0] for m in ms])
    results = fit_ensemble(net, [m[2].train for m in ms], [m[2].val for m in ms],
                           [m[1] for m in ms], config, 16, torch.device("cpu"))
    for result, (model, generator, split, _) in zip(results, _members(state, cluster, members),
                                                    strict=True):
        single = fit(model, split.train, split.val, config, 16, torch.device("cpu"),
                     generator)
        assert abs(result.epochs - single.epochs) <= 5
        first, ref = result.curves[0], single.curves[0]
        assert first["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
        assert first["val_loss"] == pytest.approx(ref["val_loss"], rel=1e-5)
        assert result.stopped_early == (result.epochs - result.best_epoch >= 6)
        assert result.val_loss == min(r["val_loss"] for r in result.curves)


@pytest.mark.parametrize("target", ["sign", "amplitude"])
def test_test_overlaps_are_those_of_the_overlaps_module(square16, target):
    """The shared exact pass and the per-member Monte-Carlo sets give what
    nqsgen.overlaps.test_overlap gives for each member's network (rounding only)."""
    state, cluster = GroundState.open(square16), get_cluster("square_16")
    ms = _members(state, cluster, [(0, 0.02), (1, 0.2), (2, 1.0)])
    net = StackedNetwork([m[0] for m in ms])
    splits = [m[2] for m in ms]
    for limit in (10**9, 100):  # exact; Monte Carlo (K = 12870 above the limit)
        got = ensemble_test_overlaps(net, [state] * 3, splits, target, exact_max_states=limit,
                                     mc_samples=3000,
                                     rngs=[np.random.default_rng(i) for i in range(3)],
                                     device="cpu")
        for i, (model, _, split, _) in enumerate(ms):
            ref = test_overlap(Predictor(model, 16, torch.device("cpu")), state,
                               split.excluded, target, exact_max_states=limit,
                               mc_samples=3000, rng=np.random.default_rng(i),
                               test_mass=split.test_mass / state.norm_squared)
            for key in ("overlap_method", "overlap_samples", "overlap_draws"):
                assert got[i][key] == ref[key], key
            for key in ("overlap", "overlap_se", "sign_accuracy", "sign_accuracy_weighted"):
                assert got[i][key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12,
                                                    nan_ok=True), key
    assert got[2]["overlap_method"] == "monte_carlo"


# ----------------------------------------------------------------------------- resume
class Killed(Exception):
    pass


def test_killed_ensemble_publishes_nothing_and_resumes_its_finished_members(
        square16, tmp_path, monkeypatch, caplog):
    members = [(0, 0.01), (1, 0.2), (2, 0.2)]  # the εtrain = 0.01 member stops long before
    dirs = run_dirs(tmp_path / "results", members)
    argv = stage_args(square16) + ["--runs", *map(str, dirs)]
    clean = run_dirs(tmp_path / "clean", members)
    train_stage.train_runs(train_stage.parse_args(
        stage_args(square16) + ["--runs", *map(str, clean)]))
    save = train_stage._Resume.save

    def save_then_die(self, *a, **k):
        save(self, *a, **k)
        raise Killed  # the job is killed right after the first member was saved

    monkeypatch.setattr(train_stage._Resume, "save", save_then_die)
    with pytest.raises(Killed):
        train_stage.train_runs(train_stage.parse_args(argv))
    assert not any(d.exists() for d in dirs)  # no member output looks complete
    saved = list((tmp_path / "results/train/.ensembles").glob("*/member-*.pt"))
    assert len(saved) == 1
    monkeypatch.setattr(train_stage._Resume, "save", save)
    with caplog.at_level("INFO"):
        rows = train_stage.train_runs(train_stage.parse_args(argv))
    assert "reusing 1 member(s)" in caplog.text
    assert not (tmp_path / "results/train/.ensembles").exists()
    first, _ = read(dirs[0])
    reference, _ = read(clean[0])
    for key in set(first) - TIMING:  # trained in the full composition: the same numbers
        assert first[key] == reference[key] or (first[key] != first[key]), key
    assert [r["ensemble_size"] for r in rows] == [3, 2, 2]  # the others trained as a pair
    assert rows[1]["ensemble_id"] == rows[2]["ensemble_id"] != rows[0]["ensemble_id"]


def test_resume_ignores_a_save_with_other_settings(square16, tmp_path, monkeypatch):
    members = [(0, 0.01), (1, 0.2)]
    dirs = run_dirs(tmp_path / "results", members)
    save = train_stage._Resume.save

    def save_then_die(self, *a, **k):
        save(self, *a, **k)
        raise Killed

    monkeypatch.setattr(train_stage._Resume, "save", save_then_die)
    with pytest.raises(Killed):
        train_stage.train_runs(train_stage.parse_args(
            stage_args(square16) + ["--runs", *map(str, dirs)]))
    monkeypatch.setattr(train_stage._Resume, "save", save)
    rows = train_stage.train_runs(train_stage.parse_args(
        stage_args(square16, "dense2", "sign", "--lr", "0.002") + ["--runs", *map(str, dirs)]))
    assert [r["ensemble_size"] for r in rows] == [2, 2] and rows[0]["lr"] == 0.002


# ----------------------------------------------------------------------------- the stage
def test_ensemble_of_mixed_expressibility_and_cnn_members(square16, tmp_path):
    """εtrain = 1 (weighted: every state once) next to an ordinary member, CNN, amplitudes."""
    members = [(0, 1.0), (1, 0.1)]
    dirs = run_dirs(tmp_path, members, arch="cnn", target="amplitude")
    rows = train_stage.train_runs(train_stage.parse_args(
        stage_args(square16, "cnn", "amplitude", "--expressibility-mode", "weighted",
                   "--max-epochs", "5") + ["--runs", *map(str, dirs)]))
    expressibility, ordinary = rows
    assert expressibility["expressibility"] and expressibility["test_states"] == 12870
    assert expressibility["n_train"] == 12870 and expressibility["expressibility_mode"] == \
        "weighted"
    assert not ordinary["expressibility"] and ordinary["n_train"] == 1287
    assert all(0 < r["overlap"] <= 1 and math.isnan(r["sign_overlap"]) for r in rows)


BAD_RUNS = [
    ("seed", "--runs replaces --seed: give one or the other"),
    ("arch", "arch dense2, not --arch dense1"),
    ("not a run", "not a run directory"),
    ("twice", "--runs names a run twice"),
]


@pytest.mark.parametrize("case,message", BAD_RUNS)
def test_bad_runs_are_one_line_errors(square16, tmp_path, capsys, case, message):
    dirs = [str(d) for d in run_dirs(tmp_path, [(0, 0.1), (1, 0.1)])]
    argv = stage_args(square16, "dense1" if case == "arch" else "dense2")
    if case == "seed":
        argv += ["--seed", "0"]
    elif case == "not a run":
        dirs[1] = str(tmp_path / "run")
    elif case == "twice":
        dirs[1] = dirs[0]
    assert train_stage.main(argv + ["--runs", *dirs]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not (tmp_path / "train").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_ensemble_matches_the_cpu_ensemble(square16, tmp_path):
    """On CUDA the data stay on the device; draws and test sets are the CPU's exactly, the
    training agrees to rounding (other kernels: the tolerance of the CPU comparison)."""
    members = [(0, 0.05), (1, 0.2)]
    cpu = train_stage.train_runs(train_stage.parse_args(
        stage_args(square16, "dense2", "sign", "--device", "cpu") +
        ["--runs", *map(str, run_dirs(tmp_path / "cpu", members))]))
    gpu = train_stage.train_runs(train_stage.parse_args(
        stage_args(square16, "dense2", "sign", "--device", "cuda") +
        ["--runs", *map(str, run_dirs(tmp_path / "gpu", members))]))
    for c, g in zip(cpu, gpu, strict=True):
        assert g["device"].startswith("cuda")
        for key in EXACT:
            assert c[key] == g[key], key
        assert abs(c["overlap"] - g["overlap"]) <= 0.05
