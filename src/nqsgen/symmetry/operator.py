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
from nqsgen.symmetry.permutations import apply_all

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


@numba.njit(cache=True, inline="always")
def _smallest_packed(packed, bond, cz):
    """min over g of packed[g] ^ bond[g] and of the same ^ ``cz`` (a vectorised loop)."""
    best = np.uint64(0xFFFFFFFFFFFFFFFF)
    for g in range(packed.shape[0]):
        a = packed[g] ^ bond[g]
        best = min(best, a, a ^ cz)
    return best


@numba.njit(cache=True, parallel=True)
def _rows(reps, buckets, shift, orbits, row_lo, n_rows, site_a, site_b, coupling, masks, flips,
          chars, zword, n_images, bond_images, index_bits, cols, vals, counts, n_blocks):
    """Rows [row_lo, row_lo + n_rows) into the fixed-width scratch ``cols``/``vals``.

    A connected state t = r ⊕ m_k differs from the row's representative r by the two bits
    m_k of bond k, and permutations are linear over XOR: g·t = g·r ⊕ g(m_k).  So r's images
    are computed once per row (Beneš networks) and every connected state's images are one
    XOR each with the precomputed ``bond_images[k, g]`` = g(m_k).  Images are packed as
    (image << index_bits) | (z << (index_bits − 1)) | g, so one unsigned minimum finds the
    representative and an element reaching it (z: the spin-inverted partner g + n_images,
    whose image is the XOR with ``zword``).  With ``index_bits`` = 0 (a word too wide to
    pack) the images are permuted per connected state instead.
    """
    one = np.uint64(1)
    n_blocks = min(n_rows, n_blocks)
    block = (n_rows + n_blocks - 1) // max(n_blocks, 1)
    bits = np.uint64(index_bits)
    low_mask = (one << bits) - one
    g_mask = (one << (bits - one)) - one if index_bits > 0 else np.uint64(0)
    cz = ((zword << bits) | (one << (bits - one))) if (zword and index_bits > 0) \
        else np.uint64(0)
    for b in numba.prange(n_blocks):
        images = np.empty(n_images, dtype=np.uint64)
        packed = np.empty(n_images, dtype=np.uint64)
        for i in range(b * block, min(n_rows, (b + 1) * block)):
            row = row_lo + i
            r = reps[row]
            row_cols = cols[i]
            row_vals = vals[i]
            row_cols[0] = row
            row_vals[0] = _diagonal_element(r, site_a, site_b, coupling)
            n = 1
            if index_bits > 0:
                apply_all(r, masks, flips, images)
                for g in range(n_images):
                    packed[g] = (images[g] << bits) | np.uint64(g)
            for k in range(site_a.shape[0]):
                if ((r >> site_a[k]) & one) == ((r >> site_b[k]) & one):
                    continue
                if index_bits > 0:
                    best = _smallest_packed(packed, bond_images[k], cz)
                    rep = best >> bits
                    low = best & low_mask
                    element = (low & g_mask) + (low >> (bits - one)) * np.uint64(n_images)
                    ch = chars[element]
                else:
                    t = r ^ ((one << site_a[k]) | (one << site_b[k]))
                    rep, ch = _representative_with_images(t, masks, flips, chars, images,
                                                          zword)
                col = search_sorted(reps, buckets, shift, rep)
                if col < 0:
                    continue
                value = 2.0 * coupling[k] * ch * np.sqrt(orbits[row] / orbits[col])
                n = _insert(row_cols, row_vals, 0, n, col, value)  # ≤ one entry per bond
            counts[i] = n


def packing(group, site_a, site_b) -> tuple[np.ndarray, int]:
    """``(bond_images, index_bits)`` for :func:`_rows`: g(m_k) << index_bits per bond k and
    computed element g, with index_bits = bits of an element index + 1 (the z bit); index_bits
    = 0 when an N-bit image and the index do not fit in 64 bits."""
    n_images = group.image_count
    index_bits = max(1, (n_images - 1).bit_length()) + 1
    if group.n_sites + index_bits > 64:
        return np.zeros((len(site_a), n_images), dtype=np.uint64), 0
    perms = group.perms[:n_images].astype(np.uint64)  # (n_images, N): bit i -> perms[g, i]
    a = perms[:, np.asarray(site_a, dtype=np.int64)].T
    b = perms[:, np.asarray(site_b, dtype=np.int64)].T
    one = np.uint64(1)
    bond_images = ((one << a) | (one << b)) << np.uint64(index_bits)
    return np.ascontiguousarray(bond_images), index_bits


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
        self._packing = None  # (bond_images, index_bits), built on first use

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
        if self._packing is None:
            self._packing = packing(group, h._a, h._b)
        bond_images, index_bits = self._packing
        _rows(basis.states, buckets, shift, basis.orbit_sizes, lo, n, h._a, h._b, h.couplings,
              group.masks, group.flip_words, basis.sector.characters.astype(np.int64),
              group.inversion_word, group.image_count, bond_images, index_bits, cols, vals,
              counts, 8 * numba.get_num_threads())
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
