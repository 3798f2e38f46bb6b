"""Is the symmetric ground state the ground state?  Sector completeness for the default study.

    python benchmarks/validate_sectors.py sites24 [--clusters square_24 ...] [--j2 0.5 ...]
    python benchmarks/validate_sectors.py sites30 [--clusters kagome_30 ...] [--j2 1.4 ...]
    python benchmarks/validate_sectors.py estimate [--ranks 2]
    mpiexec -n 2 python benchmarks/validate_sectors.py ...        (every mode runs under MPI)

``sites24`` — every (cluster, J2) of the 24-site grids of config/config.yaml
(``ground_states``): the full Sz = 0 sector (SLEPc, as ``--symmetries none``) gives E0 and,
through the symmetry images of ψ0, the proven degeneracy (nqsgen.symmetry.degeneracy); the
one-dimensional real sector scan (nqsgen.symmetry.solve_sectors, as ``--symmetries full``)
gives E0 of the symmetric path; the completeness scan (nqsgen.symmetry.complete, every
momentum) gives the lowest level over all sectors.  Agreement: |ΔE| ≤ 1e-10.

``sites30`` — every (cluster, J2) of the 30-site grids: the completeness scan alone, with
``resolve_1d`` so that both the lowest level over all sectors and the lowest one-dimensional
real sector are converged.  For these clusters the point group is {E, C2}, so the
one-dimensional irreps of G' = T ⋊ {E, C2} × Z2 are exactly the sectors of the stage's
``--symmetries full`` scan.  One orbit graph per cluster serves every J2.

``estimate`` — memory and size of the completeness scan for the 30- and 36-site clusters.

Outputs (``--out``, default benchmarks/out/validate_sectors/): ``{mode}.jsonl`` (one record
per point, appended when it finishes; a rerun skips finished points) and ``{mode}.md``
(the table, also printed).  Energies in σ units (H = Σ J σ·σ).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from mpi4py import MPI

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from nqsgen import eigensolvers  # noqa: E402
from nqsgen.basis import SzBasis  # noqa: E402
from nqsgen.clusters import get_cluster  # noqa: E402
from nqsgen.hamiltonian import Heisenberg  # noqa: E402
from nqsgen.symmetry import cluster_group, complete, solve_sectors  # noqa: E402
from nqsgen.symmetry.degeneracy import degeneracy_report  # noqa: E402
from nqsgen.symmetry.graph import OrbitGraph  # noqa: E402
from nqsgen.symmetry.momentum import MomentumGroup  # noqa: E402
from nqsgen.symmetry.solve import memory_estimate as main_memory_estimate  # noqa: E402

COMM = MPI.COMM_WORLD
AGREE = 1e-10  # |ΔE| (σ units) counted as agreement


def say(*args) -> None:
    if COMM.rank == 0:
        print(*args, flush=True)


def grids(n_sites: int, clusters, j2s) -> list[tuple[str, float]]:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["ground_states"]
    points = []
    for name, settings in config.items():
        if get_cluster(name).n_sites != n_sites or (clusters and name not in clusters):
            continue
        points += [(name, float(j)) for j in settings["j2"] if not j2s or float(j) in j2s]
    return points


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "ranks": COMM.size, "load_average": os.getloadavg()}


def done_points(path: Path) -> set:
    if not path.exists():
        return set()
    return {(r["cluster"], r["j2"]) for r in map(json.loads, path.read_text().splitlines())}


def append(path: Path, record: dict) -> None:
    if COMM.rank == 0:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


# ------------------------------------------------------------------------------ 24 sites
def full_sector(cluster, j2: float) -> dict:
    basis = SzBasis(cluster.n_sites)
    t0 = time.perf_counter()
    result = eigensolvers.solve_slepc(Heisenberg.from_cluster(cluster, j2=j2), basis)
    counts = np.array(COMM.allgather(len(result.vector)))
    psi = np.empty(basis.dimension) if COMM.rank == 0 else None
    COMM.Gatherv(result.vector, [psi, counts, np.r_[0, np.cumsum(counts)[:-1]], MPI.DOUBLE]
                 if COMM.rank == 0 else None, root=0)
    report = None
    if COMM.rank == 0:
        report = degeneracy_report(cluster_group(cluster, "full"), psi, basis,
                                   result.energy)
    report = COMM.bcast(report, root=0)
    return {"e_full": result.energy, "krylov_gap": result.gap, "residual": result.residual,
            "degeneracy_full": report["degeneracy"],
            "proving": [p.split(":")[0] for p in report["degeneracy_proof"]],
            "overlaps": report["symmetry_overlaps"],
            "sector_full": report["symmetry_sector_from_overlaps"],
            "t_full": time.perf_counter() - t0}


def symmetric_and_complete(cluster, graph, j2: float) -> dict:
    group = cluster_group(cluster, "full")
    h = Heisenberg.from_cluster(cluster, j2=j2)
    t0 = time.perf_counter()
    scan = solve_sectors(h, group, list(group.sectors), COMM, degeneracy_tol=1e-8)
    t1 = time.perf_counter()
    known = complete.known_levels(group, scan.sectors, graph.momentum)
    full = complete.scan_all(graph, 1.0, j2, COMM, known=known, upper=float(scan.energies[0]))
    return {"e_1d": float(scan.energies[0]), "sector_1d": scan.sector.label, "t_1d": t1 - t0,
            **_scan_record(full), "t_complete": time.perf_counter() - t1}


def _scan_record(scan) -> dict:
    return {"e_all": scan.lowest.energy, "sector_all": scan.lowest.irrep.label,
            "irrep_dim_all": scan.lowest.irrep.dimension,
            "e_1d_gprime": scan.lowest_1d.energy if scan.lowest_1d else None,
            "sector_1d_gprime": scan.lowest_1d.irrep.label if scan.lowest_1d else None,
            "degeneracy_scan": scan.degeneracy,
            "unresolved": [lv.irrep.label for lv in scan.unresolved],
            "matvecs": sum(lv.matvecs for lv in scan.levels),
            "levels": [{"label": lv.irrep.label, "status": lv.status, "energy": lv.energy,
                        "residual": lv.residual, "matvecs": lv.matvecs}
                       for lv in scan.levels]}


def run_sites24(args) -> None:
    out = args.out / "sites24.jsonl"
    finished = done_points(out)
    graphs = {}
    for name, j2 in grids(24, args.clusters, args.j2):
        if (name, j2) in finished:
            continue
        cluster = get_cluster(name)
        if name not in graphs:
            graphs = {name: OrbitGraph(cluster).build(COMM)}
        load = os.getloadavg()[0]
        record = {"cluster": name, "j2": j2, **full_sector(cluster, j2),
                  **symmetric_and_complete(cluster, graphs[name], j2),
                  "load_before": load, "load_after": os.getloadavg()[0],
                  "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        say(f"{name} J2={j2:g}: full {record['e_full']:.12f} (deg {record['degeneracy_full']}"
            f" {record['proving']}), 1D {record['e_1d']:.12f} {record['sector_1d']}, all "
            f"{record['e_all']:.12f} {record['sector_all']}  [{record['t_full']:.0f}+"
            f"{record['t_1d']:.0f}+{record['t_complete']:.0f} s]")
        append(out, record)
    table24(out, args.out / "sites24.md")


def table24(src: Path, dst: Path) -> None:
    rows = ["| cluster | J2 | E0 full sector | degeneracy (symmetry images) | E0 1D real "
            "sectors (sector) | E0 − E0 full | lowest over all sectors (sector) | "
            "E − E0 full | agree |",
            "|---|---:|---:|---|---:|---:|---|---:|---|"]
    for r in map(json.loads, src.read_text().splitlines()):
        d1, da = r["e_1d"] - r["e_full"], r["e_all"] - r["e_full"]
        deg = str(r["degeneracy_full"]) + (f" ({', '.join(r['proving'])})" if r["proving"]
                                           else "")
        agree = "yes" if abs(d1) <= AGREE else ("**no**" if abs(da) <= AGREE else "**NO**")
        rows.append(f"| {r['cluster']} | {r['j2']:g} | {r['e_full']:.10f} | {deg} | "
                    f"{r['e_1d']:.10f} ({r['sector_1d']}) | {d1:.1e} | {r['e_all']:.10f} "
                    f"({r['sector_all']}) | {da:.1e} | {agree} |")
    if COMM.rank == 0:
        dst.write_text("\n".join(rows) + "\n")
        print("\n".join(rows))


# ------------------------------------------------------------------------------ 30 sites
def run_sites30(args) -> None:
    out = args.out / "sites30.jsonl"
    finished = done_points(out)
    by_cluster: dict[str, list[float]] = {}
    for name, j2 in grids(30, args.clusters, args.j2):
        if (name, j2) not in finished:
            by_cluster.setdefault(name, []).append(j2)
    for name, j2s in by_cluster.items():
        cluster = get_cluster(name)
        t0 = time.perf_counter()
        graph = OrbitGraph(cluster).build(COMM)
        say(f"{name}: orbit graph in {time.perf_counter() - t0:.0f} s ({graph.timings})")
        for j2 in sorted(j2s):
            load, t1 = os.getloadavg()[0], time.perf_counter()
            scan = complete.scan_all(graph, 1.0, j2, COMM, resolve_1d=True,
                                     screen_tol=args.screen_tol)
            record = {"cluster": name, "j2": j2, **_scan_record(scan),
                      "t_complete": time.perf_counter() - t1, "t_graph": graph.timings,
                      "load_before": load, "load_after": os.getloadavg()[0],
                      "screen_tol": args.screen_tol,
                      "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            say(f"{name} J2={j2:g}: all {record['e_all']:.12f} {record['sector_all']}, 1D "
                f"{record['e_1d_gprime']:.12f} {record['sector_1d_gprime']}, degeneracy "
                f"{record['degeneracy_scan']}, {record['matvecs']} matvecs, "
                f"{record['t_complete']:.0f} s")
            append(out, record)
        del graph
    table30(out, args.out / "sites30.md")


def table30(src: Path, dst: Path) -> None:
    rows = ["| cluster | J2 | lowest over all sectors | E0 (all sectors) | lowest 1D real "
            "sector | E0 (1D real) | agree | degeneracy | matvecs | time |",
            "|---|---:|---|---:|---|---:|---|---:|---:|---:|"]
    for r in map(json.loads, src.read_text().splitlines()):
        gap = r["e_1d_gprime"] - r["e_all"]
        agree = "yes" if gap <= 1e-8 * abs(r["e_all"]) else f"**no** (+{gap:.4f})"
        rows.append(f"| {r['cluster']} | {r['j2']:g} | {r['sector_all']} | {r['e_all']:.10f}"
                    f" | {r['sector_1d_gprime']} | {r['e_1d_gprime']:.10f} | {agree} | "
                    f"{r['degeneracy_scan']} | {r['matvecs']} | {r['t_complete']:.0f} s |")
    if COMM.rank == 0:
        dst.write_text("\n".join(rows) + "\n")
        print("\n".join(rows))


# ------------------------------------------------------------------------------ estimate
def run_estimate(args) -> None:
    rows = ["| cluster | K | \\|G'\\| | orbits | graph entries | largest sector | sectors | "
            "completeness scan, GB per rank | main 1D scan, GB per rank |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("square_30", "triangular_30", "kagome_30", "square_36"):
        c = get_cluster(name)
        e = complete.memory_estimate(c, args.ranks)
        main = main_memory_estimate(Heisenberg.from_cluster(c, j2=0.5),
                                    cluster_group(c, "full"), args.ranks, two_pass=True)
        n_irreps = len(MomentumGroup(c).irreps)
        rows.append(f"| {name} | {SzBasis(c.n_sites).dimension:,} | {e['group_order']} | "
                    f"{e['orbits']:,} | {e['graph_entries']:,} | {e['largest_sector']:,} | "
                    f"{n_irreps} | {e['bytes_per_rank'] / 1e9:.1f} | "
                    f"{main['bytes_per_rank'] / 1e9:.1f} |")
    say("\n".join(rows))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("sites24", "sites30", "estimate"))
    p.add_argument("--clusters", nargs="*", default=None)
    p.add_argument("--j2", nargs="*", type=float, default=None)
    p.add_argument("--screen-tol", type=float, default=complete.SCREEN_TOL)
    p.add_argument("--ranks", type=int, default=2, help="estimate: ranks to plan for")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "validate_sectors")
    args = p.parse_args(argv)
    if COMM.rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
    say(f"# {args.mode} on {json.dumps(machine())}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} "
        f"UTC: {' '.join(sys.argv)}")
    {"sites24": run_sites24, "sites30": run_sites30, "estimate": run_estimate}[args.mode](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
