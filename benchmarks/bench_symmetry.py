"""Symmetry-reduced exact diagonalisation: time, memory and speed-up.

    python benchmarks/bench_symmetry.py solve --cluster kagome_30 --j2 0.5 --ranks 2
    python benchmarks/bench_symmetry.py compare --clusters square_24 triangular_24 kagome_24
    python benchmarks/bench_symmetry.py count --cluster square_36 --ranks 1 2

``solve`` runs ``python -m nqsgen.stages.ground_state --symmetries full`` under ``mpiexec -n RANKS``
and reports, from the written metadata: wall time of the stage, peak RSS (summed over ranks),
the sector scan (representatives, E0, basis construction / assembly / solve / matvec seconds
per sector) and the chosen sector.  ``compare`` runs each cluster with ``--symmetries none``
and ``--symmetries full`` one after the other and reports the speed-up of the wall time
(the symmetric run scans *all* one-dimensional real sectors unless ``--sectors`` says
otherwise).  ``count`` times the enumeration of the fully symmetric sector's representatives
(``python -m nqsgen.stages.list_sectors --count --sectors trivial``) at each rank count.
Outputs go to ``benchmarks/out/symmetry/``; a markdown summary is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "symmetry"


def mpirun(ranks: int, args: list[str]) -> tuple[float, str]:
    cmd = ["mpiexec", "--bind-to", "none", "-n", str(ranks), sys.executable, *args]
    print("running:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    return wall, proc.stdout + proc.stderr


def solve(cluster: str, j2: float, ranks: int, symmetries: str, sectors: str) -> dict:
    out = OUT / f"{cluster}-J2={j2:g}-{symmetries}-n{ranks}"
    args = ["-m", "nqsgen.stages.ground_state", "--cluster", cluster, "--j2", str(j2), "--out",
            str(out), "--symmetries", symmetries, "--threads", "1"]
    if symmetries != "none":
        args += ["--sectors", sectors]
    wall, _ = mpirun(ranks, args)
    meta = json.loads((out / "metadata.json").read_text())
    meta["bench_wall_s"] = wall
    return meta


def sector_table(meta: dict) -> list[str]:
    rows = ["| sector | representatives | E0 | basis s | assembly s | solve s | matvec s |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for s in meta.get("sectors", []):
        t = s["timings_s"]
        e0 = f"{s['energies'][0]:.10f}" if s["energies"] else "-"
        rows.append(f"| {s['label']} | {s['dimension']:,} | {e0} | {t.get('basis', 0):.1f} | "
                    f"{t.get('assembly', 0):.1f} | {t.get('solve', 0):.1f} | "
                    f"{t.get('matvec', 0):.1f} |")
    return rows


def cmd_solve(a) -> list[str]:
    lines = []
    for ranks in a.ranks:
        meta = solve(a.cluster, a.j2, ranks, "full", a.sectors)
        gb = (meta["peak_rss_bytes"] or 0) / 1e9
        lines += [f"### {a.cluster}, J2 = {a.j2:g}, {ranks} rank(s), symmetries full",
                  f"- wall {meta['bench_wall_s']:.0f} s (stage {meta['wall_time_s']:.0f} s), "
                  f"peak RSS {gb:.2f} GB (sum over ranks), |G| = {meta['group']['order']}",
                  f"- ground state in sector {meta['sector']['label']}: E0 = "
                  f"{meta['energy']:.12f} ({meta['energy_per_site']:.10f} per site), "
                  f"E1 - E0 = {meta['gap']:.6f}, residual {meta['residual']:.1e}",
                  "", *sector_table(meta), ""]
    return lines


def cmd_compare(a) -> list[str]:
    lines = ["| cluster | K | none: wall s | full: wall s (all sectors) | representatives "
             "(GS sector) | speed-up | ΔE0 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for cluster in a.clusters:
        none = solve(cluster, a.j2, a.ranks[0], "none", "all")
        full = solve(cluster, a.j2, a.ranks[0], "full", a.sectors)
        lines.append(f"| {cluster} | {none['dimension']:,} | {none['bench_wall_s']:.1f} | "
                     f"{full['bench_wall_s']:.1f} | {full['n_representatives']:,} | "
                     f"{none['bench_wall_s'] / full['bench_wall_s']:.1f}× | "
                     f"{abs(none['energy'] - full['energy']):.1e} |")
    return lines


def cmd_count(a) -> list[str]:
    lines = ["| cluster | ranks | representatives (trivial sector) | enumeration s |",
             "|---|---:|---:|---:|"]
    for ranks in a.ranks:
        _, text = mpirun(ranks, ["-m", "nqsgen.stages.list_sectors", "--cluster", a.cluster,
                                 "--count", "--sectors", "trivial"])
        m = re.search(r"representatives=(\d+)\s+\(([\d.]+) s", text)
        lines.append(f"| {a.cluster} | {ranks} | {int(m.group(1)):,} | {float(m.group(2)):.0f} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve")
    s.add_argument("--cluster", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--clusters", nargs="+", default=["square_24", "triangular_24", "kagome_24"])
    n = sub.add_parser("count")
    n.add_argument("--cluster", default="square_36")
    for q in (s, c, n):
        q.add_argument("--ranks", type=int, nargs="+", default=[2])
        q.add_argument("--j2", type=float, default=0.5)
        q.add_argument("--sectors", default="all")
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lines = {"solve": cmd_solve, "compare": cmd_compare, "count": cmd_count}[a.command](a)
    print(f"\n<!-- {platform.node()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; python benchmarks/bench_symmetry.py "
          f"{' '.join(sys.argv[1:])} -->")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
