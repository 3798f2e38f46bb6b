"""The fixed-magnetisation basis of N spins 1/2 (by default the Sz = 0 sector).

Conventions
-----------
* A basis state is a ``uint64`` bit pattern: bit ``i`` set means spin *up* on site ``i``
  (σᶻ_i = +1).  The network input for a state is the vector σ_i = ±1 in site order
  (:func:`spins`).
* The basis is the ascending list of all N-bit patterns with ``n_up`` bits set
  (``n_up = N/2``: the Sz = 0 sector), so its dimension is K = C(N, n_up).
* ``index(state)`` is O(1) and vectorised with Lin's two-table method: split a state into its
  high part ``u`` (bits ``n_low..N-1``) and low part ``l`` (bits ``0..n_low-1``); then
  ``index = high_offset[u] + low_rank[l]`` where ``low_rank[l]`` is the rank of ``l`` among
  the low patterns with the same popcount and ``high_offset[u]`` counts the basis states whose
  high part is smaller than ``u``.  Two tables of 2^(N/2) int64 entries each.
* States for any contiguous row range ``[lo, hi)`` are generated directly (combinatorial
  unranking + Gosper's next-combination step), so an MPI rank never needs the whole basis.
"""

from __future__ import annotations

from functools import cached_property
from math import comb

import numba
import numpy as np

from nqsgen.errors import ConfigError

MAX_SITES = 64


@numba.njit(cache=True)
def _popcount(x):
    x = np.uint64(x)
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True)
def _binomial_table(n):
    table = np.zeros((n + 1, n + 1), dtype=np.int64)
    for a in range(n + 1):
        table[a, 0] = 1
        for b in range(1, a + 1):
            table[a, b] = table[a - 1, b - 1] + table[a - 1, b]
    return table


@numba.njit(cache=True)
def _unrank(rank, n_sites, n_up, binom):
    """The ``rank``-th smallest N-bit pattern with ``n_up`` bits set (combinatorial system)."""
    state = np.uint64(0)
    k = n_up
    for p in range(n_sites - 1, -1, -1):
        if k == 0:
            break
        c = binom[p, k]  # patterns with bit p clear and k bits among the p lower ones
        if rank >= c:
            rank -= c
            state |= np.uint64(1) << np.uint64(p)
            k -= 1
    return state


