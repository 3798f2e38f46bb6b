"""The Heisenberg Hamiltonian in a symmetry-adapted basis (one sector).

With |r̃⟩ = √|O_r| P_χ |r⟩ (see :mod:`nqsgen.symmetry.basis`) and H commuting with G, ::

    ⟨r̃'|H|r̃⟩ = Σ_{k: rep(t_k) = r'} h_k χ(g_k) √(|O_r| / |O_r'|),

where H|r⟩ = Σ_k h_k |t_k⟩ in the σᶻ basis (diagonal term included) and g_k · t_k = r'.
Connected states whose orbit is incompatible with χ drop out.  Row r of the (symmetric) matrix
is generated from r's own connected states; entries for the same column are summed, the
diagonal is always stored, columns are ascending.  Same units and conventions as
:mod:`nqsgen.hamiltonian` (Pauli matrices, no sign rule).
"""

from __future__ import annotations

import logging
import time

import numba
import numpy as np

from nqsgen.hamiltonian import Heisenberg, RowBlock, _diagonal_element
from nqsgen.symmetry.basis import SymmetricBasis, _representative_with_images, search_sorted

log = logging.getLogger(__name__)


@numba.njit(cache=True, inline="always")
def _insert(cols, vals, start, n, col, value):
    """Add ``value`` at column ``col`` in the sorted row cols[start:start+n]; new length."""
    j = start + n
    while j > start and cols[j - 1] > col:
        j -= 1
    if j > start and cols[j - 1] == col:
        vals[j - 1] += value
        return n
    k = start + n
    while k > j:
        cols[k] = cols[k - 1]
        vals[k] = vals[k - 1]
        k -= 1
    cols[j] = col
    vals[j] = value
    return n + 1


@numba.njit(cache=True, parallel=True)
def _rows(reps, buckets, shift, orbits, row_lo, n_rows, site_a, site_b, coupling, masks, flips,
          chars, zword, n_images, cols, vals, counts, n_blocks):
    """Rows [row_lo, row_lo + n_rows) into the fixed-width scratch ``cols``/``vals``."""
    one = np.uint64(1)
    n_blocks = min(n_rows, n_blocks)
    block = (n_rows + n_blocks - 1) // max(n_blocks, 1)
    for b in numba.prange(n_blocks):
        images = np.empty(n_images, dtype=np.uint64)
        for i in range(b * block, min(n_rows, (b + 1) * block)):
            row = row_lo + i
            r = reps[row]
            row_cols = cols[i]
            row_vals = vals[i]
            row_cols[0] = row
            row_vals[0] = _diagonal_element(r, site_a, site_b, coupling)
            n = 1
            for k in range(site_a.shape[0]):
                if ((r >> site_a[k]) & one) == ((r >> site_b[k]) & one):
                    continue
                t = r ^ ((one << site_a[k]) | (one << site_b[k]))
                rep, ch = _representative_with_images(t, masks, flips, chars, images, zword)
                col = search_sorted(reps, buckets, shift, rep)
                if col < 0:
                    continue
                value = 2.0 * coupling[k] * ch * np.sqrt(orbits[row] / orbits[col])
                n = _insert(row_cols, row_vals, 0, n, col, value)  # ≤ one entry per bond
            counts[i] = n


def _inside_counts(block: RowBlock, lo: int, hi: int) -> np.ndarray:
    """Entries per row whose column lies in [lo, hi) (PETSc's diagonal block)."""
    inside = (block.indices >= lo) & (block.indices < hi)
    rows = np.repeat(np.arange(len(block.indptr) - 1), np.diff(block.indptr))
    return np.bincount(rows, weights=inside, minlength=len(block.indptr) - 1)


class SymmetricHeisenberg:
    """The rows of a :class:`~nqsgen.hamiltonian.Heisenberg` in a :class:`SymmetricBasis`."""

    def __init__(self, hamiltonian: Heisenberg, basis: SymmetricBasis, two_pass: bool = False):
        if hamiltonian.n_sites != basis.n_sites:
            raise ValueError("hamiltonian and basis differ in the number of sites")
        self.hamiltonian = hamiltonian
        self.basis = basis
        self.two_pass = two_pass

    @property
    def dimension(self) -> int:
        return self.basis.dimension

    @property
    def max_row_length(self) -> int:
        return len(self.hamiltonian.couplings) + 1

    def rows(self, lo: int, hi: int) -> RowBlock:
        """CSR rows [lo, hi) (global column indices, ascending; sums of merged entries)."""
        h, basis, group = self.hamiltonian, self.basis, self.basis.group
        n = hi - lo
        width = self.max_row_length
        index_dtype = np.int32 if self.dimension < 2**31 else np.int64
        cols = np.empty((n, width), dtype=index_dtype)
        vals = np.empty((n, width), dtype=np.float64)
        counts = np.empty(n, dtype=np.int64)
        buckets, shift = basis.lookup
        _rows(basis.states, buckets, shift, basis.orbit_sizes, lo, n, h._a, h._b, h.couplings,
              group.masks, group.flip_words, basis.sector.characters.astype(np.int64),
              group.inversion_word, group.image_count, cols, vals, counts,
              8 * numba.get_num_threads())
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        keep = np.arange(width)[None, :] < counts[:, None]
        return RowBlock(lo, indptr, cols[keep], vals[keep])

    def local_rows(self, lo: int, hi: int, chunk: int = 1 << 16):
        """``(nnz, nnz_in_diagonal_block, blocks)`` for rows [lo, hi) (the interface of
        :func:`nqsgen.eigensolvers.assemble_operator`).

        Finding representatives is the expensive part, so by default the rows are generated
        once and kept until PETSc has taken them (the matrix is held twice at the peak).  With
        ``two_pass`` set, a first pass only counts and the rows are generated again while they
        are inserted: half the memory, twice the generation time.
        """
        kept, nnz, inside = [], [], []
        for block in self._generate(lo, hi, chunk, "counting" if self.two_pass else "rows"):
            nnz.append(np.diff(block.indptr))
            inside.append(_inside_counts(block, lo, hi))
            if not self.two_pass:
                kept.append(block)
        nnz = np.concatenate(nnz).astype(np.int64) if nnz else np.empty(0, np.int64)
        inside = np.concatenate(inside).astype(np.int64) if inside else np.empty(0, np.int64)

        def drain():
            if self.two_pass:
                yield from self._generate(lo, hi, chunk, "rows (second pass)")
            while kept:
                yield kept.pop(0)

        return nnz, inside, drain()

    def row_blocks(self, lo: int, hi: int, chunk: int = 1 << 16):
        """Rows [lo, hi) chunk by chunk, generated once (the interface of
        :func:`nqsgen.eigensolvers.assemble_indexed`)."""
        yield from self._generate(lo, hi, chunk, "rows")

    def _generate(self, lo: int, hi: int, chunk: int, what: str):
        t0 = last = time.perf_counter()
        for start in range(lo, hi, chunk):
            yield self.rows(start, min(start + chunk, hi))
            now = time.perf_counter()
            if now - last > 10 and hi > lo:
                done = (min(start + chunk, hi) - lo) / (hi - lo)
                log.info("symmetric %s: %.1f%% of %d rows, %.0f s, ETA %.0f s", what,
                         100 * done, hi - lo, now - t0, (now - t0) * (1 - done) / done)
                last = now

    def csr(self):
        """The whole matrix as scipy CSR (tests and small clusters)."""
        import scipy.sparse

        block = self.rows(0, self.dimension)
        return scipy.sparse.csr_matrix((block.data, block.indices, block.indptr),
                                       shape=(self.dimension, self.dimension))
