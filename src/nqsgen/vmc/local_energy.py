"""Local energies E_loc(σ) = Σ_σ' ⟨σ|H|σ'⟩ ψ(σ')/ψ(σ) from the project's single source of matrix
elements, :class:`nqsgen.hamiltonian.Heisenberg`.

H is real and symmetric in the σᶻ basis, so ⟨σ|H|σ'⟩ = ⟨σ'|H|σ⟩ and

    E_loc(σ) = H_σσ + Σ_{σ' ≠ σ} H_σ'σ · exp(log ψ(σ') − log ψ(σ)),

with H_σσ from ``Heisenberg.diagonal`` and the connected σ' and H_σ'σ = 2J from
``Heisenberg.off_diagonal`` (σ units, H = Σ J σ·σ with Pauli matrices; no sign rule).  The
ratio is formed in log space, so unnormalised amplitudes of any size are safe.  E_loc is
complex because ψ is (ψ = exp(a + iφ), :mod:`nqsgen.vmc.wavefunction`); its average over |ψ|²
is the (real) variational energy.

:class:`Connections` holds the matrix elements of a batch of states;
:func:`local_energies` combines them with log ψ of the states and of their connected states —
from the network (Monte Carlo) or looked up in log ψ of the whole basis (exact summation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nqsgen.hamiltonian import Heisenberg


@dataclass(frozen=True)
class Connections:
    """Matrix elements of H for a batch of S states.

    ``diagonal`` (S,) = ⟨σ|H|σ⟩; connection m links state ``rows[m]`` to ``flipped[m]`` with
    ``values[m]`` = ⟨flipped|H|σ⟩.  ``rows`` is ascending (the states' connections in order).
    """

    diagonal: np.ndarray  # float64 (S,)
    rows: np.ndarray  # int64 (M,)
    flipped: np.ndarray  # uint64 (M,)
    values: np.ndarray  # float64 (M,)

    @classmethod
    def of(cls, hamiltonian: Heisenberg, states: np.ndarray) -> Connections:
        states = np.ascontiguousarray(states, dtype=np.uint64)
        counts, flipped, values = hamiltonian.off_diagonal(states)
        rows = np.repeat(np.arange(len(states), dtype=np.int64), counts)
        return cls(hamiltonian.diagonal(states), rows, flipped, values)

    def __len__(self) -> int:
        return len(self.diagonal)


def local_energies(log_psi: torch.Tensor, connections: Connections,
                   log_psi_connected: torch.Tensor) -> torch.Tensor:
    """E_loc (complex128, shape (S,), on the device of ``log_psi``).

    ``log_psi`` (S,) and ``log_psi_connected`` (M,) are complex log-amplitudes of the states
    and of ``connections.flipped``.  Summation order is fixed (CPU: bitwise reproducible).
    """
    device = log_psi.device
    log_psi = log_psi.to(torch.complex128)
    rows = torch.from_numpy(connections.rows).to(device)
    values = torch.from_numpy(connections.values).to(device)
    ratio = torch.exp(log_psi_connected.to(torch.complex128) - log_psi[rows])
    energy = torch.from_numpy(connections.diagonal).to(device).to(torch.complex128)
    return energy.index_add_(0, rows, values * ratio)
