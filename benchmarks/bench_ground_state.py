"""Benchmark the ground-state stage against QuSpin, side by side in one run.

Usage (normally through ``bin/bench``, which provisions both virtual environments)::

    python benchmarks/bench_ground_state.py [--clusters square_24 triangular_24 kagome_24]
        [--j2 0.5] [--ranks 2] [--repeat 1] [--out benchmarks/out]
        [--quspin-variants eigsh dot] [--quspin-python .venv-quspin/bin/python]

For every cluster (and repetition) it runs, one after the other on an otherwise idle machine:

1. **nqsgen**: ``mpiexec -n RANKS nqsgen-ground-state --cluster C --j2 J --out DIR``
   with one thread per rank (``OMP_NUM_THREADS=1``, the stage's numba threads = cores/ranks).
   The wall time is that of the whole command: MPI start-up, imports, basis, assembly,
   eigensolve, independent residual check, parquet shards written.  Assembly, matvec count and
   matvec time come from the stage's ``metadata.json`` (PETSc's MatMult log event, max over
   ranks); peak RSS is the stage's own figure (sum of the ranks' peaks) and, as a cross-check,
   the peak of the summed RSS of the command's process tree sampled every 50 ms.
2. **QuSpin** (``benchmarks/quspin_ground_state.py`` in ``.venv-quspin``): the same bonds (passed
   as JSON), ``spin_basis_general(N, Nup=N/2, pauli=1)``, no symmetries, ARPACK for the two
   lowest levels with tol 1e-12, independently verified residual.  It gets the same cores:
   ``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=RANKS``.  Variant ``eigsh`` is QuSpin's documented
   ``H.eigsh`` (scipy CSR product: one thread); ``dot`` drives ARPACK with QuSpin's OpenMP
   ``H.dot`` (both cores).  Wall time is that of the whole command as well.

Memory bandwidth: ``benchmarks/stream.py`` (triad, RANKS threads) runs before the first and
after the last cluster; the best of the two is the reference.  The stage's effective SpMV
bandwidth counts (12·nnz + 20·K) bytes per product (value + 32-bit column index per non-zero;
row pointer, x and y per row) — a lower bound on the real traffic (x is gathered).

Shared machines: before each measured command (and STREAM) the script waits up to
``--idle-wait`` seconds for the CPUs to be idle (< 15 % busy over 2 s), and it records, per
command, how many cores *other* processes kept busy meanwhile (system busy CPU time minus the
command's own, divided by its wall time: column "other load").  Anything above ~0.2 means the
timings of that command are inflated; MPI ranks suffer most (a time-sliced rank stalls both).

Energies are in σ units (H = Σ J σ·σ with Pauli matrices).  An energy disagreement beyond
1e-9 relative, a residual above 1e-10 or a failed command makes the exit status non-zero.
Writes OUT/bench_ground_state.json (everything, machine-readable), OUT/bench_ground_state.md
(the table) and the commands' logs under OUT/logs/; prints the markdown table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
ENERGY_RTOL = 1e-9
IDLE_BUSY = 0.15  # "idle machine": CPUs less than 15 % busy over 2 s
RESIDUAL_TOL = 1e-10
TARGETS = {"bandwidth_fraction": 0.60, "rss_bytes": {"square_24": 4e9}, "speedup": 2.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clusters", nargs="+", default=["square_24", "triangular_24", "kagome_24"])
    p.add_argument("--j2", type=float, default=0.5)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1, help="runs per cluster; the fastest counts")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    p.add_argument("--quspin-python", default=str(ROOT / ".venv-quspin" / "bin" / "python"))
    p.add_argument("--quspin-variants", nargs="*", default=["eigsh", "dot"],
                   choices=["eigsh", "dot"], help="none: skip QuSpin")
    p.add_argument("--quspin-tol", type=float, default=1e-12)
    p.add_argument("--stream-elements", type=int, default=50_000_000)
    p.add_argument("--idle-wait", type=float, default=300.0,
                   help="before each measured command wait up to this many seconds for the "
                        "machine to be idle (0: do not wait; default %(default)g)")
    p.add_argument("--keep-states", action="store_true", help="keep the parquet ground states")
    p.add_argument("--probe-matvecs", type=int, default=30,
                   help="timed products of the MatMult probe (0: no probe)")
    p.add_argument("--matmult-probe", metavar="CLUSTER", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- helpers
class TreeRss:
    """Peak of the summed RSS of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def wait_for_idle(max_wait: float) -> dict:
    """Wait (at most ``max_wait`` s) until the CPUs are less than IDLE_BUSY busy over 2 s."""
    t0 = time.perf_counter()
    busy = psutil.cpu_percent(interval=None)
    while max_wait > 0:
        busy = psutil.cpu_percent(interval=2.0) / 100
        if busy < IDLE_BUSY or time.perf_counter() - t0 >= max_wait:
            break
    return {"waited_s": time.perf_counter() - t0, "busy_fraction": busy,
            "idle": max_wait > 0 and busy < IDLE_BUSY}


