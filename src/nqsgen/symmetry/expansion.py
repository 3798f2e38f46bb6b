"""From symmetric-basis coefficients to full-basis amplitudes, and exact |ψ|² sampling.

A state stored in a symmetric basis (representatives r, coefficients c_r, orbit sizes |O_r|,
group G and characters χ) has the full-basis amplitudes ψ(g·r) = c_r χ(g) / √|O_r|
(see :mod:`nqsgen.symmetry.basis`).  Three ways to get at them:

* :func:`expand` scatters every orbit into a full Sz vector — |G| permutations per
  representative, i.e. about K·|Stab| word operations for K full-basis states;
* :func:`amplitudes` looks up arbitrary states (smallest image over G, then binary search);
* :func:`sample` draws exactly from |ψ|²: a representative with probability c_r², then a
  uniformly random group element g, giving g·r — uniform over the orbit, because every orbit
  element is reached by exactly |Stab_r| elements.
"""

from __future__ import annotations

import numba
import numpy as np

from nqsgen.basis import SzBasis
from nqsgen.symmetry.basis import _index_many, bucket_table, representatives_of
from nqsgen.symmetry.group import SymmetryGroup
from nqsgen.symmetry.permutations import apply_one


@numba.njit(cache=True, parallel=True)
def _expand(reps, coeffs, orbits, masks, flips, chars, low_rank, high_offset, n_low, out):
    mask = (np.uint64(1) << np.uint64(n_low)) - np.uint64(1)
    shift = np.uint64(n_low)
    for i in numba.prange(reps.shape[0]):
        scale = coeffs[i] / np.sqrt(orbits[i])
        for g in range(masks.shape[1]):
            s = apply_one(reps[i], masks, g) ^ flips[g]
            out[high_offset[s >> shift] + low_rank[s & mask]] = scale * chars[g]


@numba.njit(cache=True)
def _images(reps, elements, masks, flips, out):
    for i in range(reps.shape[0]):
        g = elements[i]
        out[i] = apply_one(reps[i], masks, g) ^ flips[g]


def expand(group: SymmetryGroup, characters: np.ndarray, reps: np.ndarray, coeffs: np.ndarray,
           orbits: np.ndarray, basis: SzBasis) -> np.ndarray:
    """The full-basis vector (aligned with ``basis``) of a symmetric-basis state."""
    out = np.zeros(basis.dimension)
    low_rank, high_offset, n_low = basis.lin_tables
    _expand(reps, coeffs.astype(np.float64), orbits.astype(np.float64), group.masks,
            group.flip_words, characters.astype(np.float64), low_rank, high_offset, n_low, out)
    return out


def amplitudes(group: SymmetryGroup, characters: np.ndarray, reps: np.ndarray,
               coeffs: np.ndarray, orbits: np.ndarray, states: np.ndarray,
               lookup: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """ψ(s) for arbitrary Sz states s (0 for states of orbits outside the sector).

    ``lookup`` is the :func:`~nqsgen.symmetry.basis.bucket_table` of ``reps`` (built here when
    not given; callers that look up many batches pass it once).
    """
    flat = np.ascontiguousarray(states, dtype=np.uint64).reshape(-1)
    found, chi = representatives_of(group, characters, flat)
    buckets, shift = lookup if lookup is not None else bucket_table(reps, group.n_sites)
    k = np.empty(flat.shape[0], dtype=np.int64)
    _index_many(reps, buckets, shift, found, k)
    inside = k >= 0
    out = np.zeros(flat.shape[0])
    out[inside] = (np.asarray(coeffs, dtype=np.float64)[k[inside]] * chi[inside]
                   / np.sqrt(np.asarray(orbits, dtype=np.float64)[k[inside]]))
    return out.reshape(np.shape(states))


def sample(group: SymmetryGroup, reps: np.ndarray, coeffs: np.ndarray | None, n: int,
           rng: np.random.Generator, cdf: np.ndarray | None = None) -> np.ndarray:
    """``n`` full-basis states (uint64) drawn from |ψ|² with replacement (exactly).

    ``cdf`` = ``cumsum(coeffs**2)`` may be passed instead of ``coeffs`` (callers that draw
    several samples compute it once)."""
    if cdf is None:
        cdf = np.cumsum(np.asarray(coeffs, dtype=np.float64) ** 2)
    u = rng.random(n) * cdf[-1]
    which = np.minimum(np.searchsorted(cdf, u, side="right"), len(reps) - 1)
    elements = rng.integers(0, len(group), n)
    out = np.empty(n, dtype=np.uint64)
    _images(reps[which], elements, group.masks, group.flip_words, out)
    return out
