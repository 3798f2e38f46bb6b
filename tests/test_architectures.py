"""Architectures as plug-ins (nqsgen.architectures): the registry, the built-ins' numbers
unchanged by the move onto it, a plug-in trained through the stage, and the G-CNN — exact
equivariance ψ(g·s) = χ(g) ψ(s) over every group element on every lattice, its sector read
from the ground state, its ensembles, and learning the Marshall sign of square_16."""

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

from nqsgen import architectures
from nqsgen.architectures.gcnn import GroupCNN, apply, sector_characters, space_group
from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.datasets import seed_streams
from nqsgen.ensemble import init_member
from nqsgen.errors import ConfigError
from nqsgen.models import ModelConfig, StackedNetwork, build_model, count_parameters
from nqsgen.paths import train_run_dir
from nqsgen.stages import train as train_stage
from nqsgen.storage import GroundState
from nqsgen.symmetry.group import cluster_group

DATA = Path(__file__).parent / "data"
# square (plain and tilted: square_10 = (3,1),(1,-3)), triangular (tilted triangular_12),
# kagome (3 sublattices; kagome_24 = (1,2),(-3,2))
LATTICES = ["square_10", "square_16", "triangular_12", "kagome_12", "kagome_24"]


@pytest.fixture(scope="module")
def square16(tmp_path_factory):
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_16"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0", "--out", out,
               "--solver", "scipy")
    return out


# ----------------------------------------------------------------------------- registry
def test_builtins_are_registered_and_read_by_the_config():
    from nqsgen.config.workflow import J2SweepExperiment

    assert architectures.builtin_names() == ("dense1", "dense2", "cnn", "gcnn")
    assert set(train_stage.ARCHS) == set(architectures.builtin_names())
    exp = J2SweepExperiment(kind="j2_sweep", clusters=["kagome_24"], archs=["gcnn"])
    assert exp.archs == ["gcnn"]
    with pytest.raises(ConfigError, match="unknown architecture 'nope'.*known: dense1"):
        ModelConfig(arch="nope").validate()


def test_dense_and_cnn_numbers_are_those_before_the_move():
    """Parameters, outputs and the batch generator of dense1, dense2 and cnn for fixed seeds,
    against the values recorded with the implementation before the registry existed
    (tests/data/record_architecture_reference.py).  Parameters and generator states are
    exact; float32 outputs agree to a few ulps of a sum over ≤ 64 terms (rtol 1e-5), since
    torch picks other kernels (summation orders) on other CPUs (AVX2 vs AVX-512)."""
    reference = json.loads((DATA / "architecture_reference.json").read_text())
    for name in ("square_16", "kagome_12", "square_10"):
        cluster = get_cluster(name)
        g = torch.Generator().manual_seed(0)
        x = (torch.randint(0, 2, (6, cluster.n_sites), generator=g) * 2 - 1).float()
        for arch in ("dense1", "dense2", "cnn"):
            config = ModelConfig(arch=arch, width=16, channels=4)
            models = []
            for seed in (0, 5):
                model, gen = init_member(seed_streams(seed), config, cluster)
                models.append(model)
                ref = reference[f"{name}/{arch}/seed={seed}"]
                with torch.no_grad():
                    np.testing.assert_allclose(model(x).double().numpy(), ref["outputs"],
                                               rtol=1e-5, atol=1e-7)
                    for n, p in model.named_parameters():
                        assert [float(p.double().sum()), float((p.double() ** 2).sum()),
                                float(p.reshape(-1)[0])] == ref["params"][n], (name, arch, n)
                assert int(torch.randint(0, 2**31, (1,), generator=gen)) == ref["generator"]
            with torch.no_grad():
                stacked = StackedNetwork(models).forward_shared(x).double().tolist()
            np.testing.assert_allclose(stacked, reference[f"{name}/{arch}/stacked"],
                                       rtol=1e-5, atol=1e-7)