def _busy_cpu_seconds() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _rusage_cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_command(cmd: list[str], env: dict, log_path: Path, stdout_path: Path | None = None,
                idle_wait: float = 0.0) -> dict:
    """Run ``cmd``; wall time, exit status, sampled peak tree RSS, and the contention: cores
    kept busy by *other* processes during the run (system busy CPU time minus ours / wall)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    idle = wait_for_idle(idle_wait)
    load_before = os.getloadavg()
    busy0, kids0 = _busy_cpu_seconds(), _rusage_cpu(resource.RUSAGE_CHILDREN)
    self0 = _rusage_cpu(resource.RUSAGE_SELF)
    with open(log_path, "w") as err, open(stdout_path or os.devnull, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=ROOT)
        sampler = TreeRss(proc.pid)
        rc = proc.wait()
        wall = time.perf_counter() - t0
        peak = sampler.stop()
    ours = (_rusage_cpu(resource.RUSAGE_CHILDREN) - kids0
            + _rusage_cpu(resource.RUSAGE_SELF) - self0)
    other = max(0.0, _busy_cpu_seconds() - busy0 - ours) / wall
    return {"command": cmd, "rc": rc, "wall_s": wall, "tree_peak_rss_bytes": peak,
            "cpu_s": ours, "other_cores_busy": other, "idle_before": idle,
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "log": str(log_path)}


def stream(args, env) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "stream.py"), "--json",
           "--threads", str(args.ranks), "--elements", str(args.stream_elements)]
    idle = wait_for_idle(args.idle_wait)
    busy0, kids0 = _busy_cpu_seconds(), _rusage_cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    ours = _rusage_cpu(resource.RUSAGE_CHILDREN) - kids0
    result = json.loads(res.stdout)
    result["other_cores_busy"] = max(0.0, _busy_cpu_seconds() - busy0 - ours) / wall
    result["idle_before"] = idle
    return result


def base_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu_model": model, "cores": os.cpu_count(),
            "ram_bytes": psutil.virtual_memory().total, "host": platform.node(),
            "kernel": platform.release(), "python": platform.python_version()}


# --------------------------------------------------------------------------- MatMult probe
def matmult_probe(name: str, j2: float, repeat: int) -> None:
    """Internal mode (under mpiexec): assemble the stage's PETSc matrix exactly as the stage
    does and time ``repeat`` products between barriers; prints JSON (best and mean) on rank 0.
    Best-of-N is robust against other processes time-slicing a rank, like STREAM's best-of-N."""
    from mpi4py import MPI

    from nqsgen import eigensolvers
    from nqsgen.basis import SzBasis
    from nqsgen.clusters import get_cluster
    from nqsgen.hamiltonian import Heisenberg

    petsc, _ = eigensolvers._petsc()
    comm = MPI.COMM_WORLD
    cluster = get_cluster(name)
    basis = SzBasis(cluster.n_sites)
    mat, _, _ = eigensolvers.assemble_petsc(Heisenberg.from_cluster(cluster, j2=j2), basis, comm)
    nnz = int(mat.getInfo(petsc.Mat.InfoType.GLOBAL_SUM)["nz_used"])
    x, y = mat.createVecRight(), mat.createVecLeft()
    x.setRandom()
    times = []
    for i in range(repeat + 3):
        comm.Barrier()
        t0 = time.perf_counter()
        mat.mult(x, y)
        comm.Barrier()
        if i >= 3:  # warm-up products not counted
            times.append(time.perf_counter() - t0)
    if comm.rank == 0:
        nbytes = 12 * nnz + 20 * basis.dimension
        print(json.dumps({"ranks": comm.size, "dimension": basis.dimension, "nnz": nnz,
                          "products": repeat, "best_s": min(times),
                          "mean_s": sum(times) / len(times),
                          "best_gb_s": nbytes / min(times) / 1e9,
                          "mean_gb_s": nbytes * len(times) / sum(times) / 1e9}))


