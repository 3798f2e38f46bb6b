"""Metropolis–Hastings chains of the VMC stage: |ψ|² histograms (chi-square), Sz = 0,
autocorrelation estimate, reproducible state."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.hamiltonian import Heisenberg
from nqsgen.vmc.sampler import ExactSampler, MetropolisSampler, autocorrelation_time
from nqsgen.vmc.wavefunction import build_wavefunction

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def kagome():
    torch.set_num_threads(1)
    cluster = get_cluster("kagome_12")
    hamiltonian = Heisenberg.from_cluster(cluster, 0.5)
    wf = build_wavefunction(12, 8, "tanh", 7, CPU, torch.float64)
    with torch.no_grad():  # |ψ|² spread over ~3 decades
        wf.amplitude.net[-1].weight.mul_(5.0)
    return hamiltonian, SzBasis(12), wf


def sampler(hamiltonian, chains, per_chain, seed=1, **kw):
    options = dict(sweep_size=12, burn_in=2, initial_burn_in=20, seed=seed, device=CPU,
                   dtype=torch.float64)
    options.update(kw)
    return MetropolisSampler(hamiltonian, chains, per_chain, **options)


def chi_square_pvalue(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """Pearson's test, bins with an expected count < 5 merged into one."""
    expected = probabilities * counts.sum()
    small = expected < 5
    observed, expected_kept = counts[~small], expected[~small]
    if small.any():
        observed = np.append(observed, counts[small].sum())
        expected_kept = np.append(expected_kept, expected[small].sum())
    expected = expected_kept
    return float(scipy.stats.chisquare(observed, expected).pvalue)


def test_histogram_matches_psi_squared(kagome):
    hamiltonian, basis, wf = kagome
    exact = ExactSampler(hamiltonian, basis, CPU, torch.float64).sample(wf)
    p = exact.weights.numpy()
    assert p.max() / p.min() > 100
    mc = sampler(hamiltonian, 256, 160)
    ensemble = mc.sample(wf)
    assert len(ensemble) == 256 * 160 and 0.05 < ensemble.acceptance < 1
    assert torch.all(ensemble.spins.sum(dim=1) == 0)  # Sz = 0 throughout
    counts = np.bincount(basis.index(ensemble.states), minlength=basis.dimension)
    assert chi_square_pvalue(counts, p) > 1e-3
    # the test has power: a flat distribution, or |ψ| instead of |ψ|², is rejected
    assert chi_square_pvalue(counts, np.full(len(p), 1 / len(p))) < 1e-12
    root = np.sqrt(p) / np.sqrt(p).sum()
    assert chi_square_pvalue(counts, root) < 1e-12


def test_weights_log_psi_and_local_energies_of_the_samples(kagome):
    hamiltonian, basis, wf = kagome
    mc = sampler(hamiltonian, 8, 4)
    ensemble = mc.sample(wf)
    assert torch.allclose(ensemble.weights, torch.full((32,), 1 / 32, dtype=torch.float64))
    exact = ExactSampler(hamiltonian, basis, CPU, torch.float64)
    full = exact.sample(wf)
    index = torch.from_numpy(basis.index(ensemble.states))
    assert torch.allclose(ensemble.log_psi, full.log_psi[index], rtol=0, atol=1e-12)
    e_mc = mc.local_energies(wf, ensemble)
    e_exact = exact.local_energies(wf, full)[index]
    assert torch.allclose(e_mc, e_exact, rtol=1e-12, atol=1e-12)


def test_state_dict_reproduces_the_next_samples(kagome):
    hamiltonian, _, wf = kagome
    a = sampler(hamiltonian, 16, 5)
    a.sample(wf)
    b = sampler(hamiltonian, 16, 5, seed=99)
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.sample(wf).states, b.sample(wf).states)


def test_autocorrelation_time_of_known_series():
    rng = np.random.default_rng(0)
    chains, length = 400, 200
    white = torch.from_numpy(rng.standard_normal((length, chains)).reshape(-1))
    assert autocorrelation_time(white, chains) == pytest.approx(1.0, abs=0.2)
    rho = 0.8  # AR(1): τ = (1 + ρ) / (1 − ρ) = 9
    x = np.empty((length, chains))
    x[0] = rng.standard_normal(chains) / math.sqrt(1 - rho**2)
    for t in range(1, length):
        x[t] = rho * x[t - 1] + rng.standard_normal(chains)
    tau = autocorrelation_time(torch.from_numpy(x.reshape(-1)), chains)
    assert tau == pytest.approx(9.0, rel=0.25)
    assert math.isnan(autocorrelation_time(white[:10], 1))
