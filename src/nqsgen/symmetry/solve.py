"""Sector scan: the lowest levels of every candidate sector, and the ground state among them.

Every requested sector is solved (two lowest levels, SLEPc under MPI, or scipy; sectors of at
most ``DENSE_MAX`` representatives densely); the ground state is the lowest level over all of
them.  The overall first excited level is min(E1 of the ground-state sector, E0 of every other
sector) — within the scanned one-dimensional real sectors only.  Sectors whose E0 lies within
``degeneracy_tol``·|E0| of the ground state are reported as near-degenerate.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from math import comb

import numpy as np

from nqsgen import eigensolvers
from nqsgen.basis import row_partition
from nqsgen.errors import SolverError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.symmetry.basis import SCAN_CHUNK, SymmetricBasis
from nqsgen.symmetry.group import Sector, SymmetryGroup
from nqsgen.symmetry.operator import SymmetricHeisenberg

log = logging.getLogger(__name__)

DENSE_MAX = eigensolvers.DENSE_MAX  # sectors this small are diagonalised densely


@dataclass
class SectorScan:
    """Outcome of :func:`solve_sectors`.  ``result`` holds this rank's rows of the ground state
    (coefficients in the symmetric basis ``basis``)."""

    basis: SymmetricBasis
    result: eigensolvers.EigenResult
    sectors: list[dict]  # per scanned sector: label, dimension, energies, timings
    energies: np.ndarray  # overall E0, E1 (within the scanned sectors)
    near_degenerate: list[str] = field(default_factory=list)

    @property
    def sector(self) -> Sector:
        return self.basis.sector


def solve_sectors(hamiltonian: Heisenberg, group: SymmetryGroup, sectors, comm,
                  solver: str = "slepc", tol: float = eigensolvers.DEFAULT_TOL,
                  max_iterations: int | None = None, ncv: int | None = None,
                  degeneracy_tol: float = 1e-8, two_pass: bool = False,
                  matrix_format: str = "indexed") -> SectorScan:
    """Solve every sector in ``sectors`` (collective over ``comm``); see the module docstring."""
    best: tuple[SymmetricBasis, eigensolvers.EigenResult] | None = None
    records = []
    for sector in sectors:
        t0 = time.perf_counter()
        basis = SymmetricBasis(group, sector).build(comm)
        t_basis = time.perf_counter() - t0
        record = {"label": sector.label, "index": sector.index,
                  "dimension": basis.dimension, "energies": None,
                  "timings_s": {"basis": t_basis}}
        records.append(record)
        log.info("sector %s: %d representatives (built in %.1f s)", sector.label,
                 basis.dimension, t_basis)
        if basis.dimension == 0:
            continue
        result = _solve_one(hamiltonian, basis, comm, solver, tol, max_iterations, ncv,
                            two_pass, matrix_format)
        record["energies"] = [float(e) for e in result.energies]
        record["timings_s"].update(result.timings)
        record["iterations"], record["matvecs"] = result.iterations, result.matvecs
        record["solver"] = result.solver
        log.info("sector %s: E0 = %.12f, E1 = %.12f", sector.label, *result.energies)
        if best is None or result.energies[0] < best[1].energies[0]:
            best = (basis, result)
    if best is None:
        raise SolverError("symmetric solve: every requested sector is empty")
    basis, result = best
    e0 = float(result.energies[0])
    others = [r["energies"][0] for r in records
              if r["energies"] is not None and r["label"] != basis.sector.label]
    candidates = [e for e in [result.energies[1], *others] if np.isfinite(e)]
    e1 = min(candidates) if candidates else float("nan")
    near = [r["label"] for r in records if r["energies"] is not None
            and r["label"] != basis.sector.label
            and r["energies"][0] - e0 <= degeneracy_tol * abs(e0)]
    return SectorScan(basis, result, records, np.array([e0, e1]), near)


def _solve_one(hamiltonian, basis, comm, solver, tol, max_iterations, ncv, two_pass,
               matrix_format):
    op = SymmetricHeisenberg(hamiltonian, basis, two_pass=two_pass)

    def weights(lo, hi):  # no float copy of all orbit sizes: it would stay alive in the solve
        return 1.0 / np.sqrt(basis.orbit_sizes[lo:hi].astype(np.float64))

    if basis.dimension <= DENSE_MAX or solver == "scipy":
        if solver == "scipy" and comm.size > 1:
            raise SolverError("--solver scipy is single-process")
        t0 = time.perf_counter()
        matrix = op.csr()
        result = eigensolvers.solve_scipy_matrix(matrix, time.perf_counter() - t0, tol,
                                                 max_iterations, sign_weights=weights(
                                                     0, basis.dimension), dense_max=DENSE_MAX)
        lo, hi = row_partition(basis.dimension, comm.size, comm.rank)
        result.vector, result.row_lo, result.row_hi = result.vector[lo:hi], lo, hi
        if basis.dimension <= DENSE_MAX:
            result.solver = "dense"
        return result
    return eigensolvers.solve_operator(op, tol=tol, max_iterations=max_iterations, ncv=ncv,
                                       sign_weights=weights, matrix_format=matrix_format)


def memory_estimate(hamiltonian: Heisenberg, group: SymmetryGroup, n_ranks: int,
                    ncv: int = 24, two_pass: bool = False,
                    matrix_format: str = "indexed") -> dict:
    """Bytes per rank for a symmetric solve, before any work (estimates, not bounds).

    Representatives ≈ C(N, N/2)/|G| (slightly more: orbits with stabilisers are smaller);
    nonzeros per row as in the full sector (1 + bonds·N/(2(N−1))); every rank holds all
    representatives and orbit sizes (16 B each).  The ``indexed`` matrix is generated in one
    pass straight into its storage; ``aij`` assembly keeps the generated rows until PETSc has
    taken them (the matrix is held twice at the peak) unless ``two_pass``.
    """
    n = hamiltonian.n_sites
    full = comb(n, n // 2)
    reps = int(1.05 * full / len(group)) + 1
    per_row = 1 + len(hamiltonian.couplings) * n / (2 * (n - 1))
    nnz = int(reps * per_row)
    rows = -(-reps // n_ranks)
    matrix = eigensolvers.matrix_bytes(nnz / n_ranks, rows, reps, matrix_format)
    width = len(hamiltonian.couplings) + 1
    chunk = (1 << 16) * width * 12  # the fixed-width scratch of one chunk of rows
    if matrix_format == "indexed":
        two_pass = False
        kept_rows = chunk + eigensolvers.assembly_bytes(1 << 16, per_row, matrix_format)
    else:
        kept_rows = chunk * 2 if two_pass else matrix
    vectors = rows * 8 * (ncv + 6) + reps * 8 / max(n_ranks, 1)
    basis = reps * 16 + SCAN_CHUNK * 16
    total = matrix + kept_rows + vectors + basis + 250e6
    return {"dimension": reps, "full_dimension": full, "nnz": nnz, "ranks": n_ranks,
            "group_order": len(group), "matrix_format": matrix_format,
            "matrix_bytes_per_rank": int(matrix),
            "vector_bytes_per_rank": int(vectors), "basis_bytes_per_rank": int(basis),
            "two_pass": two_pass, "bytes_per_rank": int(total),
            "bytes_total": int(total * n_ranks)}
