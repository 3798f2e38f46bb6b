"""This rank's rows of a sparse matrix with few distinct values, stored as value codes.

A Heisenberg matrix has only a handful of distinct off-diagonal elements: 2·J_b in the full
Sz sector, 2·J_b·χ·√(|O_r|/|O_c|) (and sums of them) in a symmetry sector, with orbit sizes
that divide |G|.  So an entry is stored as a 32-bit column (64-bit from 2³¹ rows on) and a
1- or 2-byte **code** into a table of the distinct values; the diagonal is a float64 per row.
That is 5–6 bytes per stored entry instead of the 12 of a CSR/AIJ matrix, and the product —
memory-bound — reads half the bytes.  Nothing is rounded: the table holds the exact float64
values (codes are assigned by the values' bit patterns).

Rows arrive once, as CSR :class:`~nqsgen.hamiltonian.RowBlock` chunks from any row source
(one pass: no counting pass, no second copy of the matrix), and are kept in segments of at
most :data:`SEGMENT_ENTRIES` entries (concatenating small chunks costs at most one segment of
extra memory).  The product y = A x reads x as a whole vector (see
:mod:`nqsgen.whole_vector`); each row's sum has a fixed order (diagonal term first, then four
interleaved partial sums over the off-diagonal entries), so a product does not depend on the
number of ranks or threads.
"""

from __future__ import annotations

import numba
import numpy as np

from nqsgen.errors import SolverError

SEGMENT_ENTRIES = 1 << 25  # off-diagonal entries per stored segment (≈ 200 MB)
MAX_CODES = 1 << 16  # distinct off-diagonal values (uint16 codes)
_HASH_BITS = 18  # open-addressing table for value → code (4× MAX_CODES slots)


@numba.njit(cache=True)
def _encode(indptr, indices, data, row_lo, diagonal, off_indptr, off_cols, codes,
            hash_keys, hash_used, hash_codes, table, n_table):
    """Split CSR rows into the diagonal and coded off-diagonal entries; returns the new table
    length, or −1 when more than ``table.shape[0]`` distinct values occur."""
    n_rows = indptr.shape[0] - 1
    mult = np.uint64(0x9E3779B97F4A7C15)
    shift = np.uint64(64 - _HASH_BITS)
    slot_mask = np.uint64((1 << _HASH_BITS) - 1)
    bits = data.view(np.uint64)
    m = 0
    off_indptr[0] = 0
    for i in range(n_rows):
        diagonal[i] = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            col = indices[j]
            if col == row_lo + i:
                diagonal[i] += data[j]
                continue
            key = bits[j]
            slot = (key * mult) >> shift
            while hash_used[slot] and hash_keys[slot] != key:
                slot = (slot + np.uint64(1)) & slot_mask
            if not hash_used[slot]:
                if n_table >= table.shape[0]:
                    return -1
                hash_used[slot] = True
                hash_keys[slot] = key
                hash_codes[slot] = n_table
                table[n_table] = data[j]
                n_table += 1
            off_cols[m] = col
            codes[m] = hash_codes[slot]
            m += 1
        off_indptr[i + 1] = m
    return n_table


@numba.njit(cache=True, parallel=True)
def _multiply(indptr, cols, codes, table, diagonal, x, row0, y, n_blocks):
    """y[i] = diagonal[i]·x[row0 + i] + Σ_j table[codes[j]]·x[cols[j]] for this segment.

    Four partial sums per row (entries j ≡ 0, 1, 2, 3 mod 4 from the row's start, added as
    ((s0 + s1) + (s2 + s3))): a single running sum would make every entry wait for the
    previous addition's latency, which — not memory — then bounds the product.
    """
    n = y.shape[0]
    n_blocks = max(1, min(n, n_blocks))
    block = (n + n_blocks - 1) // n_blocks
    for b in numba.prange(n_blocks):
        for i in range(b * block, min(n, (b + 1) * block)):
            start, stop = indptr[i], indptr[i + 1]
            s0 = diagonal[i] * x[row0 + i]
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            j = start
            while j + 4 <= stop:
                s0 += table[codes[j]] * x[cols[j]]
                s1 += table[codes[j + 1]] * x[cols[j + 1]]
                s2 += table[codes[j + 2]] * x[cols[j + 2]]
                s3 += table[codes[j + 3]] * x[cols[j + 3]]
                j += 4
            if j < stop:
                s0 += table[codes[j]] * x[cols[j]]
            if j + 1 < stop:
                s1 += table[codes[j + 1]] * x[cols[j + 1]]
            if j + 2 < stop:
                s2 += table[codes[j + 2]] * x[cols[j + 2]]
            y[i] = (s0 + s1) + (s2 + s3)