class Tiny(nn.Module):
    """The README's example plug-in: one linear layer, σ (B, N) → (B,)."""

    def __init__(self, n_sites: int):
        super().__init__()
        self.n_sites = n_sites  # generic stacking (ensembles) reads N from here
        self.linear = nn.Linear(n_sites, 1)

    def forward(self, x):
        return self.linear(x).squeeze(-1)


@pytest.fixture
def tiny():
    architectures.register("tiny", lambda config, cluster, context: Tiny(cluster.n_sites),
                           "one linear layer (test plug-in)")
    yield "tiny"
    architectures.unregister("tiny")


def test_a_registered_plugin_trains_through_the_stage_alone_and_in_an_ensemble(
        square16, tmp_path, tiny):
    common = ["--cluster", "square_16", "--target", "sign", "--arch", "tiny",
              "--ground-state", str(square16), "--max-epochs", "3"]
    row = train_stage.train(train_stage.parse_args(
        [*common, "--j2", "0", "--eps", "0.05", "--seed", "0", "--out", str(tmp_path / "one")]))
    assert row["arch"] == "tiny" and row["n_parameters"] == 17 and row["epochs"] == 3
    runs = [train_run_dir("square_16", 0.0, "sign", "tiny", 0.05, s, root=tmp_path / "r")
            for s in (0, 1)]
    rows = train_stage.train_runs(train_stage.parse_args([*common, "--runs", *map(str, runs)]))
    assert [r["ensemble_size"] for r in rows] == [2, 2]
    metrics = pq.read_table(runs[0] / "metrics.parquet").to_pylist()[0]
    assert metrics["arch"] == "tiny" and metrics["epochs"] == 3
    # the ensemble member is the separate run (same draws and initialisation)
    assert rows[0]["train_unique"] == row["train_unique"]
    assert abs(rows[0]["overlap"] - row["overlap"]) < 1e-4


@pytest.mark.parametrize("arch,message", [("nope", "argument --arch: invalid choice: 'nope'"),
                                          ("gcnn", "no one-dimensional sector")])
