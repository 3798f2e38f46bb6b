"""The completeness scan: the lowest level of every irrep sector of G', every momentum.

The irreps of G' = T ⋊ {E, C2} × Z2 (:mod:`nqsgen.symmetry.momentum`) span the whole Sz = 0
sector, so the lowest level over all of them *is* the ground-state energy.  Each sector is a
matrix-free operator on the orbit graph (:mod:`nqsgen.symmetry.sector`), solved with SLEPc's
Krylov–Schur (a PETSc shell matrix; MPI-parallel over the graph rows) for its lowest level.

Cost: one orbit graph for all sectors, then per sector a *screening* solve.  Given an upper
bound U on the ground-state energy (the converged E0 of the one-dimensional real scan, or of
the first sector solved), each sector is first solved to the loose relative residual
``SCREEN_TOL``; its Ritz pair (θ, x) gets a verified residual r = ‖Mx − θx‖, and when
θ − r > U + δ (δ = degeneracy tolerance · |U|) the sector is *ruled out*.  Only the others
are solved again, independently, to ``tol``.  Screening needs 50–60 % of the matrix–vector
products of a converged solve (measured on square_30: 49 of 97 and 73 of 121).

What is rigorous and what is not:

* θ is a Rayleigh quotient of a vector of the sector: a rigorous upper bound on the sector's
  lowest level (up to rounding).  Converged levels have a verified residual
  ‖Mx − θx‖ ≤ 10·tol·|θ|, so an eigenvalue lies within that distance of θ.
* Some eigenvalue lies in [θ − r, θ + r] (rigorous).  Ruling out assumes that it is the
  sector's *lowest* one, i.e. that Krylov–Schur converged to the extreme level first.  From a
  generic start vector it does, but this is not a proof: a start vector (nearly) orthogonal
  to the sector's ground state would defeat it.  Energies of ruled-out sectors are reported
  as the upper bound θ with status ``ruled out``.
* A degeneracy counted from levels of different sectors is "equal within the tolerance", not
  exact; a level of a two-dimensional sector is exactly two-fold degenerate (k and −k).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from math import comb

import numpy as np

from nqsgen.eigensolvers import _petsc, start_vector
from nqsgen.symmetry.graph import OrbitGraph
from nqsgen.symmetry.momentum import Irrep
from nqsgen.symmetry.sector import SectorOperator, sector_dimension
from nqsgen.whole_vector import WholeVector

log = logging.getLogger(__name__)

DEFAULT_TOL = 1e-10  # relative residual of a converged sector
DEGENERACY_TOL = 1e-8  # relative: levels this close count as degenerate (as the main scan)
SCREEN_TOL = 1e-4  # relative residual of the lowest Ritz pair before a sector is ruled out
DENSE_MAX = 600  # sectors up to this dimension are diagonalised densely
NCV = 24  # Krylov subspace size of the sector solves


@dataclass
class SectorLevel:
    """The lowest level of one sector, σ units (see the module docstring for ``status``)."""

    irrep: Irrep
    dimension: int
    status: str  # converged | dense | main scan | ruled out | not converged | empty
    energy: float | None = None  # converged level, else the lowest Ritz value (upper bound)
    residual: float | None = None  # absolute ‖Mx − θx‖, verified with a fresh product
    matvecs: int = 0
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return self.status in ("converged", "dense", "main scan")

    @property
    def lower_estimate(self) -> float | None:
        if self.energy is None:
            return None
        return self.energy - (self.residual or 0.0)

    def to_dict(self) -> dict:
        d = self.irrep.to_dict()
        d.update(dimension=self.dimension, status=self.status, energy=self.energy,
                 converged=self.converged, residual=self.residual,
                 lower_estimate=self.lower_estimate, matvecs=self.matvecs,
                 seconds=round(self.seconds, 3))
        return d


# ------------------------------------------------------------------------------ one sector
class _Shell:
    """PETSc shell-matrix context: y = M x, reading x as a :class:`WholeVector`."""

    def __init__(self, op: SectorOperator, comm):
        self.op = op
        self.whole = WholeVector(comm, comm.allgather(op.local_size))

    def mult(self, mat, x, y):
        self.op.apply(self.whole.gather(x.getArray(readonly=True)), y.getArray())


def solve_sector(op: SectorOperator, comm, threshold: float = np.inf, tol: float = DEFAULT_TOL,
                 screen_tol: float = SCREEN_TOL, ncv: int | None = None,
                 max_it: int | None = None) -> SectorLevel:
    """Lowest level of one sector (collective).

    With a finite ``threshold``, first a screening solve to the relative residual
    ``screen_tol``; if its verified θ − r exceeds ``threshold`` the sector is ruled out,
    otherwise a second solve to ``tol`` follows.  Both start from the deterministic
    pseudo-random vector (components along every eigenvector), never from an eigenvector:
    that has a definite total spin (and mirror parities), and a Krylov space built on it
    would miss a lowest level of another spin.
    """
    t0 = time.perf_counter()
    if op.dimension == 0:
        return SectorLevel(op.irrep, 0, "empty")
    if op.dimension <= DENSE_MAX:
        level = _solve_dense(op, comm)
    else:
        level = None
        if np.isfinite(threshold) and screen_tol > tol:
            level = _solve_krylov(op, comm, screen_tol, ncv, max_it)
            if level.converged and level.lower_estimate > threshold:
                level.status = "ruled out"
        if level is None or level.status != "ruled out":
            spent = level.matvecs if level else 0
            level = _solve_krylov(op, comm, tol, ncv, max_it)
            level.matvecs += spent
    level.seconds = time.perf_counter() - t0
    return level


def _solve_dense(op: SectorOperator, comm):
    rows = comm.allgather(op.dense())
    matrix = np.concatenate(rows)
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    residual = float(np.linalg.norm(matrix @ vectors[:, 0] - values[0] * vectors[:, 0]))
    return SectorLevel(op.irrep, op.dimension, "dense", float(values[0]), residual,
                       matvecs=op.dimension)


def _solve_krylov(op, comm, tol, ncv, max_it) -> SectorLevel:
    """Krylov–Schur for the lowest level to ``tol``; the verified residual decides whether
    the pair counts as converged (≤ 10·tol·|θ|)."""
    PETSc, SLEPc = _petsc()
    shell = _Shell(op, comm)
    n = op.local_size
    mat = PETSc.Mat().createPython(((n, op.dimension), (n, op.dimension)), context=shell,
                                   comm=PETSc.COMM_WORLD)
    mat.setUp()
    eps = SLEPc.EPS().create(comm=PETSc.COMM_WORLD)
    eps.setOperators(mat)
    eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
    eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
    eps.setWhichEigenpairs(SLEPc.EPS.Which.SMALLEST_REAL)
    eps.setDimensions(nev=1, ncv=ncv or NCV)
    eps.setTolerances(tol=tol, max_it=max_it or PETSc.DECIDE)
    eps.setConvergenceTest(SLEPc.EPS.Conv.REL)
    v0 = mat.createVecRight()
    v0.setArray(start_vector(op.row_lo, op.row_hi))
    eps.setInitialSpace([v0])
    before = op.matvecs
    eps.solve()
    level = SectorLevel(op.irrep, op.dimension, "not converged")
    if eps.getConverged() >= 1:
        x = mat.createVecRight()
        theta = float(eps.getEigenpair(0, x).real)
        x.scale(1.0 / x.norm())
        y = mat.createVecLeft()
        mat.mult(x, y)
        y.axpy(-theta, x)
        residual = float(y.norm())
        status = "converged" if residual <= 10 * tol * abs(theta) else "not converged"
        level = SectorLevel(op.irrep, op.dimension, status, theta, residual)
    level.matvecs = op.matvecs - before
    eps.destroy()
    mat.destroy()
    shell.whole.free()
    return level


# ------------------------------------------------------------------------------ the scan
@dataclass
class CompletenessScan:
    """Outcome of :func:`scan_all`: one :class:`SectorLevel` per irrep of G'."""

    levels: list[SectorLevel]
    degeneracy_tol: float
    timings: dict = field(default_factory=dict)

    def _lowest(self, levels) -> SectorLevel | None:
        done = [lv for lv in levels if lv.converged]
        return min(done, key=lambda lv: lv.energy) if done else None

    @property
    def lowest(self) -> SectorLevel | None:
        """The converged sector with the lowest level: the ground-state sector."""
        return self._lowest(self.levels)

    @property
    def lowest_1d(self) -> SectorLevel | None:
        return self._lowest([lv for lv in self.levels if lv.irrep.real])

    def margin(self, energy: float) -> float:
        return self.degeneracy_tol * abs(energy)

    @property
    def at_ground_level(self) -> list[SectorLevel]:
        """Converged sectors whose lowest level equals the ground level within tolerance."""
        e0 = self.lowest.energy
        return [lv for lv in self.levels if lv.converged and lv.energy - e0 <= self.margin(e0)]

    @property
    def degeneracy(self) -> int:
        """Multiplicity of the ground level counted over sectors (each 2D sector counts 2)."""
        return sum(lv.irrep.dimension for lv in self.at_ground_level)

    @property
    def unresolved(self) -> list[SectorLevel]:
        """Sectors neither converged nor ruled out whose bound reaches the ground level."""
        e0 = self.lowest.energy
        return [lv for lv in self.levels if lv.status == "not converged"
                and (lv.lower_estimate is None or lv.lower_estimate <= e0 + self.margin(e0))]


