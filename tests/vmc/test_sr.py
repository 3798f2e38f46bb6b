"""Stochastic reconfiguration: per-sample gradients, S and F against independent formulas,
F as the energy gradient, CG against a dense solve, schedules."""

import numpy as np
import pytest
import torch

from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.errors import ConfigError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.vmc.sampler import ExactSampler
from nqsgen.vmc.sr import (
    CenteredJacobian,
    SRConfig,
    conjugate_gradient,
    jacobian,
    solve,
    sr_step,
)
from nqsgen.vmc.wavefunction import build_wavefunction, parameter_vector

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def system():
    torch.set_num_threads(1)
    cluster = get_cluster("kagome_12")
    hamiltonian = Heisenberg.from_cluster(cluster, 0.8)
    basis = SzBasis(12)
    wf = build_wavefunction(12, 6, "tanh", 11, CPU, torch.float64)
    with torch.no_grad():
        wf.phase.net[-1].weight.mul_(5.0)
    sampler = ExactSampler(hamiltonian, basis, CPU, torch.float64)
    ensemble = sampler.sample(wf)
    e_loc = sampler.local_energies(wf, ensemble)
    return hamiltonian, basis, wf, ensemble, e_loc


def exact_energy_autograd(wf, spins, h_dense):
    """E(θ) = Re ψ†Hψ / ψ†ψ with autograd through the networks (ψ = exp(a + iφ))."""
    a, phi = wf(spins)
    a = a - a.detach().max()  # E is scale invariant: a constant shift changes no gradient
    psi = torch.exp(torch.complex(a, phi))
    return (psi.conj() @ (h_dense @ psi)).real / (psi.conj() @ psi).real


def test_jacobian_equals_per_sample_autograd(system):
    _, _, wf, ensemble, _ = system
    x = ensemble.spins[:7]
    jac = jacobian(wf.phase, x, chunk=3)
    for k in range(7):
        wf.zero_grad()
        wf.phase(x[k:k + 1]).sum().backward()
        row = torch.cat([p.grad.reshape(-1) for p in wf.phase.parameters()])
        assert torch.allclose(jac[k], row, rtol=1e-12, atol=1e-14)
    wf.zero_grad()


def test_s_and_f_equal_their_complex_definitions(system):
    _, _, wf, ensemble, e_loc = system
    w = ensemble.weights
    # O_k = ∂ log ψ/∂θ_k: real for amplitude parameters, imaginary for phase parameters
    o = torch.cat([jacobian(wf.amplitude, ensemble.spins).to(torch.complex128),
                   1j * jacobian(wf.phase, ensemble.spins).to(torch.complex128)], dim=1)
    mean = w.to(o.dtype) @ o
    s = (o.conj() * w[:, None]).T @ o - torch.outer(mean.conj(), mean)
    energy = (w * e_loc).sum()
    f = (w * e_loc) @ o.conj() - energy * mean.conj()
    jac = CenteredJacobian(wf, ensemble.spins, w)
    assert torch.allclose(jac.dense(), s.real, rtol=1e-10, atol=1e-12)
    assert torch.allclose(jac.force(e_loc, energy), f.real, rtol=1e-10, atol=1e-12)
    v = torch.randn(s.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(jac.matvec(v), s.real @ v, rtol=1e-10, atol=1e-12)


def test_force_is_half_the_energy_gradient(system):
    hamiltonian, basis, wf, ensemble, e_loc = system
    h_dense = torch.from_numpy(hamiltonian.csr(basis).toarray()).to(torch.complex128)
    energy = exact_energy_autograd(wf, ensemble.spins, h_dense)
    wf.zero_grad()
    energy.backward()
    gradient = torch.cat([p.grad.reshape(-1) for p in wf.parameters()])
    wf.zero_grad()
    force = CenteredJacobian(wf, ensemble.spins, ensemble.weights).force(
        e_loc, (ensemble.weights * e_loc).sum())
    assert energy.item() == pytest.approx(float((ensemble.weights * e_loc).sum().real), rel=1e-12)
    assert torch.allclose(2 * force, gradient, rtol=1e-9, atol=1e-11)


def test_conjugate_gradient_matches_the_dense_solve(system):
    _, _, wf, ensemble, e_loc = system
    jac = CenteredJacobian(wf, ensemble.spins, ensemble.weights)
    force = jac.force(e_loc, (ensemble.weights * e_loc).sum())
    config = SRConfig(cg_max_iterations=2000, cg_tol=1e-12)
    cg, iterations, residual = solve(jac, force, 1e-2, config)
    dense, zero, dense_residual = solve(jac, force, 1e-2, SRConfig(solver="dense"))
    assert 0 < iterations < 2000 and residual <= 1e-12 and zero == 0 and dense_residual < 1e-12
    assert torch.allclose(cg, dense, rtol=1e-8, atol=1e-10)
    x, k, res = conjugate_gradient(jac.matvec, torch.zeros_like(force), 0.1, 1e-8, 10)
    assert k == 0 and res == 0 and not x.any()


def test_sr_step_lowers_the_exact_energy(system):
    hamiltonian, basis, _, _, _ = system
    wf = build_wavefunction(12, 6, "tanh", 5, CPU, torch.float64)
    sampler = ExactSampler(hamiltonian, basis, CPU, torch.float64)
    before = parameter_vector(wf)
    energies = []
    for t in range(3):
        ensemble = sampler.sample(wf)
        step = sr_step(wf, ensemble.spins, ensemble.weights,
                       sampler.local_energies(wf, ensemble), SRConfig(lr=0.02), t)
        energies.append(step.energy)
    assert energies[0] > energies[1] > energies[2]
    assert float(torch.linalg.vector_norm(parameter_vector(wf) - before)) > 0


def test_schedules_and_validation():
    config = SRConfig(lr=0.1, lr_decay=0.5, lr_min=0.02, shift=1.0, shift_decay=0.1,
                      shift_min=1e-3)
    assert [config.learning_rate(t) for t in range(4)] == [0.1, 0.05, 0.025, 0.02]
    assert config.diagonal_shift(0) == 1.0 and config.diagonal_shift(2) == pytest.approx(0.01)
    assert config.diagonal_shift(10) == 1e-3
    for bad in (dict(lr=0), dict(shift_decay=1.5), dict(solver="qr"), dict(cg_tol=2.0),
                dict(lr_min=-1.0)):
        with pytest.raises(ConfigError):
            SRConfig(**bad).validate()
    np.testing.assert_equal(SRConfig().validate(), None)
