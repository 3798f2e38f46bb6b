"""Stage ``ground_state``: exact ground state of a cluster at one J2, stored as parquet shards.

Run it as ``python -m nqsgen.stages.ground_state --cluster kagome_24 --j2 0.5 --out DIR`` (one
process, or under ``mpiexec -n P`` / ``srun`` for the MPI-parallel SLEPc solver; every rank
assembles and writes only its own rows).  ``--solver scipy`` is the single-process
cross-check.  ``--symmetries`` (default ``auto``: ``full`` from 30 sites on) solves in the
one-dimensional real sectors of the cluster's symmetry group instead of the full Sz = 0
sector, scanning ``--sectors`` for the lowest level (see :mod:`nqsgen.symmetry`).  Output:
see :mod:`nqsgen.storage`; energies are in σ units (H = Σ J σ·σ), the
``*_per_site`` values in S·S units (E / 4N).

Before the solve it prints the memory the solve needs per rank and refuses (exit status 2, one
line) when the ranks on a node would not fit in that node's available memory.  A solve that
does not converge, or whose independently verified residual exceeds 1e-10, writes nothing.

``--completeness auto`` (default): a symmetric solve then scans every momentum sector, complex
ones included (:mod:`nqsgen.symmetry.complete`), and records whether the stored state is the
ground state (``ground_state_sector_complete``); a full-sector solve applies every symmetry to
ψ0 to prove a degeneracy the eigensolver may have missed (:mod:`nqsgen.symmetry.degeneracy`).
Both set ``degeneracy``/``degeneracy_proof`` and, when a degeneracy is proven or a lower
sector exists, ``degenerate``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import math
import platform
import resource
import sys
import time
import traceback
from importlib import metadata as _pkg_metadata

import numba
import numpy as np

from nqsgen import eigensolvers, publish
from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.config import load_cluster_specs
from nqsgen.errors import ConfigError, NqsgenError, SolverError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.stages.base import StageParser, collective, one_line
from nqsgen.storage import DEFAULT_SHARD_ROWS, write_ground_state
from nqsgen.symmetry import SYMMETRIES, cluster_group, solve_sectors
from nqsgen.symmetry import memory_estimate as symmetric_memory_estimate
from nqsgen.symmetry.selection import resolve_symmetries, select_sectors

log = logging.getLogger("nqsgen.stages.ground_state")

DEGENERACY_TOL = 1e-8  # relative gap (E1 - E0) / |E0| below which the ground state is flagged
DEGENERACY_CHECK_MAX = 1 << 28  # full-sector states up to this K get the symmetry-image check
COMPLETENESS_MIN_BUDGET = 1e9  # bytes per rank the completeness scan may always use
VERSIONED_PACKAGES = ("numpy", "scipy", "numba", "mpi4py", "petsc4py", "slepc4py", "pyarrow")


def parse_args(argv=None) -> argparse.Namespace:
    p = StageParser("nqsgen-ground-state", __doc__)
    p.add_argument("--cluster", required=True, help="cluster name (catalogue or --config)")
    p.add_argument("--j2", required=True, type=float, help="J2/J1")
    p.add_argument("--j1", type=float, default=1.0, help="J1 (default 1)")
    p.add_argument("--out", required=True, help="output directory (replaced atomically)")
    p.add_argument("--solver", choices=("slepc", "scipy"), default="slepc")
    p.add_argument("--config", help="YAML config whose 'clusters:' mapping defines clusters")
    p.add_argument("--tol", type=float, default=eigensolvers.DEFAULT_TOL,
                   help="solver tolerance on the relative residual (default %(default)g)")
    p.add_argument("--max-iterations", type=int, default=None,
                   help="maximum solver iterations (restarts for SLEPc)")
    p.add_argument("--ncv", type=int, default=None, help="Krylov subspace size (SLEPc)")
    p.add_argument("--shard-rows", type=int, default=DEFAULT_SHARD_ROWS)
    p.add_argument("--memory-limit-gb", type=float, default=None,
                   help="memory per node the solve may use (default: what the node has free)")
    p.add_argument("--threads", type=int, default=None,
                   help="compiled-kernel threads per rank (default: cores / ranks on the node)")
    p.add_argument("--symmetries", choices=("auto", *SYMMETRIES), default="auto",
                   help="none: the full Sz=0 sector; translations; full: space group and spin "
                        "inversion (auto: full from 30 sites on, else none)")
    p.add_argument("--sectors", default="all",
                   help="symmetric solves: the sectors to scan, 'all' (default), 'trivial', or "
                        "comma-separated labels/indices as listed in the log")
    p.add_argument("--matrix", choices=eigensolvers.MATRIX_FORMATS, default="indexed",
                   help="SLEPc matrix storage: indexed (default: 4-byte column + value code "
                        "per entry, shared-memory product) or aij (PETSc AIJ, 12 bytes per "
                        "entry; the cross-check)")
    p.add_argument("--completeness", choices=("auto", "off"), default="auto",
                   help="auto (default): symmetric solves also scan every momentum sector "
                        "(when it fits in memory), full-sector solves check degeneracy with "
                        "the symmetry images of the ground state; off: neither")
    return p.parse_args(argv)


def _validate(args: argparse.Namespace) -> None:
    if not math.isfinite(args.j2) or not math.isfinite(args.j1):
        raise ConfigError(f"--j2/--j1 must be finite numbers, got {args.j2}, {args.j1}")
    if args.tol <= 0 or args.tol >= 1e-3:
        raise ConfigError(f"--tol must be in (0, 1e-3), got {args.tol}")
    if args.shard_rows < 1:
        raise ConfigError(f"--shard-rows must be ≥ 1, got {args.shard_rows}")
    if args.max_iterations is not None and args.max_iterations < 1:
        raise ConfigError(f"--max-iterations must be ≥ 1, got {args.max_iterations}")
    if args.ncv is not None and args.ncv < 2:
        raise ConfigError(f"--ncv must be ≥ 2, got {args.ncv}")
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads must be ≥ 1, got {args.threads}")
    if args.memory_limit_gb is not None and not args.memory_limit_gb > 0:
        raise ConfigError(f"--memory-limit-gb must be > 0, got {args.memory_limit_gb}")
    if args.j1 == 0 and args.j2 == 0:
        raise ConfigError("--j1 and --j2 are both 0: the Hamiltonian is zero (every state is "
                          "a ground state)")


def _node_comm(comm):
    from mpi4py import MPI

    return comm.Split_type(MPI.COMM_TYPE_SHARED)


def check_memory(estimate: dict, comm, what, limit_gb=None) -> dict:
    """Print the estimate and refuse (collectively) when the ranks of a node do not fit."""
    import psutil

    node = _node_comm(comm)
    available = limit_gb * 1e9 if limit_gb else psutil.virtual_memory().available
    available = node.bcast(available, root=0)
    node_estimate = dict(estimate, ranks=node.size,
                         bytes_total=estimate["bytes_per_rank"] * node.size)
    log.info("memory estimate: dimension %d, nnz=%d; per rank %.2f GB (matrix %.2f GB, "
             "vectors %.2f GB); %d ranks on this node need %.2f GB of %.2f GB available",
             estimate["dimension"], estimate["nnz"], estimate["bytes_per_rank"] / 1e9,
             estimate["matrix_bytes_per_rank"] / 1e9, estimate["vector_bytes_per_rank"] / 1e9,
             node.size, node_estimate["bytes_total"] / 1e9, available / 1e9)
    error = None
    try:
        eigensolvers.check_memory(node_estimate, available, what)
    except SolverError as exc:
        error = str(exc)
    errors = [e for e in comm.allgather(error) if e]
    node.Free()
    if errors:
        raise SolverError(errors[0])
    return estimate


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in (*VERSIONED_PACKAGES, "nqsgen"):
        try:
            versions[name] = _pkg_metadata.version(name)
        except _pkg_metadata.PackageNotFoundError:
            versions[name] = None
    try:
        from petsc4py import PETSc
        from slepc4py import SLEPc

        versions["PETSc"] = ".".join(map(str, PETSc.Sys.getVersion()))
        versions["SLEPc"] = ".".join(map(str, SLEPc.Sys.getVersion()))
    except ImportError:
        pass
    return versions


def build_metadata(cluster, args, basis, result, comm, wall, estimate, energies) -> dict:
    e0, e1 = (float(x) for x in energies)
    n = cluster.n_sites
    gap = e1 - e0
    degenerate = bool(math.isfinite(gap) and gap <= DEGENERACY_TOL * abs(e0))
    rss = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, root=0)
    return {
        "cluster": cluster.name,
        "cluster_fingerprint": cluster.fingerprint(),
        "lattice": cluster.lattice.name,
        "n_sites": n,
        "n_up": basis.n_up,
        "j1": args.j1,
        "j2": args.j2,
        "hamiltonian": "H = J1 sum_J1 sigma_a.sigma_b + J2 sum_J2 sigma_a.sigma_b "
                       "(Pauli matrices, sigma_z basis, no sign rule)",
        "units": {"energy": "sigma units: H = sum J sigma.sigma = 4 sum J S.S",
                  "energy_per_site": "S.S units: energy / (4 n_sites)"},
        "energy": e0,
        "energy_per_site": e0 / (4 * n),
        "energies": [e0, e1],
        "energies_per_site": [e0 / (4 * n), e1 / (4 * n)],
        "gap": gap,
        "gap_per_site_units": gap / 4,
        "degenerate": degenerate,
        "degeneracy_tol": DEGENERACY_TOL,
        "residual": result.residual,
        "residual_tol": eigensolvers.RESIDUAL_TOL,
        "solver_tol": args.tol,
        "dimension": basis.dimension,
        "nnz": result.nnz,
        "matrix_format": result.matrix_format,
        "matrix_bytes": result.matrix_bytes,
        "sign_convention": "largest |amplitude| positive; ties (1e-9 relative) to the lowest state",
        "solver": result.solver,
        "eps_type": {"slepc": "krylovschur", "dense": "lapack"}.get(result.solver, "arpack"),
        "ranks": comm.size,
        "iterations": result.iterations,
        "matvecs": result.matvecs,
        "wall_time_s": wall,
        "timings_s": result.timings,
        "memory_estimate_bytes_per_rank": estimate["bytes_per_rank"],
        "peak_rss_bytes": int(sum(rss)) if rss else None,
        "peak_rss_bytes_per_rank": [int(x) for x in rss] if rss else None,
        "versions": package_versions(),
        "host": platform.node(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def run(args: argparse.Namespace, comm) -> dict | None:
    """The stage itself (collective); returns the metadata on rank 0."""
    t0 = time.perf_counter()
    _validate(args)
    specs = load_cluster_specs(args.config) if args.config else None
    cluster = get_cluster(args.cluster, specs)
    if args.solver == "scipy" and comm.size > 1:
        raise ConfigError("--solver scipy is single-process; use --solver slepc under mpiexec")
    symmetries = resolve_symmetries(args.symmetries, cluster.n_sites)
    if symmetries == "none" and args.sectors != "all":
        raise ConfigError(f"--sectors {args.sectors} applies to symmetric solves only "
                          "(--symmetries none solves the full Sz = 0 sector)")
    with collective(comm, "output location"):  # before any expensive work, on every rank
        publish.check_output_location(args.out, "metadata.json")
    _set_threads(args.threads, comm)
    hamiltonian = Heisenberg.from_cluster(cluster, j2=args.j2, j1=args.j1)
    what = f"{cluster.name} J2={args.j2:g}"
    if symmetries == "none":
        solved = _solve_full(args, cluster, hamiltonian, comm, what)
    else:
        solved = _solve_symmetric(args, cluster, hamiltonian, symmetries, comm, what)
    energies, result, columns, extra, estimate = solved
    log.info("E0 = %.12f (σ units) = %.12f per site (S·S units); E1 - E0 = %.3e; "
             "verified residual %.2e; %d matvecs", energies[0],
             energies[0] / (4 * cluster.n_sites), energies[1] - energies[0], result.residual,
             result.matvecs)
    wall = time.perf_counter() - t0
    metadata = build_metadata(cluster, args, SzBasis(cluster.n_sites), result, comm, wall,
                              estimate, energies)
    metadata.update(extra)
    _flag_degeneracy(metadata, comm.rank)
    write_ground_state(args.out, comm, result.row_lo, columns,
                       metadata if comm.rank == 0 else {}, shard_rows=args.shard_rows)
    log.info("wrote %s in %.1f s total", args.out, time.perf_counter() - t0)
    return metadata if comm.rank == 0 else None


def _flag_degeneracy(metadata: dict, rank: int) -> None:
    """``degenerate``: the scanned gap, a proven degeneracy, or a lower level elsewhere."""
    proven = (metadata.get("degeneracy") or 1) > 1
    incomplete = metadata.get("ground_state_sector_complete") is False
    metadata["degenerate"] = bool(metadata["degenerate"] or proven or incomplete)
    if rank != 0:
        return
    if incomplete:
        log.warning("the stored state is NOT the ground state: sector %s lies lower (E0 = "
                    "%.12f, stored %.12f); the ground state is %d-fold degenerate",
                    metadata["lowest_sector_all_sectors"], metadata["lowest_energy_all_sectors"],
                    metadata["energy"], metadata["degeneracy"])
    elif proven:
        log.warning("ground state is %d-fold degenerate (%s); its sign structure is not unique",
                    metadata["degeneracy"], "; ".join(metadata["degeneracy_proof"][:2]))
    elif metadata["degenerate"]:
        log.warning("ground state is (nearly) degenerate: E1 - E0 = %.3e; its sign structure "
                    "is not unique", metadata["gap"])


def _solve_full(args, cluster, hamiltonian, comm, what):
    basis = SzBasis(cluster.n_sites)
    log.info("%s (N=%d, %s), J2/J1=%g: K=%d, full Sz=0 sector, %s on %d rank(s)", cluster.name,
             cluster.n_sites, cluster.lattice.name, args.j2, basis.dimension, args.solver,
             comm.size)
    estimate = eigensolvers.memory_estimate(hamiltonian, basis, comm.size, ncv=args.ncv or 24,
                                            matrix_format=args.matrix)
    check_memory(estimate, comm, what, args.memory_limit_gb)
    if args.solver == "slepc":
        result = eigensolvers.solve_slepc(hamiltonian, basis, tol=args.tol,
                                          max_iterations=args.max_iterations, ncv=args.ncv,
                                          matrix_format=args.matrix)
    else:
        result = eigensolvers.solve_scipy(hamiltonian, basis, tol=args.tol,
                                          max_iterations=args.max_iterations)
    columns = {"state": basis.states(result.row_lo, result.row_hi), "amplitude": result.vector}
    extra = {"symmetries": "none", "sector": {"sz": 0, "symmetries": "none"}}
    extra.update(_full_sector_degeneracy(cluster, basis, result, comm,
                                         args.completeness != "off"))
    return result.energies, result, columns, extra, estimate


def _full_sector_degeneracy(cluster, basis, result, comm, check: bool) -> dict:
    """Symmetry images of the full-sector ground state (:mod:`nqsgen.symmetry.degeneracy`)."""
    from mpi4py import MPI

    from nqsgen.symmetry.degeneracy import degeneracy_report

    complete = {"ground_state_sector_complete": True,
                "lowest_energy_all_sectors": float(result.energies[0]),
                "lowest_sector_all_sectors": None, "lowest_sector_momentum": None,
                "lowest_sector_irrep_dimension": None,  # the full sector has no label
                "sector_completeness": {"status": "complete by construction: the full Sz = 0 "
                                                  "sector contains every symmetry sector"}}
    if not check or basis.dimension > DEGENERACY_CHECK_MAX:
        return dict(complete, degeneracy=None, degeneracy_proof=None)
    t0 = time.perf_counter()
    counts = np.array(comm.allgather(len(result.vector)), dtype=np.int64)
    psi = np.empty(basis.dimension) if comm.rank == 0 else None
    comm.Gatherv(np.ascontiguousarray(result.vector),
                 [psi, counts, np.concatenate([[0], np.cumsum(counts)[:-1]]), MPI.DOUBLE]
                 if comm.rank == 0 else None, root=0)
    report = None
    if comm.rank == 0:
        group = cluster_group(cluster, "full")
        report = degeneracy_report(group, psi, basis, float(result.energies[0]))
        report["symmetry_check_s"] = time.perf_counter() - t0
    return dict(complete, **comm.bcast(report, root=0))


def _solve_symmetric(args, cluster, hamiltonian, symmetries, comm, what):
    group = cluster_group(cluster, symmetries)
    sectors = select_sectors(group, args.sectors)
    log.info("%s (N=%d, %s), J2/J1=%g: symmetries %s, |G|=%d, %d of %d sectors to scan, %s on "
             "%d rank(s)", cluster.name, cluster.n_sites, cluster.lattice.name, args.j2,
             symmetries, len(group), len(sectors), len(group.sectors), args.solver, comm.size)
    estimate = symmetric_memory_estimate(hamiltonian, group, comm.size, ncv=args.ncv or 24,
                                         matrix_format=args.matrix)
    try:
        check_memory(estimate, comm, what, args.memory_limit_gb)
    except SolverError:
        if args.matrix != "aij":  # the indexed matrix is generated once anyway
            raise
        estimate = symmetric_memory_estimate(hamiltonian, group, comm.size,
                                             ncv=args.ncv or 24, two_pass=True,
                                             matrix_format=args.matrix)
        check_memory(estimate, comm, what, args.memory_limit_gb)
        log.info("memory: rows are generated twice (count, then insert) to hold the matrix "
                 "only once")
    scan = solve_sectors(hamiltonian, group, sectors, comm, solver=args.solver, tol=args.tol,
                         max_iterations=args.max_iterations, ncv=args.ncv,
                         degeneracy_tol=DEGENERACY_TOL, two_pass=estimate["two_pass"],
                         matrix_format=args.matrix)
    basis, result = scan.basis, scan.result
    if comm.rank == 0 and scan.near_degenerate:
        log.warning("sectors %s lie within %.0e of the ground state's sector %s",
                    ", ".join(scan.near_degenerate), DEGENERACY_TOL, basis.sector.label)
    columns = {"state": basis.states[result.row_lo:result.row_hi],
               "coefficient": result.vector,
               "orbit_size": basis.orbit_sizes[result.row_lo:result.row_hi]}
    sector = dict(basis.sector.to_dict(), sz=0, symmetries=symmetries,
                  characters=basis.sector.characters.tolist())
    extra = {"symmetries": symmetries, "sector": sector, "n_representatives": basis.dimension,
             "solver": args.solver,  # small sectors are diagonalised densely (see "sectors")
             "representation": "symmetric: psi(s) = coefficient(r) * chi(g) / sqrt(orbit_size)"
                               " for s = g.r, r the smallest state of the orbit",
             "group": group.to_dict(), "sectors": scan.sectors,
             "near_degenerate_sectors": scan.near_degenerate,
             "gap_scope": "lowest levels of the scanned one-dimensional real sectors",
             # whether the sector was found by scanning every one-dimensional real sector
             # or configured (--sectors: e.g. the known ground-state sector of a cluster)
             "sector_selection": "scanned" if args.sectors == "all" else "configured",
             "sectors_requested": args.sectors}
    extra["degeneracy"] = _main_scan_degeneracy(scan)
    extra["degeneracy_proof"] = [f"sector {label}: lowest level within {DEGENERACY_TOL:g} "
                                 "(relative) of E0" for label in scan.near_degenerate]
    if args.completeness == "off":
        from nqsgen.symmetry.complete import skipped_metadata

        extra.update(skipped_metadata("--completeness off"))
    else:
        extra.update(_completeness(args, cluster, group, scan, estimate, comm, what))
    return scan.energies, result, columns, extra, estimate


def _main_scan_degeneracy(scan) -> int:
    """Ground-level multiplicity seen by the main scan: sectors at E0, and E1 of its own."""
    e0 = float(scan.energies[0])
    own = scan.result.energies[1] - e0 <= DEGENERACY_TOL * abs(e0)
    return 1 + len(scan.near_degenerate) + int(bool(own))


def _completeness(args, cluster, group, scan, estimate, comm, what) -> dict:
    """Every momentum sector's lowest level (:mod:`nqsgen.symmetry.complete`), when it fits."""
    from nqsgen.symmetry import complete
    from nqsgen.symmetry.graph import OrbitGraph
    from nqsgen.symmetry.momentum import MomentumGroup

    try:
        momentum = MomentumGroup(cluster)
    except ConfigError as exc:
        return complete.skipped_metadata(str(exc))
    need = complete.memory_estimate(cluster, comm.size, ncv=args.ncv or complete.NCV)
    budget = max(estimate["bytes_per_rank"], COMPLETENESS_MIN_BUDGET)
    try:
        if need["bytes_per_rank"] > budget:
            raise SolverError(f"{need['bytes_per_rank'] / 1e9:.1f} GB per rank exceed the "
                              f"{budget / 1e9:.1f} GB of the main scan")
        check_memory(need, comm, f"{what} completeness scan", args.memory_limit_gb)
    except SolverError as exc:
        log.warning("completeness scan skipped: %s", exc)
        return complete.skipped_metadata(f"memory: {exc}")
    t0 = time.perf_counter()
    graph = OrbitGraph(cluster, momentum).build(comm)
    known = complete.known_levels(group, scan.sectors, momentum)
    result = complete.scan_all(graph, args.j1, args.j2, comm, known=known,
                               upper=float(scan.energies[0]), degeneracy_tol=DEGENERACY_TOL,
                               ncv=args.ncv)
    result.timings.update(graph.timings, wall=time.perf_counter() - t0)
    settings = {"tol": complete.DEFAULT_TOL, "screen_tol": complete.SCREEN_TOL,
                "sectors_from_main_scan": sorted(known),
                "memory_estimate_bytes_per_rank": need["bytes_per_rank"]}
    out = complete.completeness_metadata(result, float(scan.energies[0]), momentum, settings)
    main = _main_scan_degeneracy(scan)
    if "degeneracy" in out and main > out["degeneracy"]:  # absent: the scan decided nothing
        out["degeneracy"] = main
        out["degeneracy_proof"] += [f"sector {label} of the main scan: lowest level within "
                                    f"{DEGENERACY_TOL:g} of E0" for label in scan.near_degenerate]
    return out


def _set_threads(threads: int | None, comm) -> None:
    import os

    node = _node_comm(comm)
    per_rank = threads or max(1, (os.cpu_count() or 1) // node.size)
    node.Free()
    numba.set_num_threads(min(per_rank, numba.config.NUMBA_NUM_THREADS))


def setup_logging(rank: int) -> None:
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")


def main(argv=None) -> int:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    setup_logging(comm.rank)
    try:
        run(parse_args(argv), comm)
    except NqsgenError as exc:  # raised alike on every rank (validation, collective steps)
        if comm.rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, every rank released
        if "--debug" in (sys.argv[1:] if argv is None else argv):
            traceback.print_exc()
        print(f"error: {one_line(exc)} (rank {comm.rank})", file=sys.stderr, flush=True)
        if comm.size > 1:
            comm.Abort(2)  # the only way to release ranks waiting in a collective call
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