def test_bad_architectures_are_one_line_errors(square16, tmp_path, capsys, arch, message,
                                               monkeypatch):
    if arch == "gcnn":  # as if the ground state were in no sector: ψ(g·s)/ψ(s) is not ±1
        from nqsgen.architectures import gcnn

        def swap_sites_0_and_1(states, perm, flip, n):  # no symmetry of square_16
            s = np.asarray(states, dtype=np.uint64)
            b0, b1 = s & np.uint64(1), (s >> np.uint64(1)) & np.uint64(1)
            return s & ~np.uint64(3) | (b0 << np.uint64(1)) | b1

        monkeypatch.setattr(gcnn, "apply", swap_sites_0_and_1)
    code = train_stage.main(["--cluster", "square_16", "--j2", "0", "--target", "sign",
                             "--arch", arch, "--eps", "0.05", "--seed", "0", "--out",
                             str(tmp_path / "run"), "--ground-state", str(square16)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]


# ----------------------------------------------------------------------------- G-CNN
def act_on_spins(x: torch.Tensor, perm: np.ndarray, flip: bool) -> torch.Tensor:
    """g·σ: the spin on site i moves to site perm[i], then every spin flips if g inverts."""
    moved = torch.empty_like(x)
    moved[:, torch.from_numpy(perm.copy())] = x
    return -moved if flip else moved


def nontrivial_sector(cluster, inversion: bool) -> np.ndarray:
    """χ of the last one-dimensional real sector of the space group (× inversion): some
    characters are −1."""
    perms, _ = space_group(cluster, inversion)
    sectors = cluster_group(cluster, "full").sectors  # elements: spatial, then × inversion
    chars = [s.characters[:len(perms)] for s in sectors if (s.characters[:len(perms)] < 0).any()]
    return np.asarray(chars[-1], dtype=np.float64)


@pytest.mark.parametrize("inversion", [False, True])
@pytest.mark.parametrize("name", LATTICES)
def test_gcnn_is_equivariant_under_every_group_element(name, inversion):
    cluster = get_cluster(name)
    perms, flips = space_group(cluster, inversion)
    assert len(perms) == len(cluster.symmetry_group()) * (2 if inversion else 1)
    chars = nontrivial_sector(cluster, inversion)
    assert (chars == -1).any() and (chars == 1).any()
    torch.manual_seed(0)
    sign = GroupCNN(cluster, chars, 4, inversion=inversion).double().eval()
    amp = GroupCNN(cluster, np.ones(len(perms)), 4, target="amplitude",
                   inversion=inversion).double().eval()
    x = (torch.randint(0, 2, (40, cluster.n_sites), generator=torch.Generator().manual_seed(1))
         * 2 - 1).double()
    with torch.no_grad():
        logit, log_amp = sign(x), amp(x)
        scale = float(logit.abs().max())
        moved = torch.cat([act_on_spins(x, perms[g], flips[g]) for g in range(len(perms))])
        out = sign(moved).view(len(perms), -1)
        expected = torch.from_numpy(chars)[:, None] * logit
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12 * scale)
        clear = (logit.abs() > 1e-9 * scale).expand_as(out)  # signs where the logit is not ~ 0
        assert torch.equal(torch.sign(out[clear]), torch.sign(expected[clear]))
        torch.testing.assert_close(amp(moved).view(len(perms), -1),
                                   log_amp.expand(len(perms), -1), rtol=0, atol=1e-12)
        # not vacuous: a generic permutation of the sites changes the outputs
        shuffled = x[:, torch.randperm(cluster.n_sites, generator=torch.Generator()
                                       .manual_seed(3))]
        assert (sign(shuffled) - logit).abs().max() > 1e-3 * scale


def test_gcnn_sector_is_read_from_the_ground_state(square16):
    """square_16 at J2 = 0 (Marshall sign, N/2 even): every character of the space group ×
    inversion is +1, and ψ(g·s) = χ(g) ψ(s) holds over the whole basis for every g; a sector
    with χ = −1 is read correctly too (a state of the sector built by projection)."""
    cluster = get_cluster("square_16")
    state = GroundState.open(square16)
    perms, flips = space_group(cluster, True)
    chars = sector_characters(perms, flips, state)
    assert (chars == 1).all()
    states, psi = SzBasis(16).states(), state.vector()
    for g in range(0, len(perms), 17):
        moved = state.amplitude(apply(states, perms[g], flips[g], 16))
        np.testing.assert_allclose(moved, chars[g] * psi, atol=1e-10)
    # a nontrivial sector: P_χ ψ_rand = Σ_g χ(g) g·ψ_rand, stored as a fake ground state
    target = nontrivial_sector(cluster, True)
    rng = np.random.default_rng(0)
    vec = rng.normal(size=len(states))
    projected = np.zeros_like(vec)
    index = SzBasis(16).index
    for g in range(len(perms)):  # (g·v)(g·s) = v(s)
        projected[index(apply(states, perms[g], flips[g], 16))] += target[g] * vec
    projected /= np.linalg.norm(projected)

    class Fake:
        def amplitude(self, s):
            return projected[index(np.asarray(s, dtype=np.uint64))]

        def sample_states(self, n, generator):
            return states[generator.choice(len(states), n, p=projected**2)]

    np.testing.assert_array_equal(sector_characters(perms, flips, Fake()), target)


