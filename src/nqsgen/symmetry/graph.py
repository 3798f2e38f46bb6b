"""The orbit graph: H between the orbits of G', once, for every sector and every J2.

Finding the orbit representative of every connected state (|G'| Beneš permutations each) is
the expensive part of a symmetric Hamiltonian, and it does not depend on the sector nor on
the couplings.  :class:`OrbitGraph` does it once: for every orbit representative R (the
smallest word of its G'-orbit, :mod:`nqsgen.symmetry.basis`) and every bond b whose spins are
antiparallel, it stores

    col  — the orbit of t = R with the spins of b exchanged (index into ``states``),
    elem — an element g ∈ G' with g·t = col's representative,
    cls  — the bond's coupling class (0: J1, 1: J2),
    tcls — col's stabiliser class (so that a matvec reads only x at random),

and per orbit the σᶻσᶻ sums of each class (the diagonal).  Every sector operator of
:mod:`nqsgen.symmetry.sector` is then a cheap pass over these arrays, for any (J1, J2).
Stabilisers: every orbit gets a class id whose table lists its stabiliser's elements.

MPI: every rank holds all representatives (as :class:`SymmetricBasis` does) and the graph
rows of its own contiguous share of the orbits (``row_lo``, ``row_hi``).
"""

from __future__ import annotations

import logging
import time

import numba
import numpy as np

from nqsgen.basis import row_partition
from nqsgen.symmetry.basis import SymmetricBasis, search_sorted, smallest_image
from nqsgen.symmetry.momentum import MomentumGroup
from nqsgen.symmetry.permutations import apply_all

log = logging.getLogger(__name__)

N_CLASSES = 2  # coupling classes: J1, J2


@numba.njit(cache=True, parallel=True)
def _stabiliser_masks(states, masks, flips, out):
    """``out[i]`` = bit mask (words of 64 elements) of the elements fixing ``states[i]``."""
    order = masks.shape[1]
    for i in numba.prange(states.shape[0]):
        images = np.empty(order, dtype=np.uint64)
        apply_all(states[i], masks, flips, images)
        for g in range(order):
            if images[g] == states[i]:
                out[i, g >> 6] |= np.uint64(1) << np.uint64(g & 63)


@numba.njit(cache=True, parallel=True)
def _count_flippable(states, lo, n_rows, site_a, site_b, out):
    one = np.uint64(1)
    for i in numba.prange(n_rows):
        r = states[lo + i]
        n = 0
        for k in range(site_a.shape[0]):
            if ((r >> site_a[k]) & one) != ((r >> site_b[k]) & one):
                n += 1
        out[i] = n


@numba.njit(cache=True, parallel=True)
def _fill_graph(states, buckets, shift, lo, n_rows, site_a, site_b, bond_class, masks, flips,
                indptr, cols, elems, classes, diag, n_blocks):
    one = np.uint64(1)
    n_blocks = min(n_rows, n_blocks)
    block = (n_rows + n_blocks - 1) // max(n_blocks, 1)
    for b in numba.prange(n_blocks):
        images = np.empty(masks.shape[1], dtype=np.uint64)
        for i in range(b * block, min(n_rows, (b + 1) * block)):
            r = states[lo + i]
            e = indptr[i]
            for k in range(site_a.shape[0]):
                c = bond_class[k]
                if ((r >> site_a[k]) & one) == ((r >> site_b[k]) & one):
                    diag[i, c] += 1
                    continue
                diag[i, c] -= 1
                t = r ^ ((one << site_a[k]) | (one << site_b[k]))
                best, best_g = smallest_image(t, masks, flips, images)
                cols[e] = search_sorted(states, buckets, shift, best)
                elems[e] = best_g
                classes[e] = c
                e += 1


