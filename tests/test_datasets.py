"""Training/validation draws from ψ², their unique counts and mass, and the test set — from
states and amplitude look-ups, the same for full and symmetric ground states."""

import numpy as np
import pytest

from nqsgen.datasets import (
    Sample,
    check_fractions,
    check_memory,
    default_eps_val,
    in_sorted,
    in_test_set,
    make_split,
    memory_needed,
    sample_size,
    seed_streams,
)
from nqsgen.errors import ConfigError
from nqsgen.storage import GroundState, SymmetricGroundState


@pytest.fixture(scope="module")
def square10(tmp_path_factory):
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_10"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_10", "--j2", "0.5", "--out", out,
               "--solver", "scipy")
    return GroundState.open(out)


@pytest.fixture(scope="module")
def square16_symmetric(tmp_path_factory):
    """square_16 at J2 = 0.5 through the full space group and spin inversion."""
    from tests.conftest import run_module

    out = tmp_path_factory.mktemp("gs") / "square_16"
    run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", "0.5", "--out", out,
               "--symmetries", "full", "--solver", "scipy")
    return out


def reference_split(state, eps_train, eps_val, seed):
    """The full-vector path: the same draws (as basis indices), labels, unique counts and
    masses taken from the materialised vector ψ (what the train stage did before it learnt
    from states and look-ups)."""
    psi, basis, k = state.vector(), state.basis, state.dimension
    streams = seed_streams(seed)
    out = {}
    for name, eps in (("train", eps_train), ("val", eps_val)):
        idx = state.sample(sample_size(eps, k), streams[name])
        distinct = np.unique(idx)
        out[name] = dict(states=basis.states_at(idx), amplitudes=psi[idx],
                         unique=len(distinct), mass=float(np.sum(psi[distinct] ** 2)),
                         indices=idx)
    union = np.union1d(out["train"]["indices"], out["val"]["indices"])
    out["excluded"] = basis.states_at(union)
    out["test_mass"] = 1.0 - float(np.sum(psi[union] ** 2))
    return out


def assert_split_equals_reference(split, ref):
    for name in ("train", "val"):
        sample, expected = getattr(split, name), ref[name]
        np.testing.assert_array_equal(sample.states, expected["states"])
        np.testing.assert_array_equal(sample.amplitudes, expected["amplitudes"])  # bit for bit
        assert sample.unique == expected["unique"]
        assert sample.mass == pytest.approx(expected["mass"], rel=1e-13)
    np.testing.assert_array_equal(split.excluded, ref["excluded"])
    assert split.test_mass == pytest.approx(ref["test_mass"], abs=1e-13)


def test_split_sizes_unique_counts_and_mass(square10):
    split = make_split(square10, 0.3, 0.1, seed_streams(0))
    k = square10.dimension  # 252
    assert len(split.train) == round(0.3 * k) and len(split.val) == round(0.1 * k)
    for sample in (split.train, split.val):
        assert sample.unique < len(sample)  # drawn with replacement
        assert sample.weights is None
    assert split.test_states == k - len(split.excluded)
    assert not split.expressibility
    assert_split_equals_reference(split, reference_split(square10, 0.3, 0.1, 0))


def test_symmetric_state_gives_the_full_vector_paths_examples(square16_symmetric):
    """Issue 10: learning from the symmetric state (its own sampler, amplitude look-ups via the
    representatives) gives bit-identical examples, labels, unique counts and masses to the
    full-vector path for the same seed."""
    state = GroundState.open(square16_symmetric)
    assert isinstance(state, SymmetricGroundState)
    split = make_split(state, 0.02, 0.01, seed_streams(3))  # look-ups, no vector yet
    assert state._vector is None  # the learning path never expanded the full basis
    assert len(split.train) == round(0.02 * 12870) and split.train.unique > 100
    assert_split_equals_reference(split, reference_split(state, 0.02, 0.01, 3))


