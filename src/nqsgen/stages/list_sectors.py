"""List a cluster's symmetry sectors and, with ``--count``, their numbers of representatives.

    python -m nqsgen.stages.list_sectors --cluster square_36 [--symmetries full] [--count]
                                          [--sectors trivial]
    mpiexec -n 2 python -m nqsgen.stages.list_sectors --cluster square_36 --count --sectors trivial

One line per sector: index, label (χ on the named generators: T1/T2 the translations by a1/a2,
point-group operations by name, Z spin inversion), and with ``--count`` the representatives and
the seconds the enumeration took (MPI-parallel under mpiexec).  The labels are what
``--sectors`` of ``python -m nqsgen.stages.ground_state`` and the config's ``sectors`` accept.

``--momenta`` lists instead the sectors of the completeness scan — every irrep of
T ⋊ {E, C2} × Z2 (:mod:`nqsgen.symmetry.momentum`), with ``--count`` their dimensions (real
basis vectors; a two-dimensional irrep's levels are each two-fold degenerate).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from nqsgen.clusters import get_cluster
from nqsgen.config import load_cluster_specs
from nqsgen.errors import NqsgenError
from nqsgen.stages.base import StageParser


def parse_args(argv=None) -> argparse.Namespace:
    p = StageParser("nqsgen-sectors", __doc__)
    p.add_argument("--cluster", required=True, help="cluster name (catalogue or --config)")
    p.add_argument("--symmetries", choices=("translations", "full"), default="full")
    p.add_argument("--count", action="store_true", help="enumerate the representatives")
    p.add_argument("--sectors", default="all", help="all, trivial, or labels/indices")
    p.add_argument("--config", help="YAML config whose 'clusters:' mapping defines clusters")
    p.add_argument("--momenta", action="store_true",
                   help="list the completeness scan's sectors (every momentum) instead")
    return p.parse_args(argv)


def list_momenta(cluster, count: bool, comm) -> None:
    """The irreps of T ⋊ {E, C2} × Z2 and, with ``count``, their sector dimensions."""
    from nqsgen.symmetry.graph import OrbitGraph
    from nqsgen.symmetry.momentum import MomentumGroup
    from nqsgen.symmetry.sector import sector_dimension

    momentum = MomentumGroup(cluster)
    graph = OrbitGraph(cluster, momentum).build(comm, fill=False) if count else None
    if comm.rank == 0:
        print(f"# {cluster.name}: N={cluster.n_sites}, |G'|={len(momentum)} (translations x "
              f"C2 x spin inversion), {len(momentum.irreps)} irreps, "
              f"{len(momentum.momenta)} momenta")
    for ir in momentum.irreps:
        line = f"{ir.index:3d}  {ir.label}  ({ir.dimension}-dim irrep)"
        if graph is not None:
            line += f"  dimension={sector_dimension(graph, ir)}"
        if comm.rank == 0:
            print(line, flush=True)


def main(argv=None) -> int:
    from mpi4py import MPI

    from nqsgen.stages.base import setup_logging
    from nqsgen.symmetry import SymmetricBasis, cluster_group
    from nqsgen.symmetry.selection import select_sectors

    comm = MPI.COMM_WORLD
    setup_logging(comm.rank)
    logging.getLogger("nqsgen").setLevel(logging.INFO if comm.rank == 0 else logging.WARNING)
    try:
        args = parse_args(argv)
        specs = load_cluster_specs(args.config) if args.config else None
        cluster = get_cluster(args.cluster, specs)
        if args.momenta:
            list_momenta(cluster, args.count, comm)
            return 0
        group = cluster_group(cluster, args.symmetries)
        sectors = select_sectors(group, args.sectors)
    except NqsgenError as exc:
        if comm.rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if comm.rank == 0:
        print(f"# {cluster.name}: N={cluster.n_sites}, symmetries {args.symmetries}, "
              f"|G|={len(group)}, {len(group.sectors)} one-dimensional real sectors, "
              f"generators {', '.join(group.generators)}")
    for sector in sectors:
        line = f"{sector.index:3d}  {sector.label}"
        if args.count:
            t0 = time.perf_counter()
            basis = SymmetricBasis(group, sector).build(comm)
            line += f"  representatives={basis.dimension}  ({time.perf_counter() - t0:.1f} s, " \
                    f"{comm.size} rank(s))"
        if comm.rank == 0:
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