def run_probe(args, name: str, out: Path) -> dict:
    cmd = ["mpiexec", "-n", str(args.ranks), sys.executable, str(Path(__file__).resolve()),
           "--matmult-probe", name, "--j2", repr(args.j2),
           "--probe-matvecs", str(args.probe_matvecs)]
    json_path = out / "logs" / f"{name}_matmult_probe.json"
    run = run_command(cmd, base_env(1), out / "logs" / f"{name}_matmult_probe.log",
                      stdout_path=json_path, idle_wait=args.idle_wait)
    if run["rc"] == 0:
        run["result"] = json.loads(json_path.read_text())
    return run


# --------------------------------------------------------------------------- one cluster
def run_nqsgen(args, name: str, rep: int, out: Path) -> dict:
    state_dir = out / "states" / f"{name}_j2_{args.j2:g}"
    shutil.rmtree(state_dir, ignore_errors=True)
    cmd = ["mpiexec", "-n", str(args.ranks), sys.executable, "-m", "nqsgen.stages.ground_state",
           "--cluster", name, "--j2", repr(args.j2), "--out", str(state_dir)]
    run = run_command(cmd, base_env(1), out / "logs" / f"{name}_nqsgen_{rep}.log",
                      idle_wait=args.idle_wait)
    meta_path = state_dir / "metadata.json"
    if run["rc"] != 0 or not meta_path.exists():
        run["error"] = f"nqsgen failed (exit {run['rc']}); see {run['log']}"
        return run
    meta = json.loads(meta_path.read_text())
    run["metadata"] = {k: meta.get(k) for k in (
        "energy", "energies", "energy_per_site", "gap", "residual", "dimension", "nnz", "ranks",
        "iterations", "matvecs", "wall_time_s", "timings_s", "peak_rss_bytes",
        "peak_rss_bytes_per_rank", "solver", "versions")}
    if not args.keep_states:
        shutil.rmtree(state_dir, ignore_errors=True)
    return run


def run_quspin(args, name: str, bonds_path: Path, variant: str, rep: int, out: Path) -> dict:
    cmd = [args.quspin_python, str(ROOT / "benchmarks" / "quspin_ground_state.py"),
           str(bonds_path), "--variant", variant, "--tol", repr(args.quspin_tol)]
    json_path = out / "logs" / f"{name}_quspin_{variant}_{rep}.json"
    log_path = out / "logs" / f"{name}_quspin_{variant}_{rep}.log"
    run = run_command(cmd, base_env(args.ranks), log_path, stdout_path=json_path,
                      idle_wait=args.idle_wait)
    if run["rc"] != 0:
        run["error"] = f"QuSpin {variant} failed (exit {run['rc']}); see {run['log']}"
        return run
    run["result"] = json.loads(json_path.read_text())
    return run


def write_bonds(name: str, j2: float, path: Path) -> dict:
    from nqsgen.clusters import get_cluster

    cluster = get_cluster(name)
    edges, couplings = cluster.bonds(j1=1.0, j2=j2)
    spec = {"cluster": name, "n_sites": int(cluster.n_sites), "j1": 1.0, "j2": j2,
            "edges": edges.tolist(), "couplings": couplings.tolist(),
            "fingerprint": cluster.fingerprint()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec))
    return spec