def scan_all(graph: OrbitGraph, j1: float, j2: float, comm, known: dict | None = None,
             upper: float = np.inf, tol: float = DEFAULT_TOL,
             degeneracy_tol: float = DEGENERACY_TOL, resolve_1d: bool = False,
             screen_tol: float = SCREEN_TOL, ncv: int | None = None) -> CompletenessScan:
    """Lowest level of every irrep sector (collective over ``comm``).

    ``known`` maps irrep labels to converged lowest levels (e.g. from the main scan; those
    sectors are not solved again); ``upper`` is any upper bound on the ground-state energy.
    Without one, the first sector is converged to obtain it.  ``resolve_1d`` also converges
    the lowest one-dimensional sector (ruling those out against the lowest one-dimensional
    level).
    """
    t0 = time.perf_counter()
    known = known or {}
    irreps = {ir.label: ir for ir in graph.momentum.irreps}
    levels = {}
    for label, ir in irreps.items():
        dim = sector_dimension(graph, ir)
        if dim == 0:
            levels[label] = SectorLevel(ir, 0, "empty")
        elif label in known:
            levels[label] = SectorLevel(ir, dim, "main scan", float(known[label]))
    bounds = {"all": min([upper, *known.values()]),
              "1d": min([np.inf, *(e for k, e in known.items() if irreps[k].real)])}
    for label in (label for label in irreps if label not in levels):
        op = SectorOperator(graph, irreps[label], j1, j2)  # one at a time: ``pcol`` is big
        bound = bounds["1d"] if resolve_1d and op.irrep.real else bounds["all"]
        threshold = bound + degeneracy_tol * abs(bound) if np.isfinite(bound) else np.inf
        level = solve_sector(op, comm, threshold, tol, screen_tol, ncv)
        levels[label] = level
        del op
        _log_level(level)
        if level.converged:
            bounds["all"] = min(bounds["all"], level.energy)
            if level.irrep.real:
                bounds["1d"] = min(bounds["1d"], level.energy)
    ordered = [levels[ir.label] for ir in graph.momentum.irreps]
    return CompletenessScan(ordered, degeneracy_tol, {"total": time.perf_counter() - t0})


