"""Heisenberg Hamiltonians in the σᶻ basis: the project's single source of matrix elements.

Conventions
-----------
H = Σ_b J_b σ_a·σ_b over bonds b = (a, c) with **Pauli matrices** (so H = 4 Σ_b J_b S_a·S_c;
energies are in "σ units" unless a name says ``per_site``, which is in S·S units:
``energy_per_site = energy / (4 N)``).  With σ·σ = σᶻσᶻ + 2(σ⁺σ⁻ + σ⁻σ⁺):

* diagonal:      ⟨s|H|s⟩ = Σ_b J_b · (+1 if spins a, c are parallel else −1);
* off-diagonal:  ⟨s ⊕ {a,c}|H|s⟩ = 2 J_b for every bond whose spins are antiparallel
  (``s ⊕ {a,c}`` exchanges the two spins).

No sign rule, Marshall rotation or any other basis change is applied — ever: the off-diagonal
elements are +2J, and the ground state's sign structure is the object of study.

Rows are generated for any contiguous row range of an :class:`~nqsgen.basis.SzBasis`, so every
MPI rank builds only its own rows.  Column indices within a row are ascending; bonds with
J_b = 0 contribute nothing (not even explicit zeros), the diagonal is always stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numba
import numpy as np
import scipy.sparse

from nqsgen.basis import SzBasis
from nqsgen.errors import ConfigError


@numba.njit(cache=True, inline="always")
def _diagonal_element(s, site_a, site_b, coupling):
    e = 0.0
    one = np.uint64(1)
    for k in range(site_a.shape[0]):
        same = ((s >> site_a[k]) & one) == ((s >> site_b[k]) & one)
        e += coupling[k] if same else -coupling[k]
    return e


@numba.njit(cache=True, parallel=True)
def _count_rows(states, site_a, site_b, low_rank, high_offset, n_low, col_lo, col_hi,
                nnz, nnz_diag_block):
    """Per row: stored entries, and those with column in [col_lo, col_hi) (PETSc diag block)."""
    one = np.uint64(1)
    mask = (one << np.uint64(n_low)) - one
    for i in numba.prange(states.shape[0]):
        s = states[i]
        total = 1
        inside = 1  # the diagonal (row i + col_lo lies in the block by construction)
        for k in range(site_a.shape[0]):
            if ((s >> site_a[k]) & one) != ((s >> site_b[k]) & one):
                t = s ^ ((one << site_a[k]) | (one << site_b[k]))
                col = high_offset[t >> np.uint64(n_low)] + low_rank[t & mask]
                total += 1
                if col_lo <= col < col_hi:
                    inside += 1
        nnz[i] = total
        nnz_diag_block[i] = inside


@numba.njit(cache=True, parallel=True)
def _fill_rows(states, row_lo, site_a, site_b, coupling, low_rank, high_offset, n_low,
               indptr, indices, data):
    one = np.uint64(1)
    mask = (one << np.uint64(n_low)) - one
    for i in numba.prange(states.shape[0]):
        s = states[i]
        start = indptr[i]
        indices[start] = row_lo + i
        data[start] = _diagonal_element(s, site_a, site_b, coupling)
        n = 1
        for k in range(site_a.shape[0]):
            if ((s >> site_a[k]) & one) != ((s >> site_b[k]) & one):
                t = s ^ ((one << site_a[k]) | (one << site_b[k]))
                col = high_offset[t >> np.uint64(n_low)] + low_rank[t & mask]
                # insertion into the row, keeping columns ascending
                j = start + n
                while j > start and indices[j - 1] > col:
                    indices[j] = indices[j - 1]
                    data[j] = data[j - 1]
                    j -= 1
                indices[j] = col
                data[j] = 2.0 * coupling[k]
                n += 1


@numba.njit(cache=True, parallel=True)
def _diagonal(states, site_a, site_b, coupling, out):
    for i in numba.prange(states.shape[0]):
        out[i] = _diagonal_element(states[i], site_a, site_b, coupling)


@numba.njit(cache=True)
def _off_diagonal(states, site_a, site_b, coupling, counts, flipped, values):
    one = np.uint64(1)
    n = 0
    for i in range(states.shape[0]):
        s = states[i]
        c = 0
        for k in range(site_a.shape[0]):
            if ((s >> site_a[k]) & one) != ((s >> site_b[k]) & one):
                flipped[n] = s ^ ((one << site_a[k]) | (one << site_b[k]))
                values[n] = 2.0 * coupling[k]
                n += 1
                c += 1
        counts[i] = c
    return n


@dataclass(frozen=True)
class RowBlock:
    """CSR rows ``[row_lo, row_lo + len(indptr) - 1)`` of H (columns are global indices)."""

    row_lo: int
    indptr: np.ndarray  # int64, starts at 0
    indices: np.ndarray  # int32 (int64 when K ≥ 2³¹), ascending within each row
    data: np.ndarray  # float64


class Heisenberg:
    """H = Σ_b J_b σ_a·σ_c (Pauli units) on ``n_sites`` spins.

    Parameters
    ----------
    n_sites:
        Number of spins.
    edges:
        (M, 2) site pairs, each bond once.
    couplings:
        (M,) exchange constants J_b; bonds with J_b = 0 are dropped.
    """

    def __init__(self, n_sites: int, edges, couplings):
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        couplings = np.asarray(couplings, dtype=np.float64).reshape(-1)
        if edges.shape[0] != couplings.shape[0]:
            raise ConfigError("hamiltonian: edges and couplings differ in length")
        if edges.size and (edges.min() < 0 or edges.max() >= n_sites):
            raise ConfigError(f"hamiltonian: a bond refers to a site outside 0..{n_sites - 1}")
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ConfigError("hamiltonian: a bond connects a site to itself")
        keep = couplings != 0.0
        self.n_sites = int(n_sites)
        self.edges = edges[keep]
        self.couplings = couplings[keep]
        self._a = self.edges[:, 0].astype(np.uint64)
        self._b = self.edges[:, 1].astype(np.uint64)

    @classmethod
    def from_cluster(cls, cluster, j2: float, j1: float = 1.0) -> Heisenberg:
        """J1 on the cluster's J1 bonds, J2 on its J2 bonds."""
        edges, couplings = cluster.bonds(j1=j1, j2=j2)
        return cls(cluster.n_sites, edges, couplings)

    def nnz(self, basis: SzBasis) -> int:
        """Exact stored entries of H in ``basis``: K diagonal + 2·C(N-2, n_up-1) per bond."""
        per_bond = 2 * comb(basis.n_sites - 2, basis.n_up - 1) if basis.n_up >= 1 else 0
        return basis.dimension + len(self.couplings) * per_bond

    def diagonal(self, states: np.ndarray) -> np.ndarray:
        """⟨s|H|s⟩ for each state (σ units)."""
        states = np.ascontiguousarray(states, dtype=np.uint64).reshape(-1)
        out = np.empty(states.shape[0])
        _diagonal(states, self._a, self._b, self.couplings, out)
        return out

    def off_diagonal(self, states: np.ndarray):
        """Connected states: ``(counts, flipped, values)``.

        ``counts[i]`` entries of ``flipped``/``values`` (in order) belong to ``states[i]``;
        ``values`` are ⟨flipped|H|state⟩ = 2 J_b.
        """
        states = np.ascontiguousarray(states, dtype=np.uint64).reshape(-1)
        cap = states.shape[0] * len(self.couplings)
        counts = np.empty(states.shape[0], dtype=np.int64)
        flipped = np.empty(cap, dtype=np.uint64)
        values = np.empty(cap)
        n = _off_diagonal(states, self._a, self._b, self.couplings, counts, flipped, values)
        return counts, flipped[:n], values[:n]

    def row_counts(self, basis: SzBasis, lo: int, hi: int, col_lo: int | None = None,
                   col_hi: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Entries per row for rows [lo, hi), and those with column in [col_lo, col_hi)."""
        col_lo = lo if col_lo is None else col_lo
        col_hi = hi if col_hi is None else col_hi
        states = basis.states(lo, hi)
        low_rank, high_offset, n_low = basis.lin_tables
        nnz = np.empty(hi - lo, dtype=np.int32)
        inside = np.empty(hi - lo, dtype=np.int32)
        _count_rows(states, self._a, self._b, low_rank, high_offset, n_low, col_lo, col_hi,
                    nnz, inside)
        return nnz, inside

    def rows(self, basis: SzBasis, lo: int, hi: int, counts: np.ndarray | None = None) -> RowBlock:
        """CSR rows [lo, hi) of H in ``basis`` (``counts`` from :meth:`row_counts` if known)."""
        self._check_basis(basis)
        states = basis.states(lo, hi)
        low_rank, high_offset, n_low = basis.lin_tables
        if counts is None:
            counts, _ = self.row_counts(basis, lo, hi)
        indptr = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        index_dtype = np.int32 if basis.dimension < 2**31 else np.int64
        indices = np.empty(indptr[-1], dtype=index_dtype)
        data = np.empty(indptr[-1], dtype=np.float64)
        _fill_rows(states, lo, self._a, self._b, self.couplings, low_rank, high_offset, n_low,
                   indptr, indices, data)
        return RowBlock(lo, indptr, indices, data)

    def csr(self, basis: SzBasis) -> scipy.sparse.csr_matrix:
        """The whole matrix as scipy CSR (int32 column indices when they fit)."""
        block = self.rows(basis, 0, basis.dimension)
        small = block.indices.dtype == np.int32 and len(block.data) < 2**31
        indptr = block.indptr.astype(np.int32) if small else block.indptr
        indices = block.indices if small else block.indices.astype(np.int64)
        shape = (basis.dimension, basis.dimension)
        return scipy.sparse.csr_matrix((block.data, indices, indptr), shape=shape)

    def _check_basis(self, basis: SzBasis) -> None:
        if basis.n_sites != self.n_sites:
            raise ConfigError(
                f"hamiltonian on {self.n_sites} sites used with a {basis.n_sites}-site basis")
