"""Overlap formulas on hand-made states, streaming sums, the test set and Monte Carlo."""

import math

import numpy as np
import pytest

from nqsgen.basis import SzBasis
from nqsgen.overlaps import (
    OverlapSums,
    amplitude_overlap,
    draw_test_states,
    exact_test_overlap,
    mc_overlap,
    mc_sample_size,
    sign_overlap,
    test_overlap,
)

PSI = np.array([0.5, -0.5, 0.5, 0.3, -0.3, -np.sqrt(1 - 0.25 * 3 - 0.18)])


def test_sign_overlap_exact_flipped_and_partial():
    signs = np.sign(PSI)
    assert sign_overlap(PSI, signs) == pytest.approx(1.0, abs=1e-15)
    assert sign_overlap(PSI, -signs) == pytest.approx(-1.0, abs=1e-15)
    wrong_first = signs.copy()
    wrong_first[0] *= -1  # |ψ_0|² = 0.25 of the unit mass has the wrong sign
    assert sign_overlap(PSI, wrong_first) == pytest.approx(1 - 2 * 0.25, abs=1e-15)
    assert sign_overlap(2 * PSI, wrong_first) == pytest.approx(0.5, abs=1e-15)  # normalised


def test_amplitude_overlap_exact_scaled_and_known_value():
    log_abs = np.log(np.abs(PSI))
    assert amplitude_overlap(PSI, log_abs) == pytest.approx(1.0, abs=1e-15)
    assert amplitude_overlap(PSI, log_abs + 3.7) == pytest.approx(1.0, abs=1e-15)
    assert amplitude_overlap(PSI, log_abs + 800.0) == pytest.approx(1.0, abs=1e-15)  # no inf
    flat = np.zeros_like(PSI)  # a_i = 1: overlap = Σ|ψ| / sqrt(n)
    assert amplitude_overlap(PSI, flat) == pytest.approx(np.abs(PSI).sum() / math.sqrt(6))


def test_streaming_sums_equal_one_shot():
    rng = np.random.default_rng(0)
    psi = rng.normal(size=1000)
    psi /= np.linalg.norm(psi)
    for target, output in (("sign", rng.normal(size=1000)), ("amplitude", rng.normal(size=1000))):
        whole, parts = OverlapSums(target), OverlapSums(target)
        whole.add(psi, output)
        for lo in range(0, 1000, 97):
            parts.add(psi[lo:lo + 97], output[lo:lo + 97])
        for key, value in whole.result().items():
            assert parts.result()[key] == pytest.approx(value, rel=1e-12, nan_ok=True)
    sums = OverlapSums("sign")
    sums.add(psi, np.where(psi >= 0, 1.0, -1.0) * np.where(np.arange(1000) < 100, -1, 1))
    result = sums.result()
    assert result["sign_accuracy"] == 0.9
    assert result["sign_accuracy_weighted"] == pytest.approx(1 - np.sum(psi[:100] ** 2))


def test_amplitude_shift_rescales_earlier_chunks():
    psi = np.array([0.6, 0.8])
    sums = OverlapSums("amplitude")
    sums.add(psi[:1], np.log([0.6]) + 700)
    sums.add(psi[1:], np.log([0.8]) + 710)  # e^710 overflows float64; a new running maximum
    expected = (0.36 * np.exp(-10) + 0.64) / np.sqrt(0.36 * np.exp(-20) + 0.64)
    assert sums.result()["overlap"] == pytest.approx(expected, rel=1e-14)


def test_monte_carlo_estimates_agree_with_exact_within_errors():
    rng = np.random.default_rng(1)
    psi = rng.normal(size=5000)
    psi /= np.linalg.norm(psi)
    signs = np.where(rng.random(5000) < 0.8, np.sign(psi), -np.sign(psi))
    log_a = np.log(np.abs(psi)) + 0.3 * rng.normal(size=5000)
    idx = rng.choice(5000, size=200_000, p=psi**2)
    for target, output, exact in (("sign", signs, sign_overlap(psi, signs)),
                                  ("amplitude", log_a, amplitude_overlap(psi, log_a))):
        value, se = mc_overlap(target, psi[idx], output[idx])
        assert 0 < se < 0.01
        assert abs(value - exact) < 5 * se


