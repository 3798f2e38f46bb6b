"""Lowest eigenpairs of a Heisenberg Hamiltonian: SLEPc (MPI) and scipy (single process).

Both solvers compute the **two lowest levels** E0 ≤ E1 (σ units, H = Σ J σ·σ) and the ground
state. Afterwards, independently of the solver's own convergence estimate, the relative
residual ‖Hψ − E0ψ‖ / (|E0|·‖ψ‖) is recomputed with a fresh matrix–vector product and must be
≤ ``residual_tol`` (default 1e-10); otherwise :class:`~nqsgen.errors.SolverError` is raised and
nothing is written.  The global sign of ψ is fixed deterministically by
:func:`fix_global_sign`.

SLEPc path: every MPI rank generates only its own contiguous rows (``row_partition``), once,
into the matrix format ``matrix_format``:

* ``indexed`` (default): :class:`~nqsgen.indexed_matrix.IndexedRows` — a 4-byte column and a
  1–2-byte code into a table of the few distinct matrix elements per entry, the product a
  numba kernel under a PETSc shell matrix that reads x through one shared copy per node
  (:mod:`nqsgen.whole_vector`);
* ``aij``: PETSc's own AIJ matrix (12 bytes per entry) with exact preallocation (counts from
  the same kernel that generates the rows) — the previous path, kept as a cross-check.

Krylov–Schur then solves for the 2 smallest eigenvalues.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from nqsgen.basis import SzBasis, row_partition
from nqsgen.errors import SolverError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.indexed_matrix import IndexedRows
from nqsgen.whole_vector import WholeVector

log = logging.getLogger(__name__)

DEFAULT_TOL = 1e-11  # solver tolerance (relative residual), a margin below RESIDUAL_TOL
SECOND_LEVEL_TOL = 1e-7  # relative residual of E1 (the gap only); see lowest_levels
RESIDUAL_TOL = 1e-10  # independently verified ‖Hψ − Eψ‖ / |E|
ASSEMBLY_CHUNK_ROWS = 1 << 18
DENSE_MAX = 1000  # scipy path: matrices up to this dimension are diagonalised densely
MATRIX_FORMATS = ("indexed", "aij")


@dataclass
class EigenResult:
    """Outcome of a solve.  ``vector`` holds this rank's rows ``[row_lo, row_hi)`` of ψ."""

    energies: np.ndarray  # two lowest eigenvalues, ascending, σ units
    vector: np.ndarray
    row_lo: int
    row_hi: int
    residual: float  # independently verified relative residual of the ground state
    solver: str
    iterations: int
    matvecs: int
    timings: dict = field(default_factory=dict)  # seconds: assembly, solve, matvec, residual
    nnz: int = 0
    matrix_format: str = "csr"  # indexed, aij (SLEPc) or csr (scipy)
    matrix_bytes: int = 0  # all ranks

    @property
    def energy(self) -> float:
        return float(self.energies[0])

    @property
    def gap(self) -> float:
        return float(self.energies[1] - self.energies[0])


@numba.njit(cache=True)
def _splitmix_uniform(lo, n, out):
    for i in range(n):
        z = np.uint64(lo + i) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        out[i] = (z >> np.uint64(11)) * (1.0 / 9007199254740992.0) - 0.5


def start_vector(lo: int, hi: int) -> np.ndarray:
    """Deterministic pseudo-random start vector rows [lo, hi): independent of the rank count."""
    out = np.empty(hi - lo)
    _splitmix_uniform(lo, hi - lo, out)
    return out


