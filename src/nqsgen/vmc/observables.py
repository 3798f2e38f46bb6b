"""Exact full-basis observables of a VMC wave function against the exact ground state.

Definitions (ψ_GS: stored exact ground state, real and normalised; ψ = exp(a + iφ): the network,
unnormalised)
------------------------------------------------------------------------------------------
* **Overlap** |⟨ψ|ψ_GS⟩| / ‖ψ‖ = |Σ_σ e^(a − iφ) ψ_GS| / sqrt(Σ_σ e^(2a)) ∈ [0, 1], summed
  over the whole Sz = 0 basis, streaming over the stored shards (never more than one chunk of
  the ground state in memory).  Sums use a running shift c = max a (e^a = e^c e^(a − c)), so
  large amplitudes cannot overflow.
* **Global phase** α = arg⟨ψ_GS|ψ⟩: a wave function is defined up to a global phase, and SR
  leaves it free, so the network's signs are read relative to it.
* **Sign overlap** (as in the supervised stage, :mod:`nqsgen.overlaps`): the trial state with
  exact amplitudes and the network's signs ŝ = sign(cos(φ − α)): Σ ψ_GS² s ŝ / Σ ψ_GS².
* **Amplitude overlap**: exact signs, the network's amplitudes e^a:
  Σ |ψ_GS| e^a / sqrt(Σ ψ_GS² Σ e^(2a)).
* **Exact energy** ⟨ψ|H|ψ⟩ / ⟨ψ|ψ⟩ = Σ_σ |ψ(σ)|² E_loc(σ) / Σ_σ |ψ(σ)|² over the whole basis
  (σ units), with log ψ of every basis state held in memory (16 bytes per state).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nqsgen.basis import SzBasis
from nqsgen.hamiltonian import Heisenberg
from nqsgen.overlaps import OverlapSums
from nqsgen.vmc.local_energy import Connections, local_energies
from nqsgen.vmc.wavefunction import WaveFunction, log_psi_of_states

CHUNK = 1 << 16  # basis states per streaming step
BATCH = 8192  # states per network evaluation


class FullOverlapSums:
    """Streaming sums of |⟨ψ|ψ_GS⟩| with a running shift (module docstring)."""

    def __init__(self):
        self.shift = -math.inf
        self.cross = 0j  # Σ ψ_GS e^(a − c − iφ)
        self.square = 0.0  # Σ e^(2(a − c))
        self.norm = 0.0  # Σ ψ_GS²

    def add(self, psi: np.ndarray, a: np.ndarray, phi: np.ndarray) -> None:
        self.norm += float(np.dot(psi, psi))
        if len(a) == 0:
            return
        top = float(np.max(a))
        if top > self.shift:
            scale = math.exp(self.shift - top) if math.isfinite(self.shift) else 0.0
            self.cross, self.square, self.shift = self.cross * scale, self.square * scale**2, top
        amp = np.exp(a - self.shift)
        self.cross += complex(np.dot(psi * amp, np.exp(-1j * phi)))
        self.square += float(np.dot(amp, amp))

    def global_phase(self) -> float:
        """α = arg⟨ψ_GS|ψ⟩ ∈ (−π, π]: ψ ≈ e^(iα) |ψ| s_GS where it agrees with ψ_GS."""
        return -math.atan2(self.cross.imag, self.cross.real)

    def result(self) -> float:
        denominator = math.sqrt(self.square * self.norm)
        return abs(self.cross) / denominator if denominator > 0 else math.nan


def _chunks(wf: WaveFunction, ground_state, chunk: int):
    """(ψ_GS, a, φ) per chunk of the stored ground state, in basis order."""
    for _, columns in ground_state.iter_chunks(batch_rows=chunk):
        log_psi = log_psi_of_states(wf, columns["state"], BATCH).to(torch.complex128).cpu()
        yield columns["amplitude"], log_psi.real.numpy(), log_psi.imag.numpy()


def exact_overlaps(wf: WaveFunction, ground_state, chunk: int = CHUNK) -> dict:
    """``overlap``, ``sign_overlap``, ``amplitude_overlap`` and ``global_phase`` over the whole
    basis (two streaming passes: the second needs the global phase from the first)."""
    full, amplitude = FullOverlapSums(), OverlapSums("amplitude")
    for psi, a, phi in _chunks(wf, ground_state, chunk):
        full.add(psi, a, phi)
        amplitude.add(psi, a)
    alpha = full.global_phase()
    sign = OverlapSums("sign")
    for psi, _, phi in _chunks(wf, ground_state, chunk):
        sign.add(psi, np.cos(phi - alpha))
    return {"overlap": full.result(), "sign_overlap": sign.result()["overlap"],
            "amplitude_overlap": amplitude.result()["overlap"], "global_phase": alpha}


def exact_energy(wf: WaveFunction, hamiltonian: Heisenberg, basis: SzBasis,
                 chunk: int = CHUNK) -> float:
    """⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ over the whole basis (σ units)."""
    log_psi = torch.cat([log_psi_of_states(wf, basis.states(lo, min(lo + chunk, basis.dimension)),
                                           BATCH).to(torch.complex128).cpu()
                         for lo in range(0, basis.dimension, chunk)])
    top = float(log_psi.real.max())
    numerator, denominator = 0j, 0.0
    for lo in range(0, basis.dimension, chunk):
        hi = min(lo + chunk, basis.dimension)
        connections = Connections.of(hamiltonian, basis.states(lo, hi))
        connected = log_psi[torch.from_numpy(basis.index(connections.flipped))]
        e_loc = local_energies(log_psi[lo:hi], connections, connected)
        weight = torch.exp(2.0 * (log_psi[lo:hi].real - top))
        numerator += complex((weight * e_loc).sum())
        denominator += float(weight.sum())
    return numerator.real / denominator