def _log_level(level: SectorLevel) -> None:
    log.info("sector %s (%d-dim irrep, %d states): %s, E = %s, r = %s, %d matvecs, %.1f s",
             level.irrep.label, level.irrep.dimension, level.dimension, level.status,
             "n/a" if level.energy is None else f"{level.energy:.12f}",
             "n/a" if level.residual is None else f"{level.residual:.1e}", level.matvecs,
             level.seconds)


# ------------------------------------------------------------------------------ memory
def memory_estimate(cluster, n_ranks: int, ncv: int = NCV) -> dict:
    """Bytes per rank of the completeness scan, before any work (estimates, not bounds).

    Orbits ≈ 1.05·K/|G'| (every rank holds all: 8 B state, 8 B orbit size, 4 B class, 8 B
    sector position, plus the 32 MB bucket table); graph entries ≈ orbits · bonds ·
    N/(2(N − 1)) at 7 B (+ 4 B of sector positions), split over the ranks; the largest
    sector ≈ 1.05·K/(2|T|) rows with ncv + 8 vectors per rank (Krylov basis, work vectors,
    the screening vector) and the whole gathered vector on every rank.
    """
    n = cluster.n_sites
    full = comb(n, n // 2)
    order = 4 * len(cluster.translations)
    bonds = len(cluster.j1_bonds) + len(cluster.j2_bonds)
    orbits = int(1.05 * full / order) + 1
    entries = orbits * bonds * n / (2 * (n - 1))
    sector = int(1.05 * full / (order // 2)) + 1
    graph = entries / n_ranks * 11 + orbits / n_ranks * 12
    orbit_arrays = orbits * (8 + 8 + 4 + 8 + 8) + (1 << 22) * 8
    vectors = sector / n_ranks * 8 * (ncv + 8) + sector * 8
    total = graph + orbit_arrays + vectors + (1 << 22) * 16 + 250e6
    return {"orbits": orbits, "graph_entries": int(entries), "largest_sector": sector,
            "dimension": sector, "nnz": int(entries), "matrix_bytes_per_rank": int(graph),
            "group_order": order, "ranks": n_ranks, "graph_bytes_per_rank": int(graph),
            "vector_bytes_per_rank": int(vectors), "bytes_per_rank": int(total),
            "bytes_total": int(total * n_ranks)}


# ------------------------------------------------------------------------------ metadata
RIGOUR = ("energy of a converged sector: verified residual ||Mx - Ex|| <= 10 tol |E|; "
          "energy of a ruled-out sector: lowest Ritz value, a rigorous upper bound; ruling "
          "out (E - r > ground level) assumes the Krylov iteration converged to the sector's "
          "lowest level (not proven); levels of different sectors count as degenerate when "
          "equal within degeneracy_tol (relative); a two-dimensional sector's levels are "
          "exactly two-fold degenerate (k and -k)")


def known_levels(main_group, main_sectors: list[dict], momentum) -> dict:
    """Converged lowest levels of the main scan's sectors that are also irreps of G'.

    Only when the main scan's group has the same elements as G' (a cluster whose point group
    is {E, C2}, e.g. the 30-site ones): then its one-dimensional real sectors are exactly
    the one-dimensional irreps of G'.  Returns {irrep label: E0}.
    """
    group = momentum.group
    if len(main_group) != len(group):
        return {}
    index = [main_group._lookup.get(main_group._key(p, f))
             for p, f in zip(group.perms, group.flips, strict=True)]
    if any(i is None for i in index):
        return {}
    by_chars = {tuple(np.round(ir.characters.real[:]).astype(int)): ir.label
                for ir in momentum.irreps if ir.real}
    known = {}
    for record in main_sectors:
        if record.get("energies") is None:
            continue
        chars = main_group.sector(record["label"]).characters[index]
        label = by_chars.get(tuple(int(c) for c in chars))
        if label is not None:
            known[label] = float(record["energies"][0])
    return known


def completeness_metadata(scan: CompletenessScan, stored_energy: float, momentum,
                          settings: dict) -> dict:
    """Metadata keys of a symmetric ground state whose completeness was scanned.

    ``stored_energy``: E0 of the stored (one-dimensional real sector) state.  The stored
    state is complete when no sector lies lower by more than the degeneracy margin.
    """
    lowest = scan.lowest
    if lowest is None:  # nothing converged (not expected: the stored state's sector must)
        return skipped_metadata("no sector converged")
    e0 = lowest.energy
    complete = bool(stored_energy - e0 <= scan.margin(e0))
    unresolved = [lv.irrep.label for lv in scan.unresolved]
    if complete and unresolved:
        complete = None  # a sector that neither converged nor was ruled out could be lower
    proof = []
    if scan.degeneracy > 1:
        for lv in scan.at_ground_level:
            kind = ("two-dimensional: k and -k, exactly two-fold" if lv.irrep.dimension == 2
                    else "one-dimensional")
            proof.append(f"sector {lv.irrep.label} ({kind}) has a level at E = "
                         f"{lv.energy:.12f}, within {scan.degeneracy_tol:g} (relative) of "
                         f"the ground level {e0:.12f}")
    block = {"scope": "every irreducible representation of translations x {E, C2} x spin "
                      "inversion: all momenta (complex ones as k, -k pairs), C2 and "
                      "spin-inversion parities; together they span the whole Sz = 0 sector",
             "status": "done", "group": momentum.to_dict(), **settings,
             "degeneracy_tol": scan.degeneracy_tol, "rigour": RIGOUR,
             "sectors": [lv.to_dict() for lv in scan.levels], "unresolved": unresolved,
             "lowest_sector": lowest.irrep.label, "lowest_energy": e0,
             "lowest_1d_energy": scan.lowest_1d.energy if scan.lowest_1d else None,
             "timings_s": scan.timings}
    return {"ground_state_sector_complete": complete,
            "lowest_energy_all_sectors": e0,
            "lowest_sector_all_sectors": lowest.irrep.label,
            "lowest_sector_momentum": [str(f) for f in lowest.irrep.momentum],
            "lowest_sector_irrep_dimension": lowest.irrep.dimension,
            "degeneracy": scan.degeneracy, "degeneracy_proof": proof,
            "sector_completeness": block}


def skipped_metadata(reason: str) -> dict:
    """Metadata keys when the completeness scan did not run."""
    return {"ground_state_sector_complete": None, "lowest_energy_all_sectors": None,
            "lowest_sector_all_sectors": None, "lowest_sector_momentum": None,
            "lowest_sector_irrep_dimension": None,
            "sector_completeness": {"status": f"skipped: {reason}"}}