def fix_global_sign(vector: np.ndarray, row_lo: int, comm=None,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """Make the largest-|ψ| amplitude positive; ties (within 1e-9 relative) go to the lowest index.

    ``vector`` is this rank's slice starting at global row ``row_lo``; returns the slice
    multiplied by the global sign (±1), identical on every rank count.  ``weights`` (same
    length) scale the magnitudes compared (|vector|·weights), e.g. 1/√|orbit|.
    """
    absval = np.abs(vector) if weights is None else np.abs(vector) * weights
    local_max = float(absval.max()) if len(vector) else 0.0
    global_max = comm.allreduce(local_max, op=_mpi_op("MAX")) if comm else local_max
    candidates = np.flatnonzero(absval >= global_max * (1 - 1e-9))
    local_first = row_lo + int(candidates[0]) if len(candidates) else np.iinfo(np.int64).max
    first = comm.allreduce(local_first, op=_mpi_op("MIN")) if comm else local_first
    local_sign = 0.0
    if row_lo <= first < row_lo + len(vector):
        local_sign = 1.0 if vector[first - row_lo] > 0 else -1.0
    sign = comm.allreduce(local_sign) if comm else local_sign
    return vector * sign


def _mpi_op(name: str):
    from mpi4py import MPI

    return getattr(MPI, name)


# --------------------------------------------------------------------------- memory
def matrix_bytes(nnz: int, rows: int, dimension: int, matrix_format: str) -> float:
    """Bytes of ``rows`` matrix rows holding ``nnz`` stored entries (diagonal included).

    ``indexed``: a 4-byte column (8 from 2³¹ rows on) and a ≤ 2-byte code per off-diagonal
    entry, a float64 diagonal and an int64 row pointer per row; ``aij``: PETSc AIJ, an 8-byte
    value and a column per entry, three row arrays.
    """
    index_bytes = 4 if dimension < 2**31 else 8
    if matrix_format == "indexed":
        return (nnz - rows) * (index_bytes + 2) + rows * 16
    return nnz * (8 + index_bytes) + rows * 3 * index_bytes


def assembly_bytes(chunk_rows: int, row_length: float, matrix_format: str) -> float:
    """Transient bytes of assembly: one generated chunk of ``chunk_rows`` rows of
    ``row_length`` entries (CSR, 12 B each) plus, for ``indexed``, its encoded copy and one
    segment being concatenated (:data:`nqsgen.indexed_matrix.SEGMENT_ENTRIES`)."""
    from nqsgen.indexed_matrix import SEGMENT_ENTRIES

    chunk = chunk_rows * row_length * 12
    if matrix_format == "indexed":
        return chunk * 1.5 + SEGMENT_ENTRIES * 6
    return chunk * 1.33


def memory_estimate(hamiltonian: Heisenberg, basis: SzBasis, n_ranks: int, ncv: int = 24,
                    matrix_format: str = "indexed") -> dict:
    """Bytes needed per rank for the solve (exact nnz; Krylov basis of ``ncv`` vectors)."""
    nnz = hamiltonian.nnz(basis)
    rows = -(-basis.dimension // n_ranks)
    matrix = matrix_bytes(nnz / n_ranks, rows, basis.dimension, matrix_format)
    vectors = rows * 8 * (ncv + 6) + basis.dimension * 8 / max(n_ranks, 1)  # + whole x
    assembly = assembly_bytes(ASSEMBLY_CHUNK_ROWS, nnz / basis.dimension,
                              matrix_format) + rows * 8 * 2
    base = 250e6  # interpreter, numba, PETSc
    total = matrix + vectors + assembly + base
    return {"dimension": basis.dimension, "nnz": nnz, "ranks": n_ranks,
            "matrix_format": matrix_format,
            "matrix_bytes_per_rank": int(matrix), "vector_bytes_per_rank": int(vectors),
            "bytes_per_rank": int(total), "bytes_total": int(total * n_ranks)}


def check_memory(estimate: dict, available_bytes: float, what: str) -> None:
    """Refuse (SolverError) when the estimated total exceeds ``available_bytes``."""
    gb = 1e9
    if estimate["bytes_total"] <= available_bytes:
        return
    if "group_order" in estimate:
        what_basis = (f"the symmetric basis (~{estimate['dimension']:,} representatives, "
                      f"|G|={estimate['group_order']}, nnz~{estimate['nnz']:,})")
        advice = "use more ranks on more nodes"
    else:
        what_basis = (f"the full Sz=0 sector (K={estimate['dimension']:,}, "
                      f"nnz={estimate['nnz']:,})")
        advice = "use lattice symmetries (symmetries: full) or more ranks on more nodes"
    raise SolverError(
        f"{what}: {what_basis} needs {estimate['bytes_total'] / gb:.1f} GB "
        f"({estimate['bytes_per_rank'] / gb:.1f} GB per rank on {estimate['ranks']} ranks) "
        f"but only {available_bytes / gb:.1f} GB are available; {advice}")


# --------------------------------------------------------------------------- scipy
def solve_scipy(hamiltonian: Heisenberg, basis: SzBasis, tol: float = DEFAULT_TOL,
                max_iterations: int | None = None,
                residual_tol: float = RESIDUAL_TOL) -> EigenResult:
    """Single-process cross-check: scipy CSR + ARPACK ``eigsh`` (two smallest eigenvalues)."""
    t0 = time.perf_counter()
    matrix = hamiltonian.csr(basis)
    return solve_scipy_matrix(matrix, time.perf_counter() - t0, tol, max_iterations,
                              residual_tol)


def solve_scipy_matrix(matrix, t_assembly: float = 0.0, tol: float = DEFAULT_TOL,
                       max_iterations: int | None = None, residual_tol: float = RESIDUAL_TOL,
                       sign_weights: np.ndarray | None = None, dense_max: int = 2
                       ) -> EigenResult:
    """:func:`solve_scipy` for an assembled symmetric scipy matrix (any basis); matrices up
    to ``dense_max`` rows are diagonalised densely (e.g. :data:`DENSE_MAX` for small symmetry
    sectors, where ARPACK's Krylov space would be most of the matrix anyway)."""
    import scipy.sparse.linalg as sla

    dimension = matrix.shape[0]
    log.info("scipy: assembled dimension %d, nnz=%d in %.2f s", dimension, matrix.nnz,
             t_assembly)
    counter = {"matvecs": 0, "time": 0.0, "t0": time.perf_counter()}

    def matvec(x):
        t = time.perf_counter()
        y = matrix @ x
        counter["time"] += time.perf_counter() - t
        counter["matvecs"] += 1
        if counter["matvecs"] % 50 == 0:
            log.info("scipy eigsh: %d matvecs, %.1f s", counter["matvecs"],
                     time.perf_counter() - counter["t0"])
        return y

    op = sla.LinearOperator(matrix.shape, matvec=matvec, dtype=np.float64)
    t1 = time.perf_counter()
    k = min(2, dimension - 1)
    try:
        if dimension <= max(dense_max, 2):
            dense = matrix.toarray()
            values, vectors = np.linalg.eigh(dense)
        else:
            values, vectors = sla.eigsh(op, k=k, which="SA", tol=tol,
                                        ncv=min(dimension, 24),
                                        v0=start_vector(0, dimension),
                                        maxiter=max_iterations)
    except sla.ArpackNoConvergence as exc:
        raise SolverError(f"scipy eigsh did not converge ({exc.args[0]})") from None
    t_solve = time.perf_counter() - t1
    order = np.argsort(values)
    values, vectors = values[order], vectors[:, order]
    psi = fix_global_sign(vectors[:, 0] / np.linalg.norm(vectors[:, 0]), 0, None, sign_weights)
    t2 = time.perf_counter()
    residual = np.linalg.norm(matrix @ psi - values[0] * psi) / abs(values[0])
    t_res = time.perf_counter() - t2
    _check_residual(residual, residual_tol, "scipy")
    energies = values[:2] if len(values) > 1 else np.array([values[0], np.nan])
    return EigenResult(energies, psi, 0, dimension, float(residual), "scipy",
                       iterations=counter["matvecs"], matvecs=counter["matvecs"] + 1,
                       timings={"assembly": t_assembly, "solve": t_solve,
                                "matvec": counter["time"], "residual": t_res},
                       nnz=int(matrix.nnz))


def _check_residual(residual: float, tol: float, solver: str) -> None:
    if not np.isfinite(residual) or residual > tol:
        raise SolverError(f"{solver}: verified relative residual ‖Hψ−Eψ‖/|E| = {residual:.2e} "
                          f"exceeds {tol:.0e}; nothing written")


# --------------------------------------------------------------------------- SLEPc
def _petsc():
    try:
        import petsc4py

        petsc4py.init()
        from petsc4py import PETSc
        from slepc4py import SLEPc
    except ImportError as exc:
        raise SolverError(f"the SLEPc solver needs petsc4py and slepc4py ({exc}); run "
                          "bin/provision, or use --solver scipy") from None
    return PETSc, SLEPc


class FullSectorOperator:
    """H in the full Sz basis as a source of CSR rows for :func:`assemble_operator`."""

    def __init__(self, hamiltonian: Heisenberg, basis: SzBasis):
        self.hamiltonian = hamiltonian
        self.basis = basis
        self.dimension = basis.dimension

    def local_rows(self, lo: int, hi: int):
        """``(nnz, nnz_in_diagonal_block, blocks)`` for rows [lo, hi): exact counts first (a
        cheap pass), then the rows chunk by chunk (a generator)."""
        nnz, inside = self.hamiltonian.row_counts(self.basis, lo, hi)

        def blocks():
            for start in range(lo, hi, ASSEMBLY_CHUNK_ROWS):
                stop = min(start + ASSEMBLY_CHUNK_ROWS, hi)
                yield self.hamiltonian.rows(self.basis, start, stop,
                                            counts=nnz[start - lo:stop - lo])

        return nnz, inside, blocks()

    def row_blocks(self, lo: int, hi: int):
        """Rows [lo, hi) chunk by chunk, generated once (a generator of RowBlocks)."""
        for start in range(lo, hi, ASSEMBLY_CHUNK_ROWS):
            yield self.hamiltonian.rows(self.basis, start, min(start + ASSEMBLY_CHUNK_ROWS, hi))


def assemble_petsc(hamiltonian: Heisenberg, basis: SzBasis, comm):
    """PETSc MPIAIJ matrix of H in the full sector (see :func:`assemble_operator`)."""
    return assemble_operator(FullSectorOperator(hamiltonian, basis), comm)


def assemble_operator(operator, comm):
    """PETSc MPIAIJ matrix; each rank generates only its own rows, exact preallocation.

    ``operator`` has ``dimension`` and ``local_rows(lo, hi) -> (nnz, inside, blocks)``.
    """
    PETSc, _ = _petsc()
    dim = operator.dimension
    lo, hi = row_partition(dim, comm.size, comm.rank)
    nnz, inside, blocks = operator.local_rows(lo, hi)
    mat = PETSc.Mat().create(comm=PETSc.COMM_WORLD)
    mat.setSizes(((hi - lo, dim), (hi - lo, dim)))
    mat.setType(PETSc.Mat.Type.AIJ)
    mat.setPreallocationNNZ((inside.astype(PETSc.IntType), (nnz - inside).astype(PETSc.IntType)))
    mat.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
    mat.setOption(PETSc.Mat.Option.SYMMETRIC, True)
    for block in blocks:
        n_rows = len(block.indptr) - 1
        rows = np.arange(block.row_lo, block.row_lo + n_rows, dtype=PETSc.IntType)
        _set_rows(mat, rows, block)
    mat.assemble()
    return mat, lo, hi


class IndexedShell:
    """PETSc shell-matrix context for :class:`~nqsgen.indexed_matrix.IndexedRows`: y = A x
    with x read through a :class:`~nqsgen.whole_vector.WholeVector`; counts its products."""

    def __init__(self, rows: IndexedRows, whole: WholeVector):
        self.rows, self.whole = rows, whole
        self.matvecs, self.seconds = 0, 0.0

    def mult(self, mat, x, y):
        t0 = time.perf_counter()
        self.rows.multiply(self.whole.gather(x.getArray(readonly=True)), y.getArray())
        self.seconds += time.perf_counter() - t0
        self.matvecs += 1


def assemble_indexed(operator, comm, gather: str = "auto"):
    """``(mat, lo, hi, shell)``: a PETSc shell matrix over this rank's rows in the indexed
    format; ``operator`` has ``dimension`` and ``row_blocks(lo, hi)`` (one pass)."""
    PETSc, _ = _petsc()
    dim = operator.dimension
    lo, hi = row_partition(dim, comm.size, comm.rank)
    rows = IndexedRows.from_blocks(operator.row_blocks(lo, hi), lo, hi, dim)
    whole = WholeVector(comm, comm.allgather(hi - lo), gather)
    shell = IndexedShell(rows, whole)
    mat = PETSc.Mat().createPython(((hi - lo, dim), (hi - lo, dim)), context=shell,
                                   comm=PETSc.COMM_WORLD)
    mat.setUp()
    return mat, lo, hi, shell


def _set_rows(mat, rows, block) -> None:
    """Insert CSR rows with global row numbers ``rows`` (the loop over rows runs in C)."""
    PETSc, _ = _petsc()
    mat.setValuesIJV(block.indptr.astype(PETSc.IntType), block.indices.astype(PETSc.IntType,
                     copy=False), block.data, rowmap=rows)


def solve_slepc(hamiltonian: Heisenberg, basis: SzBasis, tol: float = DEFAULT_TOL,
                max_iterations: int | None = None, ncv: int | None = None,
                residual_tol: float = RESIDUAL_TOL, matrix_format: str = "indexed"
                ) -> EigenResult:
    """MPI-parallel Krylov–Schur (SLEPc) for the two smallest eigenvalues in the full sector.

    Collective over ``MPI.COMM_WORLD``; returns this rank's rows of the ground state.
    ``max_iterations`` caps the Krylov–Schur restarts; not converging raises SolverError.
    """
    return solve_operator(FullSectorOperator(hamiltonian, basis), tol=tol,
                          max_iterations=max_iterations, ncv=ncv, residual_tol=residual_tol,
                          matrix_format=matrix_format)


def _assemble(operator, comm, matrix_format: str, gather: str):
    """``(mat, lo, hi, nnz, matrix_bytes, shell)`` in ``matrix_format`` (shell: None for AIJ)."""
    PETSc, _ = _petsc()
    if matrix_format == "indexed":
        mat, lo, hi, shell = assemble_indexed(operator, comm, gather)
        nnz = comm.allreduce(shell.rows.nnz)
        return mat, lo, hi, nnz, comm.allreduce(shell.rows.nbytes), shell
    if matrix_format != "aij":
        raise ValueError(f"matrix_format must be one of {MATRIX_FORMATS}, got {matrix_format!r}")
    mat, lo, hi = assemble_operator(operator, comm)
    info = mat.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)
    nnz = int(info["nz_used"])
    index_bytes = 4 if operator.dimension < 2**31 else 8
    return mat, lo, hi, nnz, nnz * (8 + index_bytes) + operator.dimension * index_bytes, None


def solve_operator(operator, tol: float = DEFAULT_TOL, max_iterations: int | None = None,
                   ncv: int | None = None, residual_tol: float = RESIDUAL_TOL,
                   sign_weights=None, matrix_format: str = "indexed",
                   gather: str = "auto") -> EigenResult:
    """:func:`solve_slepc` for any row source (see :func:`assemble_operator` and
    :func:`assemble_indexed`; ``gather`` as in :class:`~nqsgen.whole_vector.WholeVector`).

    Two Krylov–Schur solves (see :func:`lowest_levels`).  ``sign_weights(lo, hi)``
    (optional) gives the factor by which a coefficient is compared when the global sign is
    fixed (1/√|orbit| in a symmetric basis, so that the convention refers to full-basis
    amplitudes).
    """
    from mpi4py import MPI

    PETSc, _ = _petsc()
    comm = MPI.COMM_WORLD
    PETSc.Log.begin()
    before = PETSc.Log.Event("MatMult").getPerfInfo()  # the log accumulates over solves
    t0 = time.perf_counter()
    mat, lo, hi, nnz, matrix_bytes, shell = _assemble(operator, comm, matrix_format, gather)
    t_assembly = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    log.info("slepc: assembled dimension %d, nnz=%d (%s, %.2f GB) on %d ranks in %.2f s",
             operator.dimension, nnz, matrix_format, matrix_bytes / 1e9, comm.size, t_assembly)
    try:
        t1 = time.perf_counter()
        energies, psi, iterations = lowest_levels(mat, lo, hi, tol, max_iterations, ncv, comm)
        t_solve = comm.allreduce(time.perf_counter() - t1, op=MPI.MAX)
        weights = sign_weights(lo, hi) if sign_weights is not None else None
        psi = fix_global_sign(psi, lo, comm, weights)
        if shell is None:
            mult = PETSc.Log.Event("MatMult").getPerfInfo()
            matvecs = int(mult.get("count", 0)) - int(before.get("count", 0))
            t_matvec = float(mult.get("time", 0.0)) - float(before.get("time", 0.0))
        else:
            matvecs, t_matvec = shell.matvecs, shell.seconds
        t2 = time.perf_counter()
        residual = _petsc_residual(mat, psi, energies[0])
        t_res = time.perf_counter() - t2
    finally:
        mat.destroy()
        if shell is not None:
            shell.whole.free()
    _check_residual(residual, residual_tol, "slepc")
    return EigenResult(energies, psi, lo, hi, residual, "slepc", iterations=iterations,
                       matvecs=matvecs,
                       timings={"assembly": t_assembly, "solve": t_solve,
                                "matvec": comm.allreduce(t_matvec, op=MPI.MAX),
                                "residual": t_res}, nnz=nnz, matrix_format=matrix_format,
                       matrix_bytes=matrix_bytes)


def lowest_levels(mat, lo: int, hi: int, tol: float, max_iterations, ncv, comm):
    """``(energies [E0, E1], ψ0 rows [lo, hi) normalised, restarts)`` of a PETSc matrix.

    The two levels converge at different speeds: E0 after a few restarts, E1 (wanted only for
    the gap) often many restarts later.  So a first solve converges both to the relative
    residual :data:`SECOND_LEVEL_TOL` from the deterministic :func:`start_vector` — an
    eigenvalue's error is of the order of the residual squared over the distance to the next
    level, far below the gap resolution (1e-8 relative) — and a second solve, started from
    the first one's ground-state vector, converges E0 and ψ0 alone to ``tol``.  Both are
    Krylov–Schur; not converging raises SolverError.
    """
    first_tol = max(tol, SECOND_LEVEL_TOL)
    vr = mat.createVecRight()
    energies, iterations = _solve(mat, [_start(mat, lo, hi)], 2, first_tol, max_iterations,
                                  ncv, comm, "first solve (E0, E1)", vr)
    if tol < first_tol:
        (e0,), more = _solve(mat, [vr], 1, tol, max_iterations, ncv, comm,
                             "second solve (E0 to tol)", vr)
        iterations += more
        if abs(e0 - energies[0]) > 10 * first_tol * abs(e0):
            raise SolverError(f"slepc: the second solve converged to E = {e0:.12f}, not to the "
                              f"first solve's E0 = {energies[0]:.12f}; nothing written")
        energies[0] = e0
    psi = vr.getArray().copy()
    psi /= np.sqrt(comm.allreduce(float(psi @ psi)))
    return energies, psi, iterations


def _solve(mat, initial, nev: int, tol: float, max_iterations, ncv, comm, what: str, vr):
    """``(nev lowest eigenvalues ascending, restarts)`` of one Krylov–Schur solve; the
    lowest eigenvector goes into ``vr``.  Fewer than ``nev`` converged raises SolverError."""
    eps = _krylov_schur(mat, initial, nev, tol, max_iterations, ncv, comm, what)
    try:
        eps.solve()
        iterations, nconv = eps.getIterationNumber(), eps.getConverged()
        if nconv < nev:
            raise SolverError(f"slepc {what}: only {nconv} of {nev} eigenpairs converged to "
                              f"tol {tol:.0e} after {iterations} restarts; nothing written")
        values = np.array(sorted(eps.getEigenvalue(k).real for k in range(nev)))
        eps.getEigenpair(_lowest_index(eps), vr)
    finally:
        eps.destroy()
    return values, iterations


def _start(mat, lo: int, hi: int):
    v0 = mat.createVecRight()
    v0.setArray(start_vector(lo, hi))
    return v0


def _krylov_schur(mat, initial, nev: int, tol: float, max_iterations, ncv, comm, what: str):
    """A SLEPc Krylov–Schur solver for the ``nev`` smallest eigenvalues from the vectors
    ``initial``, logging each restart on rank 0 (command-line ``-eps_*`` options apply)."""
    PETSc, SLEPc = _petsc()
    eps = SLEPc.EPS().create(comm=PETSc.COMM_WORLD)
    eps.setOperators(mat)
    eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
    eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
    eps.setWhichEigenpairs(SLEPc.EPS.Which.SMALLEST_REAL)
    eps.setDimensions(nev=nev, ncv=ncv or PETSc.DECIDE)
    eps.setTolerances(tol=tol, max_it=max_iterations or PETSc.DECIDE)
    eps.setConvergenceTest(SLEPc.EPS.Conv.REL)
    eps.setInitialSpace(initial)
    t_start = time.perf_counter()

    def monitor(_eps, its, nconv, eig, err):
        if comm.rank == 0:
            log.info("krylov-schur %s, restart %d: converged %d, E0 ~ %.12f, residual "
                     "estimate %.2e, %.1f s", what, its, nconv, eig[0].real, err[0],
                     time.perf_counter() - t_start)

    eps.setMonitor(monitor)
    eps.setFromOptions()
    return eps


def _lowest_index(eps) -> int:
    values = [eps.getEigenvalue(k).real for k in range(eps.getConverged())]
    return int(np.argmin(values))


def _petsc_residual(mat, psi_local: np.ndarray, energy: float) -> float:
    """‖Hψ − Eψ‖ / (|E| ‖ψ‖) with a fresh PETSc matrix–vector product."""
    x = mat.createVecRight()
    x.setArray(psi_local)
    y = mat.createVecLeft()
    mat.mult(x, y)
    y.axpy(-energy, x)
    return float(y.norm() / (abs(energy) * x.norm()))
