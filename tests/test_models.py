"""Networks: shapes, the lattice CNN's stencil and its translation invariance, inference."""

import itertools

import numpy as np
import pytest
import torch

from nqsgen.basis import SzBasis, spins
from nqsgen.clusters import get_cluster
from nqsgen.errors import ConfigError
from nqsgen.models import (
    LatticeCNN,
    ModelConfig,
    Predictor,
    build_model,
    cell_tables,
    count_parameters,
    fill_spins,
    kernel_translations,
    neighbour_table,
)

# square, triangular, kagome (3 sublattices) and tilted supercells: square_10 = (3,1),(1,-3);
# kagome_24 = (1,2),(-3,2); triangular_12 = (2,2),(-2,4)
CNN_CLUSTERS = ["square_16", "square_10", "triangular_12", "triangular_16", "kagome_12",
                "kagome_24"]


def random_spins(n_samples, n_sites, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 2, (n_samples, n_sites), generator=g) * 2 - 1).to(dtype)


@pytest.mark.parametrize("name", CNN_CLUSTERS)
def test_cnn_is_invariant_under_every_translation(name):
    cluster = get_cluster(name)
    torch.manual_seed(1)
    model = LatticeCNN(cluster, channels=8, radius=1.5).double().eval()
    x = random_spins(64, cluster.n_sites)
    reference = model(x)
    assert len(cluster.translations) == cluster.n_cells > 1
    for perm in cluster.translations:
        moved = torch.empty_like(x)
        moved[:, torch.from_numpy(perm.copy())] = x  # the spin on site i moves to site perm[i]
        torch.testing.assert_close(model(moved), reference, rtol=0, atol=1e-12)
    # not vacuous: a generic permutation of the sites changes the output
    shuffled = x[:, torch.randperm(cluster.n_sites, generator=torch.Generator().manual_seed(3))]
    assert (model(shuffled) - reference).abs().max() > 1e-6


def _min_image_length(cluster, dcell):
    images = np.array(list(itertools.product(range(-2, 3), repeat=2))) @ cluster.supercell
    return np.linalg.norm((dcell + images) @ cluster.lattice.vectors, axis=1).min()


@pytest.mark.parametrize("name,size", [("square_16", 9), ("square_10", 9),
                                       ("triangular_16", 7), ("kagome_24", 7)])
def test_stencil_is_the_nearest_cells_of_the_lattice(name, size):
    cluster = get_cluster(name)
    ks = kernel_translations(cluster, 1.5)
    assert len(ks) == size and ks[0] == 0
    site_of, cell_of = cell_tables(cluster)
    assert site_of.shape == (cluster.n_cells, cluster.lattice.n_sublattices)
    assert np.array_equal(cell_of[site_of], np.repeat(np.arange(cluster.n_cells)[:, None],
                                                      site_of.shape[1], axis=1))
    assert (cluster.sublattice[site_of] == np.arange(site_of.shape[1])).all()
    table = neighbour_table(cluster, 1.5)
    for c, j in itertools.product(range(cluster.n_cells), range(size)):
        d = cluster.cells[site_of[table[c, j], 0]] - cluster.cells[site_of[c, 0]]
        assert _min_image_length(cluster, d) <= 1.5 + 1e-9
    # every row of the table is a set of distinct cells
    assert all(len(set(row)) == size for row in table)


@pytest.mark.parametrize("arch,params", [("dense1", 16 * 64 + 64 + 64 + 1),
                                         ("dense2", 16 * 64 + 64 + 64 * 64 + 64 + 64 + 1)])
def test_dense_networks(arch, params):
    model = build_model(ModelConfig(arch=arch), get_cluster("square_16"))
    assert count_parameters(model) == params
    assert model(random_spins(5, 16, dtype=torch.float32)).shape == (5,)


def test_dropout_and_activation_are_configurable():
    model = build_model(ModelConfig(arch="cnn", channels=4, activation="tanh", dropout=0.5),
                        get_cluster("kagome_12"))
    assert any(isinstance(m, torch.nn.Dropout) for m in model.modules())
    assert any(isinstance(m, torch.nn.Tanh) for m in model.modules())


@pytest.mark.parametrize("kwargs,message", [
    ({"arch": "resnet"}, "unknown architecture 'resnet'"),
    ({"activation": "swish"}, "unknown activation"),
    ({"dropout": 1.0}, "dropout"),
    ({"width": 0}, "width"),
    ({"kernel_radius": 0.0}, "kernel radius"),
])
def test_bad_model_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_model(ModelConfig(**kwargs), get_cluster("square_16"))


def test_fill_spins_matches_basis_spins():
    states = SzBasis(12).states()
    out = np.empty((len(states), 12), dtype=np.float32)
    fill_spins(states, 12, out)
    assert np.array_equal(out, spins(states, 12, np.float32))


def test_predictor_matches_forward_in_eval_mode():
    cluster = get_cluster("square_10")
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="dense2", dropout=0.3), cluster)
    states = SzBasis(10).states()
    out = Predictor(model, 10, torch.device("cpu"), batch=37)(states)
    assert model.training  # the predictor restores the mode
    model.eval()
    with torch.no_grad():
        direct = model(torch.from_numpy(spins(states, 10, np.float32))).double().numpy()
    np.testing.assert_allclose(out, direct, rtol=1e-6, atol=1e-6)
    assert out.dtype == np.float64 and out.shape == (len(states),)