def test_gcnn_needs_a_sector_and_a_group():
    cluster = get_cluster("kagome_12")
    with pytest.raises(ConfigError, match="needs the ground state's sector"):
        build_model(ModelConfig(arch="gcnn", channels=2), cluster)
    with pytest.raises(ConfigError, match="no one-dimensional real representation"):
        build_model(ModelConfig(arch="gcnn", channels=2), cluster,
                    characters=-np.ones(len(cluster.symmetry_group())))
    amplitude = build_model(ModelConfig(arch="gcnn", channels=2), cluster, target="amplitude")
    assert count_parameters(amplitude) == sum(p.numel() for n, p in
                                              amplitude.named_parameters() if n != "chi")


def test_stacked_gcnn_members_keep_their_own_sectors():
    """Members of different sectors (as an ensemble over J2 would have) stacked generically:
    outputs are the members', the characters are not trained and not counted."""
    cluster = get_cluster("kagome_12")
    config = ModelConfig(arch="gcnn", channels=3)
    sectors = [np.ones(len(cluster.symmetry_group())), nontrivial_sector(cluster, False)]
    models = []
    for seed, chars in enumerate(sectors * 2):
        torch.manual_seed(seed)
        models.append(build_model(config, cluster, characters=chars))
    net = StackedNetwork(models)
    assert net.kind == "generic" and net.n_parameters == count_parameters(models[0])
    x = (torch.randint(0, 2, (4, 9, 12), generator=torch.Generator().manual_seed(0)) * 2
         - 1).float()
    with torch.no_grad():
        torch.testing.assert_close(net(x), torch.stack([m(x[i]) for i, m in enumerate(models)]))
        torch.testing.assert_close(net.forward_shared(x[0]),
                                   torch.stack([m(x[0]) for m in models]))
    loss = net(x, training=True).square().sum()
    loss.backward()
    chi = net.names.index("chi")
    assert net.params[chi].grad is None
    fresh = net.load_member(build_model(config, cluster, characters=sectors[0]), 1)
    assert torch.equal(fresh.chi, models[1].chi)


GCNN_SMALL = ["--channels", "8", "--lr", "0.003", "--activation", "tanh"]


def test_gcnn_learns_the_marshall_sign_of_square_16(square16, tmp_path):
    row = train_stage.train(train_stage.parse_args(
        ["--cluster", "square_16", "--target", "sign", "--arch", "gcnn", "--ground-state",
         str(square16), *GCNN_SMALL, "--max-epochs", "6", "--j2", "0", "--eps", "0.1",
         "--seed", "0", "--out", str(tmp_path / "run")]))
    assert row["overlap_method"] == "exact" and row["overlap"] > 0.99, row["overlap"]
    assert row["n_parameters"] == 16 * 8 + 8 + 128 * 8 * 8 + 8 + 8 + 1


@pytest.mark.slow
def test_gcnn_ensemble_with_spin_inversion_learns_the_marshall_sign(square16, tmp_path):
    runs = [train_run_dir("square_16", 0.0, "sign", "gcnn", 0.1, s, root=tmp_path)
            for s in (0, 1)]
    rows = train_stage.train_runs(train_stage.parse_args(
        ["--cluster", "square_16", "--target", "sign", "--arch", "gcnn", "--ground-state",
         str(square16), *GCNN_SMALL, "--gcnn-group", "space+inversion", "--max-epochs", "6",
         "--runs", *map(str, runs)]))
    assert [r["ensemble_size"] for r in rows] == [2, 2]
    assert all(r["overlap"] > 0.99 for r in rows), [r["overlap"] for r in rows]


def test_job_memory_counts_the_gcnn_matrices():
    from nqsgen.architectures.gcnn import memory_bytes
    from nqsgen.plan import _network_bytes

    square16 = get_cluster("square_16")
    # (|G|·C)² = (128·16)² float32 entries per member (matrix, gradient, temporary) + index
    assert memory_bytes(square16, 16, False, 32) == 4 * 2048**2 * (3 * 32 + 1)
    assert _network_bytes("gcnn", square16, {"channels": None}, 32) == memory_bytes(
        square16, 16, False, 32)
    assert _network_bytes("dense2", square16, {}, 32) == 0