class OrbitGraph:
    """All G'-orbits of the Sz = 0 sector and H's connections between them (module docstring).

    Attributes after :meth:`build`: ``states`` (uint64 representatives, ascending),
    ``orbit_sizes`` (int64), ``orbit_class`` (int32 stabiliser class per orbit),
    ``stabilisers`` (list of element-index arrays per class), ``row_lo``/``row_hi``, and this
    rank's rows ``indptr``/``cols``/``elems``/``classes``/``tcls``/``diag``.
    """

    def __init__(self, cluster, momentum: MomentumGroup | None = None):
        self.cluster = cluster
        self.momentum = momentum or MomentumGroup(cluster)
        self.group = self.momentum.group
        self.n_sites = cluster.n_sites
        self.timings: dict[str, float] = {}

    @property
    def n_orbits(self) -> int:
        return int(len(self.states))

    @property
    def n_entries(self) -> int:
        return int(self.indptr[-1])

    def build(self, comm=None, fill: bool = True) -> OrbitGraph:
        """Orbits and stabiliser classes, then (``fill``) this rank's graph rows."""
        t0 = time.perf_counter()
        basis = SymmetricBasis(self.group, self.group.sectors[0]).build(comm)
        self.states, self.orbit_sizes = basis.states, basis.orbit_sizes
        self.timings["orbits"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        self._classify()
        self.timings["stabilisers"] = time.perf_counter() - t1
        size, rank = (comm.size, comm.rank) if comm is not None else (1, 0)
        self.row_lo, self.row_hi = row_partition(self.n_orbits, size, rank)
        if not fill:
            return self
        t2 = time.perf_counter()
        self._fill(basis.lookup)
        if self.n_entries and self.cols.min() < 0:  # every orbit is in the list
            raise RuntimeError("orbit graph: a connected state has no representative")
        dtype = np.uint8 if len(self.stabilisers) <= 256 else np.uint16
        self.tcls = self.orbit_class.astype(dtype)[self.cols]
        self.timings["graph"] = time.perf_counter() - t2
        log.info("orbit graph: %d orbits of |G'| = %d, %d stabiliser classes, %d entries on "
                 "this rank (%.1f s orbits, %.1f s graph)", self.n_orbits, len(self.group),
                 len(self.stabilisers), self.n_entries, self.timings["orbits"],
                 self.timings["graph"])
        return self

    def _classify(self) -> None:
        words = -(-len(self.group) // 64)
        masks = np.zeros((self.n_orbits, words), dtype=np.uint64)
        _stabiliser_masks(self.states, self.group.masks, self.group.flip_words, masks)
        table, inverse = np.unique(masks, axis=0, return_inverse=True)
        self.orbit_class = inverse.reshape(-1).astype(np.int32)
        bits = np.arange(len(self.group))
        self.stabilisers = [bits[(row[bits >> 6] >> (bits & 63).astype(np.uint64))
                                 & np.uint64(1) == 1] for row in table]

    def _fill(self, lookup) -> None:
        c = self.cluster
        site_a = np.concatenate([c.j1_bonds[:, 0], c.j2_bonds[:, 0]]).astype(np.uint64)
        site_b = np.concatenate([c.j1_bonds[:, 1], c.j2_bonds[:, 1]]).astype(np.uint64)
        bond_class = np.concatenate([np.zeros(len(c.j1_bonds)), np.ones(len(c.j2_bonds))]
                                    ).astype(np.int64)
        n_rows = self.row_hi - self.row_lo
        counts = np.empty(n_rows, dtype=np.int64)
        _count_flippable(self.states, self.row_lo, n_rows, site_a, site_b, counts)
        self.indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        total = int(self.indptr[-1])
        self.cols = np.empty(total, dtype=np.int32 if self.n_orbits < 2**31 else np.int64)
        self.elems = np.empty(total, dtype=np.uint8 if len(self.group) <= 256 else np.uint16)
        self.classes = np.empty(total, dtype=np.uint8)
        self.diag = np.zeros((n_rows, N_CLASSES), dtype=np.int16)
        buckets, shift = lookup
        _fill_graph(self.states, buckets, shift, self.row_lo, n_rows, site_a, site_b,
                    bond_class, self.group.masks, self.group.flip_words, self.indptr,
                    self.cols, self.elems, self.classes, self.diag,
                    8 * numba.get_num_threads())

    def nbytes(self) -> int:
        """Bytes this rank holds (representatives, classes and graph rows)."""
        arrays = (self.states, self.orbit_sizes, self.orbit_class, self.indptr, self.cols,
                  self.tcls, self.elems, self.classes, self.diag)
        return int(sum(a.nbytes for a in arrays))
