"""Bit permutations of 64-bit words as Beneš networks of delta swaps.

A site permutation π (bit ``i`` of the input goes to bit ``π[i]`` of the output) of N ≤ 64
sites is routed once, in Python, through a 64-wide Beneš network: 11 stages of *delta swaps*
with distances 32, 16, 8, 4, 2, 1, 2, 4, 8, 16, 32.  Applying it is then 11 word operations
of the form ::

    t = ((x >> d) ^ x) & mask;  x = x ^ t ^ (t << d)

i.e. O(log N) word operations per permutation, never a loop over bits.  The masks of a whole
group are stored stage-major, ``masks[stage, g]``, so that a compiled kernel applies one stage
to every group element in a loop the compiler vectorises (the shift of a stage is the same for
every element).

Routing (the classical looping algorithm): for a network of width n = 2d the first and last
stages swap positions i ↔ i + d; they send each element into the lower or upper half so that
the two elements of every input pair (i, i + d) and of every output pair (j, j + d) use
different halves; a 2-colouring of these constraints always exists (the constraint graph is a
union of even cycles).  Each half is then a Beneš network of width d, routed recursively.
"""

from __future__ import annotations

import numba
import numpy as np

WIDTH = 64
STAGE_SHIFTS = np.array([32, 16, 8, 4, 2, 1, 2, 4, 8, 16, 32], dtype=np.uint64)


def _route(pi: list[int]) -> list[int]:
    """Masks (Python ints over positions 0..n-1) of the Beneš network realising ``pi``."""
    n = len(pi)
    if n == 2:
        return [1 if pi[0] == 1 else 0]
    d = n // 2
    inverse = [0] * n
    for e, p in enumerate(pi):
        inverse[p] = e
    half = [-1] * n
    for start in range(n):
        if half[start] >= 0:
            continue
        e, colour = start, 0
        while half[e] < 0:
            half[e] = colour
            partner = e ^ d  # the other element of e's input pair goes to the other half
            half[partner] = 1 - colour
            # the element sharing an output pair with ``partner`` goes where e went
            e = inverse[pi[partner] ^ d]
    first = sum(1 << i for i in range(d) if half[i] == 1)
    lower, upper = [0] * d, [0] * d
    last = 0
    for e in range(n):
        target = pi[e]
        (upper if half[e] else lower)[e % d] = target % d
        if half[e] != target // d:
            last |= 1 << (target % d)
    inner_lower, inner_upper = _route(lower), _route(upper)
    middle = [lo | (up << d) for lo, up in zip(inner_lower, inner_upper, strict=True)]
    return [first, *middle, last]


def benes_masks(perm) -> np.ndarray:
    """The 11 stage masks (uint64) of the site permutation ``perm`` (len ≤ 64; bit i → perm[i])."""
    perm = [int(p) for p in perm]
    n = len(perm)
    if sorted(perm) != list(range(n)) or n > WIDTH:
        raise ValueError(f"not a permutation of at most {WIDTH} sites: {perm}")
    padded = perm + list(range(n, WIDTH))
    return np.array(_route(padded), dtype=np.uint64)


def group_masks(perms: np.ndarray) -> np.ndarray:
    """Stage-major masks ``(11, G)`` of a stack of permutations ``(G, N)``."""
    return np.ascontiguousarray(np.stack([benes_masks(p) for p in perms], axis=1))


@numba.njit(cache=True, inline="always")
def _shift(k):
    """Distance of stage k: 32, 16, 8, 4, 2, 1, 2, 4, 8, 16, 32 (= STAGE_SHIFTS[k])."""
    return np.uint64(32 >> k) if k < 6 else np.uint64(1 << (k - 5))


@numba.njit(cache=True, inline="always")
def apply_one(x, masks, g):
    """Image of the word ``x`` under group element ``g`` (column of stage-major ``masks``)."""
    for k in range(11):
        d = _shift(k)
        t = ((x >> d) ^ x) & masks[k, g]
        x = x ^ t ^ (t << d)
    return x



@numba.njit(cache=True, inline="always")
def apply_all(x, masks, flips, out):
    """``out[g]`` = image of ``x`` under every element g: permutation, then XOR ``flips[g]``.

    The inner loop runs over group elements with a fixed shift, so it vectorises.
    """
    n = out.shape[0]
    for g in range(n):
        out[g] = x
    for k in range(11):
        d = _shift(k)
        row = masks[k]
        for g in range(n):
            y = out[g]
            t = ((y >> d) ^ y) & row[g]
            out[g] = y ^ t ^ (t << d)
    for g in range(n):
        out[g] ^= flips[g]


@numba.njit(cache=True)
def permute_states(states, masks, flips, g, out):
    """``out[i]`` = image of ``states[i]`` under group element ``g``."""
    f = flips[g]
    for i in range(states.shape[0]):
        out[i] = apply_one(states[i], masks, g) ^ f


def permute_bits_reference(states: np.ndarray, perm) -> np.ndarray:
    """Per-bit reference implementation (tests only): bit i of each state moves to perm[i]."""
    states = np.asarray(states, dtype=np.uint64)
    out = np.zeros_like(states)
    one = np.uint64(1)
    for i, p in enumerate(perm):
        out |= ((states >> np.uint64(i)) & one) << np.uint64(p)
    return out
