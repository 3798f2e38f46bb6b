"""The symmetry-adapted basis of one sector: orbit representatives, found in parallel.

Conventions
-----------
* The **representative** of a basis state s is the smallest word in its orbit {g·s : g ∈ G}
  (spin inversion included, see :mod:`nqsgen.symmetry.group`).
* In the sector χ, the orbit of r contributes the normalised symmetric state ::

      |r̃⟩ = |O_r|^(-1/2) Σ_{s ∈ O_r} χ(g_s) |s⟩,   g_s · r = s,

  which exists iff χ(g) = +1 on the stabiliser of r ("compatible" orbit).  The basis is the
  ascending list of the representatives of compatible orbits, with their orbit sizes |O_r|.
  A vector with coefficients c_r in this basis has full-basis amplitudes
  ψ(s) = c_r χ(g_s) / √|O_r|, and Σ_r c_r² = Σ_s ψ(s)².
* Enumeration scans the Sz sector in combinatorial (ascending) order, in chunks dealt round
  robin to the MPI ranks and split into blocks across threads; a state is a representative iff
  no group element maps it to a smaller word (the loop stops at the first such element).  With
  spin inversion in Sz = 0, a representative never has the top bit set, so only the first
  C(N−1, N/2) states are scanned.  Every rank ends with the whole (small) representative list:
  state → index is a binary search.
"""

from __future__ import annotations

import logging
import time
from math import comb

import numba
import numpy as np

from nqsgen.basis import SzBasis, _binomial_table, _unrank
from nqsgen.errors import ConfigError
from nqsgen.symmetry.group import Sector, SymmetryGroup
from nqsgen.symmetry.permutations import apply_all, apply_one

log = logging.getLogger(__name__)

SCAN_CHUNK = 1 << 22  # states per scan round (each thread takes one block of a round)
BUCKET_BITS = 22  # state → index: bisect within buckets of the top 22 bits (32 MB table)


@numba.njit(cache=True, inline="always")
def _orbit_size_if_representative(s, masks, flips, chars, hint, zword):
    """``(|G|/|Stab(s)|, 0)`` if s represents a compatible orbit, else ``(0, g)`` with g the
    element that disqualified s.  Element ``hint`` is tried first: consecutive states share
    their high bits, so the element that disqualified the previous state usually works again.
    With ``zword`` ≠ 0 (see :attr:`SymmetryGroup.inversion_word`) element g + |G|/2 is g with
    spin inversion, so its image is g's XOR ``zword``: one permutation per pair.
    """
    order = masks.shape[1]
    half = order // 2 if zword else order
    if hint > 0:
        y = apply_one(s, masks, hint if hint < half else hint - half) ^ flips[hint]
        if y < s:
            return 0, hint
    stabiliser = 1
    for g in range(half):
        y = apply_one(s, masks, g) ^ flips[g] if g > 0 else s
        if g > 0:
            if y < s:
                return 0, g
            if y == s:
                if chars[g] != 1:
                    return 0, 0
                stabiliser += 1
        if zword:
            z = y ^ zword
            if z < s:
                return 0, g + half
            if z == s:
                if chars[g + half] != 1:
                    return 0, 0
                stabiliser += 1
    return order // stabiliser, 0