def test_draws_follow_psi_squared(square10):
    psi = square10.vector()
    idx = np.concatenate([square10.basis.index(make_split(square10, 1.0, 1.0,
                                                          seed_streams(s)).train.states)
                          for s in range(80)])
    freq = np.bincount(idx, minlength=len(psi)) / len(idx)
    big = psi**2 > 0.01
    np.testing.assert_allclose(freq[big], psi[big] ** 2, rtol=0.15)


def test_seeds(square10):
    a, b = (make_split(square10, 0.2, 0.2, seed_streams(s)) for s in (7, 7))
    c = make_split(square10, 0.2, 0.2, seed_streams(8))
    assert np.array_equal(a.train.states, b.train.states)
    assert np.array_equal(a.val.states, b.val.states)
    assert not np.array_equal(a.train.states, c.train.states)
    assert not np.array_equal(a.train.states, a.val.states)  # independent streams


def test_expressibility_modes(square10):
    k = square10.dimension
    sampled = make_split(square10, 1.0, 0.1, seed_streams(0))
    assert sampled.expressibility and len(sampled.train) == k
    assert len(sampled.excluded) == 0 and sampled.test_states == k
    assert sampled.test_mass == pytest.approx(1.0)
    weighted = make_split(square10, 1.0, 0.1, seed_streams(0), "weighted")
    nonzero = np.flatnonzero(square10.vector())
    assert np.array_equal(weighted.train.states, square10.basis.states_at(nonzero))
    assert weighted.train.unique == len(nonzero) and weighted.train.mass == pytest.approx(1.0)
    assert weighted.train.weights.sum() == pytest.approx(k, rel=1e-5)
    with pytest.raises(ConfigError, match="expressibility mode"):
        make_split(square10, 1.0, 0.1, seed_streams(0), "exhaustive")


def test_expressibility_that_does_not_fit_is_refused_in_one_line():
    # kagome_30: K = 155,117,520 examples of 30 float32 spins each need ≈ 26 GB
    need = memory_needed(1.0, 0.05, 155_117_520, 30)
    assert need == (155_117_520 + 7_755_876) * (48 + 120)
    with pytest.raises(ConfigError) as err:
        check_memory("kagome_30 J2=0.5", 1.0, 0.05, 155_117_520, 30, available=20e9)
    message = str(err.value)
    assert "\n" not in message and "kagome_30" in message and "expressibility" in message
    assert "27.4 GB" in message and "20.0 GB" in message
    check_memory("square_36 J2=0.5", 1e-4, 2e-5, 9_075_135_300, 36, available=20e9)  # fits


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.5, float("nan")])
def test_bad_fractions(eps):
    with pytest.raises(ConfigError, match=r"must be in \(0, 1\]"):
        check_fractions(eps, 0.01)
    with pytest.raises(ConfigError, match="eps-val"):
        check_fractions(0.01, eps)


def test_small_helpers(square10):
    assert sample_size(1e-9, 100) == 1 and sample_size(0.01, 2704156) == 27042
    assert default_eps_val(0.01) == 0.01 and default_eps_val(1.0) == 0.05
    excluded = np.array([3, 4, 10], dtype=np.uint64)
    probe = np.array([0, 3, 9, 10, 11], dtype=np.uint64)
    assert np.array_equal(in_test_set(excluded, probe), [True, False, True, False, True])
    assert np.array_equal(in_sorted(excluded, probe), [False, True, False, True, False])
    assert in_test_set(np.zeros(0, np.uint64), probe).all()
    states = square10.basis.states_at(np.array([0, 5, 251, 5]))
    amplitudes = np.array([0.5, -0.25, 0.0, -0.25])
    distinct, first = np.unique(states, return_index=True)
    sample = Sample(states=states, amplitudes=amplitudes, distinct=distinct,
                    distinct_amplitudes=amplitudes[first])
    assert sample.unique == 3 and sample.mass == pytest.approx(0.3125)
    assert np.array_equal(sample.targets("sign"), [1, 0, 1, 0])
    np.testing.assert_allclose(sample.targets("amplitude")[:2], np.log([0.5, 0.25]))
