"""Variational Monte Carlo with stochastic reconfiguration (the paper's Fig. 2 d–f).

ψ(σ) = exp(a(σ) + iφ(σ)) with two 2-layer dense networks (log-amplitude a, phase φ), optimised
by stochastic reconfiguration on |ψ|²-distributed configurations of the Sz = 0 sector, then
compared with the exact ground state over the whole basis.  One concept per module:

* :mod:`~nqsgen.vmc.wavefunction` — the ansatz, parameters, spins ↔ uint64 states;
* :mod:`~nqsgen.vmc.local_energy` — E_loc from :class:`nqsgen.hamiltonian.Heisenberg`;
* :mod:`~nqsgen.vmc.sampler` — Metropolis–Hastings chains (spin exchange) or the exact sum;
* :mod:`~nqsgen.vmc.sr` — S, F, CG solve, learning-rate and shift schedules;
* :mod:`~nqsgen.vmc.optimize` — the iteration loop and its trajectory;
* :mod:`~nqsgen.vmc.checkpoint` — resumable state;
* :mod:`~nqsgen.vmc.observables` — exact overlaps and energy over the full basis;
* the stage (command line, outputs): :mod:`nqsgen.stages.vmc`.
"""

from nqsgen.vmc.local_energy import Connections, local_energies
from nqsgen.vmc.observables import exact_energy, exact_overlaps
from nqsgen.vmc.optimize import TRAJECTORY_COLUMNS, LoopConfig, run_sr, sr_iteration
from nqsgen.vmc.sampler import Ensemble, ExactSampler, MetropolisSampler, autocorrelation_time
from nqsgen.vmc.sr import SRConfig, conjugate_gradient, jacobian, sr_step
from nqsgen.vmc.wavefunction import WaveFunction, build_wavefunction

__all__ = [
    "Connections", "Ensemble", "ExactSampler", "LoopConfig", "MetropolisSampler", "SRConfig",
    "TRAJECTORY_COLUMNS", "WaveFunction", "autocorrelation_time", "build_wavefunction",
    "conjugate_gradient", "exact_energy", "exact_overlaps", "jacobian", "local_energies",
    "run_sr", "sr_iteration", "sr_step",
]
