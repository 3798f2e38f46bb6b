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
from nqsgen.symmetry.basis import _representative_with_images, bucket_table, search_sorted
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


@numba.njit(cache=True, parallel=True)
def _amplitudes(states, reps, buckets, shift, coeffs, orbits, masks, flips, chars, out,
                n_blocks):
    n = states.shape[0]
    n_blocks = min(n, n_blocks)
    block = (n + n_blocks - 1) // max(n_blocks, 1)
    for b in numba.prange(n_blocks):
        images = np.empty(masks.shape[1], dtype=np.uint64)
        for i in range(b * block, min(n, (b + 1) * block)):
            rep, ch = _representative_with_images(states[i], masks, flips, chars, images)
            k = search_sorted(reps, buckets, shift, rep)
            out[i] = 0.0 if k < 0 else coeffs[k] * ch / np.sqrt(orbits[k])


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
               coeffs: np.ndarray, orbits: np.ndarray, states: np.ndarray) -> np.ndarray:
    """ψ(s) for arbitrary Sz states s (0 for states of orbits outside the sector)."""
    states = np.ascontiguousarray(states, dtype=np.uint64)
    out = np.empty(states.size)
    buckets, shift = bucket_table(reps, group.n_sites)
    _amplitudes(states.reshape(-1), reps, buckets, shift, coeffs.astype(np.float64),
                orbits.astype(np.float64), group.masks, group.flip_words,
                characters.astype(np.int64), out, 4 * numba.get_num_threads())
    return out.reshape(states.shape)


def sample(group: SymmetryGroup, reps: np.ndarray, coeffs: np.ndarray, n: int,
           rng: np.random.Generator) -> np.ndarray:
    """``n`` full-basis states (uint64) drawn from |ψ|² with replacement (exactly)."""
    cdf = np.cumsum(np.asarray(coeffs, dtype=np.float64) ** 2)
    u = rng.random(n) * cdf[-1]
    which = np.minimum(np.searchsorted(cdf, u, side="right"), len(reps) - 1)
    elements = rng.integers(0, len(group), n)
    out = np.empty(n, dtype=np.uint64)
    _images(reps[which], elements, group.masks, group.flip_words, out)
    return out
