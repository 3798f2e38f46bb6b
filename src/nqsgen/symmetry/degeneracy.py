"""Degeneracy of a full-basis ground state, proven by its symmetry images.

Every element g of the cluster's symmetry group (space group × spin inversion) commutes with
H, so g·ψ0 is an eigenvector with the same energy and the same residual as ψ0.  The overlaps
f(g) = ⟨ψ0|g·ψ0⟩ (ψ0 real and normalised) therefore decide:

* |f(g)| ≥ 1 − tol for every g: ψ0 spans a one-dimensional representation, f(g) = χ(g) = ±1
  is its character (the sector label is read off the generators);
* |f(g)| < 1 − tol for some g: g·ψ0 and ψ0 are linearly independent eigenvectors of the same
  energy — a **proof** that the level is degenerate, whatever the eigensolver reported.

The Gram matrix Γ_gh = ⟨g·ψ0|h·ψ0⟩ = f(g⁻¹h) has the rank of span{g·ψ0}, a lower bound on
the multiplicity of the level (eigenvalues of Γ above tol·|G| count).  Applies to full-sector
solves only: a state stored in a one-dimensional sector satisfies g·ψ0 = χ(g)ψ0 by
construction, so its degeneracy has to come from other sectors' levels
(:mod:`nqsgen.symmetry.complete`).
"""

from __future__ import annotations

import numba
import numpy as np

from nqsgen.basis import SzBasis
from nqsgen.symmetry.group import SymmetryGroup
from nqsgen.symmetry.permutations import apply_all

OVERLAP_TOL = 1e-8  # |⟨ψ|gψ⟩| < 1 − OVERLAP_TOL proves a degeneracy


@numba.njit(cache=True, parallel=True)
def _overlaps(states, psi, masks, flips, low_rank, high_offset, n_low, n_blocks, out):
    """``out[b, g]`` = Σ over block b of ψ(s)·ψ(g·s) (states aligned with ψ)."""
    n = states.shape[0]
    block = (n + n_blocks - 1) // n_blocks
    mask = (np.uint64(1) << np.uint64(n_low)) - np.uint64(1)
    shift = np.uint64(n_low)
    for b in numba.prange(n_blocks):
        images = np.empty(masks.shape[1], dtype=np.uint64)
        for i in range(b * block, min(n, (b + 1) * block)):
            apply_all(states[i], masks, flips, images)
            for g in range(images.shape[0]):
                t = images[g]
                out[b, g] += psi[i] * psi[high_offset[t >> shift] + low_rank[t & mask]]


def symmetry_overlaps(group: SymmetryGroup, psi: np.ndarray, basis: SzBasis) -> np.ndarray:
    """f(g) = ⟨ψ|g·ψ⟩ for every element of ``group`` (ψ aligned with ``basis``)."""
    n_blocks = 8 * numba.get_num_threads()
    out = np.zeros((n_blocks, len(group)))
    low_rank, high_offset, n_low = basis.lin_tables
    _overlaps(basis.states(), np.ascontiguousarray(psi, dtype=np.float64), group.masks,
              group.flip_words, low_rank, high_offset, n_low, n_blocks, out)
    return out.sum(axis=0)


def _inverses(group: SymmetryGroup) -> np.ndarray:
    inverse = np.empty(len(group), dtype=np.int64)
    for g in range(len(group)):
        perm = np.empty_like(group.perms[g])
        perm[group.perms[g]] = np.arange(group.n_sites)
        inverse[g] = group._lookup[group._key(perm, group.flips[g])]
    return inverse


def gram_rank(group: SymmetryGroup, overlaps: np.ndarray, tol: float = OVERLAP_TOL) -> int:
    """Rank of Γ_gh = f(g⁻¹h): the dimension of the span of the images of ψ."""
    inverse = _inverses(group)
    n = len(group)
    gram = np.empty((n, n))
    for g in range(n):
        gram[g] = overlaps[[group.compose(int(inverse[g]), h) for h in range(n)]]
    values = np.linalg.eigvalsh(0.5 * (gram + gram.T))
    return int(np.sum(values > tol * n))


def degeneracy_report(group: SymmetryGroup, psi: np.ndarray, basis: SzBasis, energy: float,
                      tol: float = OVERLAP_TOL) -> dict:
    """Metadata entries of a full-basis ground state (see :mod:`nqsgen.stages.ground_state`)."""
    f = symmetry_overlaps(group, psi, basis)
    named = {name: float(f[g]) for name, g in group.generators.items()}
    breaking = [name for name, value in named.items() if abs(value) < 1 - tol]
    rank = gram_rank(group, f, tol)
    proof = [f"{name}: <psi0|{name} psi0> = {named[name]:.3e}, |.| < 1 - {tol:g}, and "
             f"{name} psi0 is an eigenvector of H with E = {energy:.12f} ({name} commutes "
             "with H)" for name in breaking]
    if rank > 1 and not breaking:  # only products of generators break it (not expected)
        proof.append(f"the images g psi0 of all {len(group)} elements span {rank} dimensions")
    label = None
    if rank == 1:
        label = "".join(f"{n}{'+' if v > 0 else '-'}" for n, v in named.items()) or "trivial"
    return {"symmetry_overlaps": named, "symmetry_gram_rank": rank, "degeneracy": rank,
            "degeneracy_proof": proof, "symmetry_sector_from_overlaps": label}