def summarise(name: str, ours: dict, quspin: dict, stream_gb_s: float,
              probe: dict | None = None) -> dict:
    """Derived numbers of one cluster from its fastest runs."""
    row = {"cluster": name, "problems": []}
    if "metadata" not in ours:
        row["problems"].append(ours.get("error", "nqsgen failed"))
        return row
    m = ours["metadata"]
    k, nnz, mv, t_mv = m["dimension"], m["nnz"], m["matvecs"], m["timings_s"]["matvec"]
    bw = (12 * nnz + 20 * k) * mv / t_mv / 1e9 if t_mv > 0 else float("nan")
    row.update(dimension=k, nnz=nnz, wall_s=ours["wall_s"], stage_wall_s=m["wall_time_s"],
               assembly_s=m["timings_s"]["assembly"], solve_s=m["timings_s"]["solve"],
               matvecs=mv, matvec_s=t_mv, matvec_ms=1e3 * t_mv / mv if mv else None,
               bandwidth_gb_s=bw, stream_gb_s=stream_gb_s, bandwidth_fraction=bw / stream_gb_s,
               peak_rss_bytes=m["peak_rss_bytes"], tree_peak_rss_bytes=ours["tree_peak_rss_bytes"],
               energy=m["energy"], residual=m["residual"], quspin={},
               other_cores_busy=ours["other_cores_busy"])
    if probe and "result" in probe:
        row["probe"] = dict(probe["result"],
                            best_fraction=probe["result"]["best_gb_s"] / stream_gb_s)
    elif probe:
        row["problems"].append(f"MatMult probe failed; see {probe['log']}")
    if m["residual"] > RESIDUAL_TOL:
        row["problems"].append(f"nqsgen residual {m['residual']:.2e} > {RESIDUAL_TOL:g}")
    for variant, run in quspin.items():
        if "result" not in run:
            row["problems"].append(run.get("error", f"QuSpin {variant} failed"))
            continue
        q = run["result"]
        rel = abs(q["energy"] - m["energy"]) / abs(m["energy"])
        agree = rel <= ENERGY_RTOL
        row["quspin"][variant] = {
            "wall_s": run["wall_s"], "total_s": q["timings_s"]["total"],
            "timings_s": q["timings_s"], "matvecs": q["matvecs"], "nnz": q["nnz"],
            "energy": q["energy"], "energy_rel_diff": rel, "energies_agree": agree,
            "residual": q["residual"], "peak_rss_bytes": q["peak_rss_bytes"],
            "other_cores_busy": run["other_cores_busy"],
            "speedup": run["wall_s"] / ours["wall_s"]}
        if not agree:
            row["problems"].append(
                f"ENERGY MISMATCH vs QuSpin {variant}: nqsgen {m['energy']:.12f}, QuSpin "
                f"{q['energy']:.12f} (relative difference {rel:.2e} > {ENERGY_RTOL:g}) — "
                "a convention bug somewhere")
        if q["residual"] > RESIDUAL_TOL:
            row["problems"].append(f"QuSpin {variant} residual {q['residual']:.2e}")
        if q["dimension"] != k:
            row["problems"].append(f"QuSpin {variant} dimension {q['dimension']} != {k}")
    return row