class _Encoder:
    """The value → code map shared by every chunk of one rank."""

    def __init__(self):
        self.keys = np.zeros(1 << _HASH_BITS, dtype=np.uint64)
        self.used = np.zeros(1 << _HASH_BITS, dtype=np.bool_)
        self.slots = np.zeros(1 << _HASH_BITS, dtype=np.uint16)
        self.table = np.empty(MAX_CODES)
        self.size = 0

    def encode(self, block, index_dtype):
        """``(diagonal, off_indptr, off_cols, codes)`` of one RowBlock."""
        n = len(block.indptr) - 1
        diagonal = np.empty(n)
        off_indptr = np.empty(n + 1, dtype=np.int64)
        off_cols = np.empty(len(block.indices), dtype=index_dtype)
        codes = np.empty(len(block.indices), dtype=np.uint16)
        size = _encode(block.indptr, block.indices, np.ascontiguousarray(block.data),
                       block.row_lo, diagonal, off_indptr, off_cols, codes, self.keys,
                       self.used, self.slots, self.table, self.size)
        if size < 0:
            raise SolverError(f"indexed matrix: more than {MAX_CODES} distinct matrix "
                              "elements; use --matrix aij")
        self.size = size
        m = int(off_indptr[-1])
        return diagonal, off_indptr, off_cols[:m].copy(), codes[:m].copy()


class IndexedRows:
    """Rows [row_lo, row_hi) of a square matrix of dimension ``dimension`` (see the module
    docstring).  Build with :meth:`from_blocks`; multiply with :meth:`multiply`."""

    def __init__(self, row_lo: int, row_hi: int, dimension: int, diagonal: np.ndarray,
                 segments: list, table: np.ndarray):
        self.row_lo, self.row_hi, self.dimension = int(row_lo), int(row_hi), int(dimension)
        self.diagonal = diagonal
        self.segments = segments  # (first row, indptr, cols, codes), rows relative to row_lo
        self.table = table

    @classmethod
    def from_blocks(cls, blocks, row_lo: int, row_hi: int, dimension: int) -> IndexedRows:
        """Consume CSR RowBlocks covering rows [row_lo, row_hi) in order (one pass)."""
        index_dtype = np.int32 if dimension < 2**31 else np.int64
        encoder = _Encoder()
        diagonal = np.empty(row_hi - row_lo)
        segments, pending, pending_entries, next_row = [], [], 0, row_lo
        for block in blocks:
            if block.row_lo != next_row:
                raise ValueError(f"row blocks out of order: expected row {next_row}, got "
                                 f"{block.row_lo}")
            diag, indptr, cols, codes = encoder.encode(block, index_dtype)
            diagonal[block.row_lo - row_lo:block.row_lo - row_lo + len(diag)] = diag
            next_row = block.row_lo + len(diag)
            pending.append((block.row_lo - row_lo, indptr, cols, codes))
            pending_entries += len(cols)
            if pending_entries >= SEGMENT_ENTRIES:
                segments.append(_concatenate(pending))
                pending, pending_entries = [], 0
        if next_row != row_hi:
            raise ValueError(f"row blocks end at row {next_row}, not {row_hi}")
        if pending:
            segments.append(_concatenate(pending))
        narrow = encoder.size <= 256
        segments = [(r, p, c, k.astype(np.uint8) if narrow else k) for r, p, c, k in segments]
        return cls(row_lo, row_hi, dimension, diagonal, segments,
                   encoder.table[:encoder.size].copy())

    @property
    def n_rows(self) -> int:
        return self.row_hi - self.row_lo

    @property
    def nnz(self) -> int:
        """Stored entries of these rows, the diagonal counted once per row."""
        return self.n_rows + sum(len(cols) for _, _, cols, _ in self.segments)

    @property
    def nbytes(self) -> int:
        return self.diagonal.nbytes + self.table.nbytes + sum(
            p.nbytes + c.nbytes + k.nbytes for _, p, c, k in self.segments)

    def multiply(self, x: np.ndarray, y: np.ndarray) -> None:
        """y = (these rows of A) · x; ``x`` is the whole vector (length ``dimension``),
        ``y`` this rank's slice (length ``n_rows``), overwritten."""
        n_blocks = 4 * numba.get_num_threads()
        for first, indptr, cols, codes in self.segments:
            n = len(indptr) - 1
            _multiply(indptr, cols, codes, self.table, self.diagonal[first:first + n], x,
                      self.row_lo + first, y[first:first + n], n_blocks)
        if not self.segments:
            y[:] = self.diagonal * x[self.row_lo:self.row_hi]

    def csr(self):
        """These rows as scipy CSR with global columns (tests and cross-checks)."""
        import scipy.sparse

        parts = []
        for _first, indptr, cols, codes in self.segments:
            n = len(indptr) - 1
            off = scipy.sparse.csr_matrix((self.table[codes], cols, indptr),
                                          shape=(n, self.dimension))
            parts.append(off)
        off = scipy.sparse.vstack(parts, format="csr") if parts else scipy.sparse.csr_matrix(
            (self.n_rows, self.dimension))
        diag = scipy.sparse.csr_matrix(
            (self.diagonal, np.arange(self.row_lo, self.row_hi), np.arange(self.n_rows + 1)),
            shape=(self.n_rows, self.dimension))
        return (off + diag).tocsr()


def _concatenate(parts):
    """One segment from consecutive encoded chunks."""
    first = parts[0][0]
    offsets = np.cumsum([0] + [len(cols) for _, _, cols, _ in parts])
    indptr = np.concatenate([parts[0][1][:1]] + [p[1][1:] + off
                                                 for p, off in zip(parts, offsets, strict=False)])
    cols = np.concatenate([p[2] for p in parts])
    codes = np.concatenate([p[3] for p in parts])
    return first, indptr, cols, codes
