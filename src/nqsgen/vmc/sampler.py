"""Configurations weighted by |ψ|²: Metropolis–Hastings chains or the exact full sum.

Both samplers return an :class:`Ensemble`: spin configurations, their weights w (Σ w = 1),
log ψ, and how to get their local energies (:meth:`local_energies`).  Every expectation value
of the VMC stage is ⟨X⟩ = Σ_k w_k X_k over an ensemble.

Metropolis–Hastings (:class:`MetropolisSampler`)
------------------------------------------------
* ``n_chains`` chains advance together as one (C, N) tensor on the device (vectorised in
  torch); they stay in the Sz = 0 sector: they start from uniformly random configurations with
  N/2 up spins and move by **spin exchange** — pick one up site and one down site uniformly at
  random (independent argmaxes of one tensor of uniform keys over the two disjoint sets) and
  swap them.  The proposal is symmetric (always (N/2)² choices), so the acceptance
  probability is min(1, |ψ(σ')|²/|ψ(σ)|²) = min(1, exp(2(a' − a))) and only the amplitude
  network is evaluated.
* A **sweep** is ``sweep_size`` proposals per chain (default N).  At the first call the
  chains are thermalised for ``initial_burn_in`` sweeps; every call (one SR iteration, after
  a parameter update) first discards ``burn_in`` sweeps, then keeps one configuration per
  chain after every sweep, ``samples_per_chain`` times.  Samples are ordered
  k = t·C + c (t-th kept configuration of chain c); all weights are 1/S.
* ``acceptance`` is the fraction of accepted proposals during the kept sweeps.
* The chains and the sampler's own ``torch.Generator`` are the sampler's state
  (:meth:`state_dict`), saved in checkpoints, so a resumed run draws the same samples.

Exact full sum (:class:`ExactSampler`)
--------------------------------------
All K basis states with w = |ψ|²/Σ|ψ|² (computed as a softmax of 2a, so unnormalised
amplitudes of any size are safe).  Local energies look up ψ(σ') in log ψ of the whole basis
(no extra network evaluations).  For tests and small clusters.

Autocorrelation (:func:`autocorrelation_time`)
----------------------------------------------
τ = T · Var_c(chain means) / Var(all samples) for T kept samples on each of C chains (batch
means with the chains as batches): the integrated autocorrelation time in units of kept
samples (1 for independent samples), so the standard error of a mean over S samples is
sqrt(Var · max(τ, 1) / S).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from nqsgen.basis import SzBasis
from nqsgen.hamiltonian import Heisenberg
from nqsgen.vmc.local_energy import Connections, local_energies
from nqsgen.vmc.wavefunction import (
    WaveFunction,
    log_psi_of_spins,
    log_psi_of_states,
    spins_tensor,
    states_of,
)

SAMPLERS = ("exact", "metropolis")
DEFAULT_BATCH = 8192  # configurations per network evaluation of connected states


@dataclass
class Ensemble:
    """Configurations and their weights: ⟨X⟩ = Σ_k weights[k] X_k."""

    spins: torch.Tensor  # (S, N) on the device, network dtype
    states: np.ndarray  # (S,) uint64
    weights: torch.Tensor  # (S,) float64, Σ = 1
    log_psi: torch.Tensor  # (S,) complex
    n_chains: int = 0  # Metropolis: samples are ordered t·C + c; 0 for the exact sum
    acceptance: float = math.nan

    def __len__(self) -> int:
        return len(self.states)

    def energy_statistics(self, e_loc: torch.Tensor) -> dict:
        """``energy`` = Re Σ w E_loc, ``energy_imag``, ``variance`` = Σ w |E_loc − E|²,
        ``autocorrelation_time`` τ (Metropolis; NaN for the exact sum) and ``energy_error`` =
        sqrt(variance · max(τ, 1) / S) (0 for the exact sum)."""
        energy = (self.weights.to(e_loc.dtype) * e_loc).sum()
        variance = float((self.weights * (e_loc - energy).abs() ** 2).sum())
        tau, error = math.nan, 0.0
        if self.n_chains:
            tau = autocorrelation_time(e_loc.real, self.n_chains)
            factor = max(tau, 1.0) if math.isfinite(tau) else 1.0
            error = math.sqrt(variance * factor / len(self))
        return {"energy": float(energy.real), "energy_imag": float(energy.imag),
                "energy_error": error, "variance": variance, "autocorrelation_time": tau}


def autocorrelation_time(values: torch.Tensor, n_chains: int) -> float:
    """τ of ``values`` (S = T·C, ordered t·C + c) by batch means over the chains (see the
    module docstring); NaN with fewer than 2 chains or a constant series."""
    values = values.detach().to(torch.float64).cpu()
    if n_chains < 2 or len(values) % n_chains:
        return math.nan
    series = values.view(-1, n_chains)  # (T, C)
    total = float(series.var(unbiased=True)) if series.numel() > 1 else 0.0
    if not total > 0:
        return math.nan
    means = series.mean(dim=0)
    return series.shape[0] * float(means.var(unbiased=True)) / total


class MetropolisSampler:
    """Vectorised Metropolis–Hastings chains with spin-exchange moves (module docstring)."""

    kind = "metropolis"

    def __init__(self, hamiltonian: Heisenberg, n_chains: int, samples_per_chain: int, *,
                 sweep_size: int, burn_in: int, initial_burn_in: int, seed: int,
                 device: torch.device, dtype: torch.dtype, batch: int = DEFAULT_BATCH):
        self.hamiltonian = hamiltonian
        self.n_sites = hamiltonian.n_sites
        self.n_chains, self.samples_per_chain = n_chains, samples_per_chain
        self.sweep_size, self.burn_in = sweep_size, burn_in
        self.initial_burn_in = initial_burn_in
        self.device, self.dtype, self.batch = torch.device(device), dtype, batch
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.chains: torch.Tensor | None = None

    @property
    def n_samples(self) -> int:
        return self.n_chains * self.samples_per_chain

    # -- the chains ------------------------------------------------------------------------
    def _random_configurations(self) -> torch.Tensor:
        keys = torch.rand(self.n_chains, self.n_sites, generator=self.generator,
                          device=self.device)
        rank = keys.argsort(dim=1).argsort(dim=1)
        return torch.where(rank < self.n_sites // 2, 1.0, -1.0).to(self.dtype)

    def _step(self, amplitude, x: torch.Tensor, a: torch.Tensor):
        """One spin-exchange proposal per chain: returns (x, a, accepted mask)."""
        keys = torch.rand(x.shape, generator=self.generator, device=self.device)
        up = torch.where(x > 0, keys, -1.0).argmax(dim=1, keepdim=True)
        down = torch.where(x < 0, keys, -1.0).argmax(dim=1, keepdim=True)
        proposal = x.scatter(1, up, -1.0).scatter(1, down, 1.0)
        a_new = amplitude(proposal)
        u = torch.rand(x.shape[0], generator=self.generator, device=self.device,
                       dtype=torch.float64)
        accept = torch.log(u) < 2.0 * (a_new - a).to(torch.float64)
        x = torch.where(accept[:, None], proposal, x)
        return x, torch.where(accept, a_new, a), accept

    @torch.no_grad()
    def _sweeps(self, amplitude, x, a, n: int):
        accepted = torch.zeros((), dtype=torch.int64, device=self.device)
        for _ in range(n * self.sweep_size):
            x, a, accept = self._step(amplitude, x, a)
            accepted += accept.sum()
        return x, a, accepted

    def sample(self, wf: WaveFunction) -> Ensemble:
        """Advance the chains (burn-in, then ``samples_per_chain`` sweeps) and return the kept
        configurations."""
        amplitude = wf.amplitude
        with torch.no_grad():
            if self.chains is None:
                x = self._random_configurations()
                x, _, _ = self._sweeps(amplitude, x, amplitude(x), self.initial_burn_in)
            else:
                x = self.chains
            x, a, _ = self._sweeps(amplitude, x, amplitude(x), self.burn_in)
            kept, accepted = [], 0
            for _ in range(self.samples_per_chain):
                x, a, acc = self._sweeps(amplitude, x, a, 1)
                kept.append(x)
                accepted += int(acc)
        self.chains = x
        spins = torch.cat(kept)
        proposals = self.n_chains * self.samples_per_chain * self.sweep_size
        weights = torch.full((len(spins),), 1.0 / len(spins), dtype=torch.float64,
                             device=self.device)
        return Ensemble(spins, states_of(spins), weights, log_psi_of_spins(wf, spins, self.batch),
                        self.n_chains, accepted / proposals if proposals else math.nan)

    def local_energies(self, wf: WaveFunction, ensemble: Ensemble) -> torch.Tensor:
        """E_loc with ψ(σ') of every connected state evaluated by the network."""
        connections = Connections.of(self.hamiltonian, ensemble.states)
        connected = log_psi_of_states(wf, connections.flipped, self.batch)
        return local_energies(ensemble.log_psi, connections, connected)

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        chains = None if self.chains is None else self.chains.cpu().clone()
        return {"chains": chains, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        chains = state["chains"]
        self.chains = None if chains is None else chains.to(self.device, self.dtype)


class ExactSampler:
    """The whole Sz = 0 basis with weights |ψ|²/Σ|ψ|² (module docstring)."""

    kind = "exact"
    n_chains = 0

    def __init__(self, hamiltonian: Heisenberg, basis: SzBasis, device: torch.device,
                 dtype: torch.dtype, batch: int = DEFAULT_BATCH):
        self.batch = batch
        self.states = basis.states()
        self.spins = spins_tensor(self.states, basis.n_sites, device, dtype)
        self.connections = Connections.of(hamiltonian, self.states)
        self.connected_index = torch.from_numpy(basis.index(self.connections.flipped)).to(device)

    @property
    def n_samples(self) -> int:
        return len(self.states)

    def sample(self, wf: WaveFunction) -> Ensemble:
        log_psi = log_psi_of_spins(wf, self.spins, self.batch)
        weights = torch.softmax(2.0 * log_psi.real.to(torch.float64), dim=0)
        return Ensemble(self.spins, self.states, weights, log_psi)

    def local_energies(self, wf: WaveFunction, ensemble: Ensemble) -> torch.Tensor:
        """E_loc with ψ(σ') looked up in log ψ of the whole basis."""
        connected = ensemble.log_psi[self.connected_index]
        return local_energies(ensemble.log_psi, self.connections, connected)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