# --------------------------------------------------------------------------- report
def _f(x, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def table(rows: list[dict], variants: list[str]) -> str:
    head = ["cluster", "K", "nnz", "nqsgen wall (s)", "assembly (s)", "matvecs",
            "matvec total (s)", "per matvec (ms)", "eff. BW (GB/s)", "% STREAM",
            "probe best (GB/s)", "probe % STREAM", "peak RSS (GB)"]
    for v in variants:
        head += [f"QuSpin {v} (s)", f"speed-up vs {v}"]
    head += ["E0 (σ units)", "E0 agree", "other load (cores)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "dimension" not in r:
            lines.append(f"| {r['cluster']} | failed: {'; '.join(r['problems'])} |")
            continue
        cells = [r["cluster"], f"{r['dimension']:,}", f"{r['nnz']:,}", _f(r["wall_s"], ".1f"),
                 _f(r["assembly_s"], ".1f"), str(r["matvecs"]), _f(r["matvec_s"], ".1f"),
                 _f(r["matvec_ms"], ".0f"), _f(r["bandwidth_gb_s"], ".1f"),
                 _f(100 * r["bandwidth_fraction"], ".0f") + " %",
                 _f(r.get("probe", {}).get("best_gb_s"), ".1f"),
                 _f(100 * r["probe"]["best_fraction"], ".0f") + " %" if "probe" in r else "—",
                 _f(r["peak_rss_bytes"] / 1e9, ".2f")]
        for v in variants:
            q = r["quspin"].get(v)
            cells += ([_f(q["wall_s"], ".1f"), _f(q["speedup"], ".2f") + "×"] if q
                      else ["failed", "—"])
        agree = [q["energies_agree"] for q in r["quspin"].values()]
        diffs = [q["energy_rel_diff"] for q in r["quspin"].values()]
        cells += [f"{r['energy']:.10f}",
                  ("yes" if all(agree) else "**NO**") + (f" ({max(diffs):.0e})" if diffs else "")
                  if agree else "—",
                  " / ".join(f"{x:.1f}" for x in [r["other_cores_busy"]] + [
                      q["other_cores_busy"] for q in r["quspin"].values()])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.matmult_probe:
        matmult_probe(args.matmult_probe, args.j2, args.probe_matvecs)
        return 0
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    variants = list(args.quspin_variants)
    if variants and not Path(args.quspin_python).exists():
        sys.exit(f"error: {args.quspin_python} not found; run bin/bench (it provisions QuSpin) "
                 "or pass --quspin-variants with no value to skip QuSpin")
    started = _dt.datetime.now().astimezone()
    env = base_env(args.ranks)
    print(f"[bench] STREAM triad with {args.ranks} threads ...", file=sys.stderr)
    streams = [stream(args, env)]
    runs: dict[str, dict] = {}
    for name in args.clusters:
        bonds_path = out / "bonds" / f"{name}_j2_{args.j2:g}.json"
        write_bonds(name, args.j2, bonds_path)
        ours_runs, quspin_runs = [], {v: [] for v in variants}
        for rep in range(args.repeat):
            print(f"[bench] {name} ({rep + 1}/{args.repeat}): nqsgen on {args.ranks} ranks ...",
                  file=sys.stderr)
            ours_runs.append(run_nqsgen(args, name, rep, out))
            print(f"[bench]   {ours_runs[-1]['wall_s']:.1f} s", file=sys.stderr)
            for v in variants:
                print(f"[bench] {name} ({rep + 1}/{args.repeat}): QuSpin {v} ...",
                      file=sys.stderr)
                quspin_runs[v].append(run_quspin(args, name, bonds_path, v, rep, out))
                print(f"[bench]   {quspin_runs[v][-1]['wall_s']:.1f} s", file=sys.stderr)
        probe = None
        if args.probe_matvecs > 0:
            print(f"[bench] {name}: MatMult probe ({args.probe_matvecs} products) ...",
                  file=sys.stderr)
            probe = run_probe(args, name, out)
        runs[name] = {"nqsgen": ours_runs, "quspin": quspin_runs, "matmult_probe": probe}
    streams.append(stream(args, env))
    stream_gb_s = max(s["triad_gb_s"] for s in streams)

    def fastest(rs: list[dict]) -> dict:
        ok = [r for r in rs if r["rc"] == 0]
        return min(ok, key=lambda r: r["wall_s"]) if ok else rs[0]

    rows = [summarise(name, fastest(r["nqsgen"]),
                      {v: fastest(rs) for v, rs in r["quspin"].items()}, stream_gb_s,
                      r["matmult_probe"])
            for name, r in runs.items()]
    md = table(rows, variants)
    problems = [f"{r['cluster']}: {p}" for r in rows for p in r["problems"]]
    report = {
        "benchmark": "ground_state",
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
        "args": vars(args),
        "machine": machine(),
        "threads": {"nqsgen": f"{args.ranks} MPI ranks x 1 thread (OMP_NUM_THREADS=1)",
                    "quspin": f"1 process, OMP_NUM_THREADS=OPENBLAS_NUM_THREADS={args.ranks}"},
        "stream": streams,
        "stream_triad_gb_s": stream_gb_s,
        "targets": TARGETS,
        "energy_rtol": ENERGY_RTOL,
        "rows": rows,
        "runs": runs,
        "problems": problems,
        "table_markdown": md,
    }
    (out / "bench_ground_state.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "bench_ground_state.md").write_text(md + "\n")
    print(f"\nSTREAM triad ({args.ranks} threads): "
          + ", ".join(f"{s['triad_gb_s']:.1f}" for s in streams) + " GB/s (best counts)")
    print(md)
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    print(f"\nwrote {out / 'bench_ground_state.json'}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
