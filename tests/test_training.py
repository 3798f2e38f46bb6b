"""Training: learning the Marshall sign, early stopping with restore-best, reproducibility."""

import math

import numpy as np
import pytest
import torch

from nqsgen.clusters import get_cluster
from nqsgen.datasets import make_split, seed_streams
from nqsgen.errors import ConfigError
from nqsgen.models import ModelConfig, build_model
from nqsgen.stages import train as train_stage
from nqsgen.storage import GroundState
from nqsgen.training import TrainConfig, example_losses, fit

# columns that legitimately differ between identical runs
NOT_REPRODUCIBLE = {"train_time_s", "train_samples_per_s", "eval_time_s",
                    "inference_states_per_s", "wall_time_s", "created"}


@pytest.fixture(scope="module")
def square16(tmp_path_factory):
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_16"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0", "--out", out,
               "--solver", "scipy")
    return out


def train(square16, out, *extra):
    args = ["--cluster", "square_16", "--j2", "0", "--ground-state", str(square16),
            "--out", str(out), *map(str, extra)]
    return train_stage.train(train_stage.parse_args(args))


def test_ground_state_has_the_marshall_sign(square16):
    state = GroundState.open(square16)
    colour = get_cluster("square_16").j1_colouring
    mask_a = int(sum(1 << i for i in np.flatnonzero(colour == 0)))
    ups_a = np.bitwise_count(state.states() & np.uint64(mask_a)).astype(np.int64)
    marshall = (-1.0) ** ups_a
    psi = state.vector()
    assert abs(np.sum(psi**2 * np.sign(psi) * marshall)) == pytest.approx(1.0, abs=1e-12)


def test_learns_the_marshall_sign_of_square_16(square16, tmp_path):
    metrics = train(square16, tmp_path / "run", "--target", "sign", "--arch", "cnn",
                    "--eps", "0.2", "--seed", "0", "--max-epochs", "150")
    assert metrics["overlap_method"] == "exact"
    assert metrics["test_states"] == metrics["overlap_samples"] > 0.5 * 12870
    assert metrics["overlap"] > 0.99
    assert metrics["sign_accuracy_weighted"] > 0.995


def test_learns_amplitudes(square16, tmp_path):
    metrics = train(square16, tmp_path / "run", "--target", "amplitude", "--arch", "dense2",
                    "--eps", "0.2", "--seed", "0", "--max-epochs", "100")
    assert metrics["overlap"] > 0.95 and metrics["amplitude_overlap"] == metrics["overlap"]
    assert math.isnan(metrics["sign_overlap"]) and math.isnan(metrics["sign_accuracy"])


def test_same_seed_identical_metrics_different_seed_differs(square16, tmp_path):
    common = ["--target", "sign", "--arch", "dense1", "--eps", "0.05", "--max-epochs", "8",
              "--width", "16"]
    a = train(square16, tmp_path / "a", *common, "--seed", "3")
    b = train(square16, tmp_path / "b", *common, "--seed", "3")
    c = train(square16, tmp_path / "c", *common, "--seed", "4")
    for key in set(a) - NOT_REPRODUCIBLE:
        assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key
    for key in ("overlap", "train_loss", "val_loss", "train_unique", "train_mass"):
        assert a[key] != c[key], key


def test_early_stopping_restores_the_best_epoch(square16):
    state = GroundState.open(square16)
    cluster = get_cluster("square_16")
    split = make_split(state, 0.02, 0.02, seed_streams(0))
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="dense2", width=128), cluster)
    config = TrainConfig(target="sign", lr=3e-3, patience=5, max_epochs=300)
    result = fit(model, split.train, split.val, config, 16, torch.device("cpu"),
                 torch.Generator().manual_seed(0))
    assert result.stopped_early and result.epochs == result.best_epoch + 5
    assert len(result.curves) == result.epochs
    losses = [row["val_loss"] for row in result.curves]
    assert result.val_loss == min(losses) == losses[result.best_epoch - 1]
    from nqsgen.basis import spins

    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(spins(split.val.states, 16)))
        y = torch.from_numpy(split.val.targets("sign"))
        assert float(example_losses("sign", out, y).mean()) == pytest.approx(result.val_loss,
                                                                            rel=1e-5)


def test_losses():
    logit = torch.tensor([0.0, 2.0, -1.0])
    y = torch.tensor([1.0, 0.0, 0.0])
    p = torch.sigmoid(logit)
    bce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    torch.testing.assert_close(example_losses("sign", logit, y), bce)
    torch.testing.assert_close(example_losses("amplitude", logit, y), (logit - y) ** 2)


@pytest.mark.parametrize("kwargs,message", [
    ({"target": "phase"}, "unknown target 'phase'"),
    ({"lr": 0.0}, "learning rate"),
    ({"batch_size": 0}, "batch size"),
    ({"weight_decay": -1.0}, "weight decay"),
])
def test_bad_train_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs).validate()


def test_set_threads_sets_torch_and_numba_and_resolve_device():
    import numba

    from nqsgen.devices import resolve_device, set_threads

    torch.nn.Linear(4, 4)(torch.ones(8, 4))  # torch's OpenMP pool is running
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 1):
            set_threads(threads)
            # numba's OpenMP layer must not reset torch's count (it did when set first)
            assert torch.get_num_threads() == threads
            assert numba.get_num_threads() == min(threads, numba.config.NUMBA_NUM_THREADS)
    finally:
        set_threads(previous)
    with pytest.raises(ConfigError, match="threads"):
        set_threads(0)
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        resolve_device("tpu")
