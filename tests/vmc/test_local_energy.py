"""Local energies of the VMC stage against (Hψ)/ψ with the full sparse Hamiltonian."""

import numpy as np
import pytest
import torch

from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.hamiltonian import Heisenberg
from nqsgen.vmc.local_energy import Connections, local_energies
from nqsgen.vmc.observables import exact_energy
from nqsgen.vmc.sampler import ExactSampler
from nqsgen.vmc.wavefunction import (
    build_wavefunction,
    log_psi_of_states,
    spins_tensor,
    states_of,
)

CPU = torch.device("cpu")


@pytest.fixture(scope="module", params=[("kagome_12", 0.7), ("square_10", 0.5)])
def system(request):
    torch.set_num_threads(1)
    name, j2 = request.param
    cluster = get_cluster(name)
    hamiltonian = Heisenberg.from_cluster(cluster, j2)
    basis = SzBasis(cluster.n_sites)
    wf = build_wavefunction(cluster.n_sites, 8, "tanh", 3, CPU, torch.float64)
    with torch.no_grad():  # a rugged amplitude and a phase far from real
        wf.amplitude.net[-1].weight.mul_(4.0)
        wf.phase.net[-1].weight.mul_(6.0)
    psi = torch.exp(log_psi_of_states(wf, basis.states(), 64)).numpy()
    return hamiltonian, basis, wf, psi


def test_monte_carlo_path_equals_h_psi_over_psi(system):
    hamiltonian, basis, wf, psi = system
    expected = (hamiltonian.csr(basis) @ psi) / psi
    assert np.ptp(np.angle(psi)) > 1  # the phases really are complex
    rng = np.random.default_rng(0)
    states = basis.states_at(rng.integers(0, basis.dimension, 200))
    connections = Connections.of(hamiltonian, states)
    got = local_energies(log_psi_of_states(wf, states, 64), connections,
                         log_psi_of_states(wf, connections.flipped, 64)).numpy()
    want = expected[basis.index(states)]
    assert np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))) < 1e-10


def test_exact_path_equals_h_psi_over_psi(system):
    hamiltonian, basis, wf, psi = system
    expected = (hamiltonian.csr(basis) @ psi) / psi
    sampler = ExactSampler(hamiltonian, basis, CPU, torch.float64)
    ensemble = sampler.sample(wf)
    got = sampler.local_energies(wf, ensemble).numpy()
    assert np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))) < 1e-10
    weights = np.abs(psi) ** 2 / np.sum(np.abs(psi) ** 2)
    assert np.allclose(ensemble.weights.numpy(), weights, rtol=1e-12, atol=0)
    energy = np.vdot(psi, hamiltonian.csr(basis) @ psi).real / np.vdot(psi, psi).real
    stats = ensemble.energy_statistics(sampler.local_energies(wf, ensemble))
    assert stats["energy"] == pytest.approx(energy, rel=1e-12)
    assert abs(stats["energy_imag"]) < 1e-10 and stats["energy_error"] == 0.0
    assert exact_energy(wf, hamiltonian, basis, chunk=100) == pytest.approx(energy, rel=1e-12)


def test_spins_and_states_round_trip():
    basis = SzBasis(12)
    states = basis.states()
    x = spins_tensor(states, 12, CPU, torch.float64)
    assert x.shape == (924, 12) and torch.all(x.sum(dim=1) == 0)
    assert np.array_equal(states_of(x), states)
    assert float(x[0, 0]) == (1.0 if states[0] & 1 else -1.0)