class FakeState:
    """A stored-ground-state stand-in: random normalised ψ over the Sz=0 basis of 12 sites,
    with the reader interface the overlaps use (chunks, look-ups, ψ² draws of states)."""

    def __init__(self, seed=0):
        self.basis = SzBasis(12)
        self.dimension = self.basis.dimension
        psi = np.random.default_rng(seed).normal(size=self.dimension)
        self._psi = psi / np.linalg.norm(psi)
        self.norm_squared = 1.0

    def vector(self):
        return self._psi

    def amplitude(self, states):
        return self._psi[self.basis.index(states)]

    def iter_chunks(self, columns=("state", "amplitude"), batch_rows=100):
        for lo in range(0, self.dimension, batch_rows):
            hi = min(lo + batch_rows, self.dimension)
            yield lo, {"state": self.basis.states(lo, hi), "amplitude": self._psi[lo:hi]}

    def sample_states(self, n, rng):
        cdf = np.cumsum(self._psi**2)
        idx = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"),
                         self.dimension - 1)
        return self.basis.states_at(idx)


def exact_sign_predict(state, flip_every=7):
    """A fake network: the exact sign, flipped on every 7th basis index."""
    def predict(states):
        idx = state.basis.index(states)
        logit = np.where(state.vector()[idx] >= 0, 1.0, -1.0)
        return np.where(idx % flip_every == 0, -logit, logit)
    return predict


def excluded_states(state, n=300, seed=2):
    idx = np.unique(np.random.default_rng(seed).integers(0, state.dimension, n))
    return idx, state.basis.states_at(idx)


def test_exact_test_set_excludes_training_and_validation_states():
    state = FakeState()
    excluded_idx, excluded = excluded_states(state)
    seen = []
    predict = exact_sign_predict(state)

    def recording(states):
        seen.append(states.copy())
        return predict(states)

    out = exact_test_overlap(recording, state, excluded, "sign", chunk=100)
    seen = state.basis.index(np.concatenate(seen))
    assert len(seen) == state.dimension - len(excluded) == out["overlap_samples"]
    assert not np.isin(seen, excluded_idx).any() and len(np.unique(seen)) == len(seen)
    test = np.setdiff1d(np.arange(state.dimension), excluded_idx)
    psi = state.vector()[test]
    expected = np.where(test % 7 == 0, -1.0, 1.0)
    assert out["overlap"] == pytest.approx(np.sum(psi**2 * expected) / np.sum(psi**2),
                                           rel=1e-12)
    assert out["sign_accuracy"] == pytest.approx(np.mean(test % 7 != 0))
    assert out["overlap_method"] == "exact" and out["overlap_se"] == 0.0


def test_monte_carlo_mode_above_the_threshold():
    state = FakeState()
    excluded_idx, excluded = excluded_states(state)
    test_mass = 1 - np.sum(state.vector()[excluded_idx] ** 2)
    predict = exact_sign_predict(state)
    exact = test_overlap(predict, state, excluded, "sign", exact_max_states=state.dimension,
                         mc_samples=10, rng=np.random.default_rng(0))
    mc = test_overlap(predict, state, excluded, "sign", exact_max_states=state.dimension - 1,
                      mc_samples=50_000, rng=np.random.default_rng(0), test_mass=test_mass)
    assert exact["overlap_method"] == "exact" and mc["overlap_method"] == "monte_carlo"
    # exactly the requested accepted draws; the rejected ones (in train ∪ val) on top
    assert mc["overlap_samples"] == 50_000 < mc["overlap_draws"]
    assert 0 < mc["overlap_se"] < 0.01
    assert abs(mc["overlap"] - exact["overlap"]) < 5 * mc["overlap_se"]
    assert abs(mc["sign_accuracy"] - exact["sign_accuracy"]) < 0.01
    assert mc["inference_states_per_s"] > 0


def test_monte_carlo_draws_never_land_in_train_or_validation():
    state = FakeState()
    _, excluded = excluded_states(state, n=600)
    accepted, drawn = draw_test_states(
        lambda m: state.sample_states(m, np.random.default_rng(m)), excluded, 20_000, 0.5)
    assert len(accepted) == 20_000 and drawn > 20_000
    assert not np.isin(accepted, excluded).any()


def test_monte_carlo_size_bounds_the_sign_overlap_error():
    # SE of a mean of ±1 values is sqrt((1 - O²)/n) ≤ 1/√n: n = ⌈1/SE²⌉
    assert mc_sample_size(0.005) == 40_000 and mc_sample_size(0.01) == 10_000