@numba.njit(cache=True)
def _fill_states(out, first_rank, n_sites, n_up, binom):
    if out.shape[0] == 0:
        return
    v = _unrank(first_rank, n_sites, n_up, binom)
    out[0] = v
    one = np.uint64(1)
    for i in range(1, out.shape[0]):
        # Gosper's hack: the next larger integer with the same popcount.
        c = v & (~v + one)
        r = v + c
        v = (((r ^ v) >> np.uint64(2)) // c) | r
        out[i] = v


@numba.njit(cache=True)
def _unrank_many(indices, n_sites, n_up, binom, out):
    for i in range(indices.shape[0]):
        out[i] = _unrank(indices[i], n_sites, n_up, binom)


@numba.njit(cache=True)
def _lin_tables(n_sites, n_up, n_low, binom):
    n_high = n_sites - n_low
    low_rank = np.full(1 << n_low, -1, dtype=np.int64)
    seen = np.zeros(n_low + 1, dtype=np.int64)
    for l in range(1 << n_low):  # noqa: E741 - l is the conventional name of the low part
        p = _popcount(l)
        low_rank[l] = seen[p]
        seen[p] += 1
    high_offset = np.full(1 << n_high, -1, dtype=np.int64)
    total = 0
    for u in range(1 << n_high):
        k = n_up - _popcount(u)
        if 0 <= k <= n_low:
            high_offset[u] = total
            total += binom[n_low, k]
    return low_rank, high_offset


@numba.njit(cache=True, parallel=False)
def _index(states, low_rank, high_offset, n_low, out):
    mask = (np.uint64(1) << np.uint64(n_low)) - np.uint64(1)
    shift = np.uint64(n_low)
    for i in range(states.shape[0]):
        s = states[i]
        out[i] = high_offset[s >> shift] + low_rank[s & mask]


@numba.njit(cache=True)
def _spins(states, n_sites, out):
    for i in range(states.shape[0]):
        s = states[i]
        for j in range(n_sites):
            out[i, j] = 1.0 if (s >> np.uint64(j)) & np.uint64(1) else -1.0


class SzBasis:
    """All N-spin basis states with ``n_up`` up spins, ascending as uint64 (default Sz = 0).

    Parameters
    ----------
    n_sites:
        Number of spins N (≤ 64).
    n_up:
        Number of up spins; default N/2 (the Sz = 0 sector, N even).
    """

    def __init__(self, n_sites: int, n_up: int | None = None):
        if not 1 <= n_sites <= MAX_SITES:
            raise ConfigError(f"basis: n_sites={n_sites} outside 1..{MAX_SITES}")
        if n_up is None:
            if n_sites % 2:
                raise ConfigError(f"basis: the Sz=0 sector needs an even N, got N={n_sites}")
            n_up = n_sites // 2
        if not 0 <= n_up <= n_sites:
            raise ConfigError(f"basis: n_up={n_up} outside 0..{n_sites}")
        self.n_sites = int(n_sites)
        self.n_up = int(n_up)
        self.dimension = comb(self.n_sites, self.n_up)
        self._n_low = self.n_sites // 2
        self._binom = _binomial_table(self.n_sites)

    def __repr__(self) -> str:
        return f"SzBasis(n_sites={self.n_sites}, n_up={self.n_up}, dimension={self.dimension})"

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        return _lin_tables(self.n_sites, self.n_up, self._n_low, self._binom)

    def states(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Basis states with indices ``lo <= i < hi`` (uint64, ascending)."""
        hi = self.dimension if hi is None else hi
        if not 0 <= lo <= hi <= self.dimension:
            raise ValueError(f"row range [{lo}, {hi}) outside [0, {self.dimension})")
        out = np.empty(hi - lo, dtype=np.uint64)
        _fill_states(out, lo, self.n_sites, self.n_up, self._binom)
        return out

    def states_at(self, indices: np.ndarray) -> np.ndarray:
        """Basis states (uint64) of arbitrary indices (combinatorial unranking, O(N) each)."""
        indices = np.ascontiguousarray(indices, dtype=np.int64)
        out = np.empty(indices.shape, dtype=np.uint64)
        _unrank_many(indices.reshape(-1), self.n_sites, self.n_up, self._binom, out.reshape(-1))
        return out

    def index(self, states: np.ndarray) -> np.ndarray:
        """Indices (int64) of basis states; O(1) each.  States must belong to the basis."""
        states = np.ascontiguousarray(states, dtype=np.uint64)
        out = np.empty(states.shape, dtype=np.int64)
        low_rank, high_offset = self._tables
        _index(states.reshape(-1), low_rank, high_offset, self._n_low, out.reshape(-1))
        return out

    def contains(self, states: np.ndarray) -> np.ndarray:
        """Boolean mask: which uint64 patterns have exactly ``n_up`` bits among the N sites."""
        states = np.asarray(states, dtype=np.uint64)
        inside = states < (np.uint64(1) << np.uint64(self.n_sites)) if self.n_sites < 64 else True
        counts = np.bitwise_count(states) if hasattr(np, "bitwise_count") else _popcounts(states)
        return (counts == self.n_up) & inside

    @property
    def lin_tables(self) -> tuple[np.ndarray, np.ndarray, int]:
        """``(low_rank, high_offset, n_low)`` for compiled kernels that look up indices."""
        low_rank, high_offset = self._tables
        return low_rank, high_offset, self._n_low


def _popcounts(states: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(states.view(np.uint8).reshape(-1, 8), axis=1)
    return bits.sum(axis=1).reshape(states.shape)


def spins(states: np.ndarray, n_sites: int, dtype=np.float32) -> np.ndarray:
    """σ_i = ±1 (bit i set → +1) for each state, shape (len(states), n_sites), site order."""
    states = np.ascontiguousarray(states, dtype=np.uint64).reshape(-1)
    out = np.empty((states.shape[0], n_sites), dtype=dtype)
    _spins(states, n_sites, out)
    return out


def row_partition(dimension: int, n_parts: int, part: int) -> tuple[int, int]:
    """Contiguous, balanced row range ``[lo, hi)`` of part ``part`` out of ``n_parts``."""
    base, extra = divmod(dimension, n_parts)
    lo = part * base + min(part, extra)
    return lo, lo + base + (1 if part < extra else 0)
