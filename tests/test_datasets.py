"""Training/validation draws from ψ², their unique counts and mass, and the test set."""

import numpy as np
import pytest

from nqsgen.datasets import (
    Sample,
    check_fractions,
    default_eps_val,
    excluded_mask,
    in_test_set,
    make_split,
    sample_size,
    seed_streams,
    states_at,
)
from nqsgen.errors import ConfigError
from nqsgen.storage import GroundState


@pytest.fixture(scope="module")
def square10(tmp_path_factory):
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_10"
    run_module("nqsgen.ground_state", "--cluster", "square_10", "--j2", "0.5", "--out", out,
               "--solver", "scipy")
    return GroundState.open(out)


def test_split_sizes_unique_counts_and_mass(square10):
    psi, basis = square10.vector(), square10.basis
    split = make_split(square10, 0.3, 0.1, seed_streams(0))
    k = square10.dimension  # 252
    assert len(split.train) == round(0.3 * k) and len(split.val) == round(0.1 * k)
    for sample in (split.train, split.val):
        distinct = np.unique(sample.indices)
        assert sample.unique == len(distinct) < len(sample)  # drawn with replacement
        assert sample.mass == pytest.approx(np.sum(psi[distinct] ** 2))
        assert np.array_equal(sample.states, basis.states()[sample.indices])
        assert np.array_equal(sample.amplitudes, psi[sample.indices])
        assert sample.weights is None
    union = np.union1d(split.train.indices, split.val.indices)
    assert np.array_equal(split.excluded, union)
    assert split.test_states == k - len(union)
    assert split.test_mass == pytest.approx(1 - np.sum(psi[union] ** 2))
    assert not split.expressibility


def test_draws_follow_psi_squared(square10):
    psi = square10.vector()
    idx = make_split(square10, 1.0, 1.0, seed_streams(0)).train.indices
    idx = np.concatenate([idx] + [make_split(square10, 1.0, 1.0, seed_streams(s)).train.indices
                                  for s in range(1, 80)])
    freq = np.bincount(idx, minlength=len(psi)) / len(idx)
    big = psi**2 > 0.01
    np.testing.assert_allclose(freq[big], psi[big] ** 2, rtol=0.15)


def test_seeds(square10):
    a, b = (make_split(square10, 0.2, 0.2, seed_streams(s)) for s in (7, 7))
    c = make_split(square10, 0.2, 0.2, seed_streams(8))
    assert np.array_equal(a.train.indices, b.train.indices)
    assert np.array_equal(a.val.indices, b.val.indices)
    assert not np.array_equal(a.train.indices, c.train.indices)
    assert not np.array_equal(a.train.indices, a.val.indices)  # independent streams


def test_expressibility_modes(square10):
    k = square10.dimension
    sampled = make_split(square10, 1.0, 0.1, seed_streams(0))
    assert sampled.expressibility and len(sampled.train) == k
    assert len(sampled.excluded) == 0 and sampled.test_states == k
    assert sampled.test_mass == pytest.approx(1.0)
    weighted = make_split(square10, 1.0, 0.1, seed_streams(0), "weighted")
    nonzero = np.flatnonzero(square10.vector())
    assert np.array_equal(weighted.train.indices, nonzero)
    assert weighted.train.unique == len(nonzero) and weighted.train.mass == pytest.approx(1.0)
    assert weighted.train.weights.sum() == pytest.approx(k, rel=1e-5)
    with pytest.raises(ConfigError, match="expressibility mode"):
        make_split(square10, 1.0, 0.1, seed_streams(0), "exhaustive")


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.5, float("nan")])
def test_bad_fractions(eps):
    with pytest.raises(ConfigError, match=r"must be in \(0, 1\]"):
        check_fractions(eps, 0.01)
    with pytest.raises(ConfigError, match="eps-val"):
        check_fractions(0.01, eps)


def test_small_helpers(square10):
    assert sample_size(1e-9, 100) == 1 and sample_size(0.01, 2704156) == 27042
    assert default_eps_val(0.01) == 0.01 and default_eps_val(1.0) == 0.05
    basis = square10.basis
    idx = np.array([0, 5, 251, 5])
    assert np.array_equal(states_at(basis, idx), basis.states()[idx])
    excluded = np.array([3, 4, 10])
    assert np.array_equal(np.nonzero(~excluded_mask(excluded, 2, 12))[0], [1, 2, 8])
    assert np.array_equal(in_test_set(excluded, np.array([0, 3, 9, 10, 11])),
                          [True, False, True, False, True])
    assert in_test_set(np.zeros(0, np.int64), np.array([1, 2])).all()
    sample = Sample(indices=idx, states=basis.states()[idx],
                    amplitudes=np.array([0.5, -0.25, 0.0, -0.25]), unique=3, mass=0.0)
    assert np.array_equal(sample.targets("sign"), [1, 0, 1, 0])
    np.testing.assert_allclose(sample.targets("amplitude")[:2], np.log([0.5, 0.25]))