@numba.njit(cache=True, parallel=True)
def _scan(first_rank, count, n_blocks, n_sites, n_up, binom, masks, flips, chars, zword,
          out_states, out_orbits, found):
    block = (count + n_blocks - 1) // n_blocks
    one = np.uint64(1)
    for b in numba.prange(n_blocks):
        lo = b * block
        hi = min(count, lo + block)
        if lo >= hi:
            found[b] = 0
            continue
        s = _unrank(first_rank + lo, n_sites, n_up, binom)
        k = lo
        hint = 0
        for i in range(lo, hi):
            if i > lo:  # Gosper: next word with the same popcount
                c = s & (~s + one)
                r = s + c
                s = (((r ^ s) >> np.uint64(2)) // c) | r
            orbit, hint = _orbit_size_if_representative(s, masks, flips, chars, hint, zword)
            if orbit:
                out_states[k] = s
                out_orbits[k] = orbit
                k += 1
        found[b] = k - lo


@numba.njit(cache=True, inline="always")
def smallest_image(t, masks, flips, images):
    """(smallest image of t over the group, index of the first element reaching it);
    ``images`` is scratch."""
    apply_all(t, masks, flips, images)
    best = images[0]
    best_g = 0
    for g in range(1, images.shape[0]):
        if images[g] < best:
            best = images[g]
            best_g = g
    return best, best_g


@numba.njit(cache=True, inline="always")
def _representative_with_images(t, masks, flips, chars, images, zword):
    """(smallest image of t, χ of an element reaching it); ``images`` is scratch of
    :attr:`SymmetryGroup.image_count` entries.  With ``zword`` ≠ 0 only the spatial half is
    permuted and each image is also compared inverted (element g + |G|/2).  Elements reaching
    the same image differ by a stabiliser element, on which χ is 1 for orbits in the basis,
    so which one is found does not change χ where it is used."""
    if not zword:
        best, best_g = smallest_image(t, masks, flips, images)
        return best, chars[best_g]
    half = images.shape[0]
    apply_all(t, masks, flips, images)
    best = images[0]
    best_g = 0
    for g in range(half):
        y = images[g]
        if y < best:
            best = y
            best_g = g
        z = y ^ zword
        if z < best:
            best = z
            best_g = g + half
    return best, chars[best_g]


@numba.njit(cache=True, parallel=True)
def _representatives(states, masks, flips, chars, zword, n_images, out_reps, out_chars,
                     n_blocks):
    n = states.shape[0]
    n_blocks = min(n, n_blocks)
    block = (n + n_blocks - 1) // max(n_blocks, 1)
    for b in numba.prange(n_blocks):
        images = np.empty(n_images, dtype=np.uint64)
        for i in range(b * block, min(n, (b + 1) * block)):
            rep, ch = _representative_with_images(states[i], masks, flips, chars, images,
                                                  zword)
            out_reps[i] = rep
            out_chars[i] = ch


def representatives_of(group: SymmetryGroup, characters: np.ndarray, states: np.ndarray,
                       n_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(r, χ)`` per state: its representative (smallest image over ``group``) and χ(g) of an
    element g·s = r, for the characters ``characters`` (one per element)."""
    states = np.ascontiguousarray(states, dtype=np.uint64).reshape(-1)
    reps = np.empty_like(states)
    chis = np.empty(states.shape[0], dtype=np.int64)
    _representatives(states, group.masks, group.flip_words,
                     np.ascontiguousarray(characters, dtype=np.int64), group.inversion_word,
                     group.image_count, reps, chis, n_blocks or 4 * numba.get_num_threads())
    return reps, chis


def bucket_table(values: np.ndarray, n_sites: int) -> tuple[np.ndarray, int]:
    """``(buckets, shift)``: ``values[buckets[p]:buckets[p + 1]]`` are the entries whose bits
    above ``shift`` equal p, so a lookup bisects only a few entries (no cache misses in a
    large array).  At most 2^BUCKET_BITS + 1 int64 entries."""
    shift = max(0, n_sites - BUCKET_BITS)
    edges = np.arange(1 << (n_sites - shift), dtype=np.uint64) << np.uint64(shift)
    buckets = np.append(np.searchsorted(values, edges), len(values))  # last edge: 2^N
    return buckets.astype(np.int64), shift


@numba.njit(cache=True, inline="always")
def search_sorted(values, buckets, shift, x):
    """Index of ``x`` in the ascending array ``values``, or −1 (see :func:`bucket_table`)."""
    p = x >> np.uint64(shift)
    if p >= np.uint64(buckets.shape[0] - 1):  # a word wider than N bits
        return -1
    lo, hi = buckets[p], buckets[p + np.uint64(1)]
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    if lo < values.shape[0] and values[lo] == x:
        return lo
    return -1


@numba.njit(cache=True, parallel=True)
def _index_many(values, buckets, shift, states, out):
    for i in numba.prange(states.shape[0]):
        out[i] = search_sorted(values, buckets, shift, states[i])


class SymmetricBasis:
    """Representatives of the compatible orbits of one sector (see the module docstring).

    Build with :meth:`build` (collective over ``comm`` when given).  Attributes after building:
    ``states`` (uint64, ascending representatives), ``orbit_sizes`` (int64), ``dimension``.
    """

    def __init__(self, group: SymmetryGroup, sector: Sector, n_up: int | None = None):
        n = group.n_sites
        if n_up is None:
            if n % 2:
                raise ConfigError(f"symmetric basis: Sz=0 needs an even N, got N={n}")
            n_up = n // 2
        if group.has_spin_inversion and 2 * n_up != n:
            raise ConfigError("symmetric basis: spin inversion needs the Sz = 0 sector")
        self.group = group
        self.sector = sector
        self.n_sites = n
        self.n_up = int(n_up)
        self.full = SzBasis(n, self.n_up)
        self.states: np.ndarray | None = None
        self.orbit_sizes: np.ndarray | None = None
        self.timings: dict[str, float] = {}

    def __repr__(self) -> str:
        return (f"SymmetricBasis(n_sites={self.n_sites}, group={self.group.kind}"
                f"[{len(self.group)}], sector={self.sector.label!r}, "
                f"dimension={self.dimension if self.states is not None else '?'})")

    @property
    def dimension(self) -> int:
        return int(len(self.states))

    @property
    def full_dimension(self) -> int:
        return self.full.dimension

    @property
    def scan_length(self) -> int:
        """How many Sz states the enumeration visits (half of them with spin inversion)."""
        if self.group.has_spin_inversion:
            return comb(self.n_sites - 1, self.n_up)
        return self.full.dimension

    @property
    def _chars(self) -> np.ndarray:
        return self.sector.characters.astype(np.int64)

    def build(self, comm=None, chunk: int = SCAN_CHUNK) -> SymmetricBasis:
        """Enumerate the representatives, then all-gather them in ascending order.

        Rank r scans the chunks r, r + P, r + 2P, ... of the Sz states (round robin:
        representatives are dense among the smallest states, so contiguous shares would leave
        rank 0 with most of the work).
        """
        t0 = time.perf_counter()
        size, rank = (comm.size, comm.rank) if comm is not None else (1, 0)
        states, orbits = self._scan_range(0, self.scan_length, chunk, rank == 0, rank, size)
        if comm is not None and size > 1:
            states, orbits = _allgather(comm, states, orbits)
            order = np.argsort(states, kind="stable")
            states, orbits = states[order], orbits[order]
        self.states, self.orbit_sizes = states, orbits
        self._lookup = None
        self.timings["basis"] = time.perf_counter() - t0
        return self

    def _scan_range(self, lo: int, hi: int, chunk: int, verbose: bool, offset: int = 0,
                    stride: int = 1):
        """Representatives among the Sz states [lo, hi): chunks offset, offset + stride, ..."""
        binom = _binomial_table(self.n_sites)
        masks, flips, chars = self.group.masks, self.group.flip_words, self._chars
        n_blocks = 4 * numba.get_num_threads()
        parts_s, parts_o = [], []
        t0 = time.perf_counter()
        last_log = t0
        starts = range(lo, hi, chunk)[offset::stride]
        for k, start in enumerate(starts):
            count = min(chunk, hi - start)
            out_s = np.empty(count, dtype=np.uint64)
            out_o = np.empty(count, dtype=np.int64)
            found = np.empty(n_blocks, dtype=np.int64)
            _scan(start, count, n_blocks, self.n_sites, self.n_up, binom, masks, flips, chars,
                  self.group.inversion_word, out_s, out_o, found)
            block = -(-count // n_blocks)
            for b in range(n_blocks):
                parts_s.append(out_s[b * block:b * block + found[b]].copy())
                parts_o.append(out_o[b * block:b * block + found[b]].copy())
            now = time.perf_counter()
            if verbose and now - last_log > 5:
                done = (k + 1) / len(starts)
                log.info("representatives: %.1f%% of this rank's %d chunks scanned, %.0f s, "
                         "ETA %.0f s", 100 * done, len(starts), now - t0,
                         (now - t0) * (1 - done) / max(done, 1e-9))
                last_log = now
        states = np.concatenate(parts_s) if parts_s else np.empty(0, np.uint64)
        orbits = np.concatenate(parts_o) if parts_o else np.empty(0, np.int64)
        return states, orbits

    # -- lookups -------------------------------------------------------------------------
    @property
    def lookup(self) -> tuple[np.ndarray, int]:
        """The :func:`bucket_table` of :attr:`states` (built on first use)."""
        if getattr(self, "_lookup", None) is None:
            self._lookup = bucket_table(self.states, self.n_sites)
        return self._lookup

    def index(self, representatives: np.ndarray) -> np.ndarray:
        """Positions of representatives in :attr:`states` (int64; −1 if not in the basis)."""
        reps = np.ascontiguousarray(representatives, dtype=np.uint64).reshape(-1)
        out = np.empty(reps.shape[0], dtype=np.int64)
        buckets, shift = self.lookup
        _index_many(self.states, buckets, shift, reps, out)
        return out.reshape(np.shape(representatives))

    def representatives(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(r, χ)`` for each state: its representative and χ(g) of an element g·s = r."""
        return representatives_of(self.group, self._chars, states)


def _allgather(comm, states: np.ndarray, orbits: np.ndarray):
    from mpi4py import MPI

    counts = np.array(comm.allgather(len(states)), dtype=np.int64)
    displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
    all_s = np.empty(int(counts.sum()), dtype=np.uint64)
    all_o = np.empty(int(counts.sum()), dtype=np.int64)
    comm.Allgatherv(states, [all_s, counts, displ, MPI.UINT64_T])
    comm.Allgatherv(orbits, [all_o, counts, displ, MPI.INT64_T])
    return all_s, all_o
