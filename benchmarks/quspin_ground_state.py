"""QuSpin reference solve of one cluster's ground state (run inside ``.venv-quspin``).

Usage::

    .venv-quspin/bin/python benchmarks/quspin_ground_state.py BONDS.json [--variant eigsh|dot]
        [--tol 1e-12] [--seed 1]

``BONDS.json`` is written by ``bench_ground_state.py`` (this script never imports nqsgen, so it
can live in a venv with other numpy/scipy versions)::

    {"cluster": "square_24", "n_sites": 24, "edges": [[a, b], ...], "couplings": [J, ...]}

The Hamiltonian is H = Σ_bonds J σ_a·σ_b with **Pauli matrices** — the σ units of nqsgen.
QuSpin's ``spin_basis_general(..., pauli=1)`` uses σ^x, σ^y, σ^z (Pauli) and
σ^± = σ^x ± iσ^y (so σ^+ = [[0, 2], [0, 0]]).  Hence
σ^x_a σ^x_b + σ^y_a σ^y_b = (σ^+_a σ^-_b + σ^-_a σ^+_b) / 2, and the static list is
``[["+-", J/2], ["-+", J/2], ["zz", J]]`` per bond (real float64, no complex "yy" terms).
No symmetries beyond Sz = 0 (``Nup = N/2``), like the nqsgen stage.

Variants:

* ``eigsh`` (default, the documented QuSpin route): ``H.eigsh(k=2, which="SA")``, i.e. scipy's
  ARPACK on ``H.tocsr()`` — scipy's CSR product is single-threaded.
* ``dot``: ARPACK on a ``LinearOperator`` whose product is QuSpin's OpenMP ``H.dot`` (uses
  ``OMP_NUM_THREADS`` threads) — the fastest QuSpin route on several cores.

Prints one JSON object on stdout: timings (s) of basis, hamiltonian, eigsh, residual, total
(sum of the four; imports and interpreter start-up excluded), E0, E1 (σ units), the verified
relative residual ‖Hψ − E0ψ‖ / (|E0|·‖ψ‖), matvec count (``dot`` only), peak RSS, versions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import scipy
import scipy.sparse.linalg as sla


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bonds", help="JSON file with n_sites, edges, couplings")
    p.add_argument("--variant", choices=("eigsh", "dot"), default="eigsh")
    p.add_argument("--tol", type=float, default=1e-12, help="ARPACK tol (default %(default)g)")
    p.add_argument("--seed", type=int, default=1, help="seed of the ARPACK start vector")
    return p.parse_args(argv)


def static_list(edges, couplings) -> list:
    """QuSpin static list for Σ J σ_a·σ_b with pauli=1 (see the module docstring)."""
    flip = [[0.5 * float(j), int(a), int(b)] for (a, b), j in zip(edges, couplings, strict=True)]
    zz = [[float(j), int(a), int(b)] for (a, b), j in zip(edges, couplings, strict=True)]
    return [["+-", flip], ["-+", flip], ["zz", zz]]


def main(argv=None) -> int:
    args = parse_args(argv)
    with open(args.bonds) as fh:
        spec = json.load(fh)
    n = int(spec["n_sites"])
    if n % 2:
        raise SystemExit("n_sites must be even (Sz = 0 sector)")

    import quspin
    from quspin.basis import spin_basis_general
    from quspin.operators import hamiltonian

    t0 = time.perf_counter()
    basis = spin_basis_general(n, Nup=n // 2, pauli=1)
    t_basis = time.perf_counter() - t0

    t0 = time.perf_counter()
    ham = hamiltonian(static_list(spec["edges"], spec["couplings"]), [], basis=basis,
                      dtype=np.float64, check_symm=False, check_herm=False, check_pcon=False)
    t_ham = time.perf_counter() - t0

    dim = basis.Ns
    nnz = int(ham.static.nnz)
    v0 = np.random.default_rng(args.seed).uniform(-1.0, 1.0, dim)
    counter = {"matvecs": 0}
    t0 = time.perf_counter()
    if args.variant == "eigsh":
        energies, vectors = ham.eigsh(k=2, which="SA", tol=args.tol, v0=v0)
    else:

        def matvec(x):
            counter["matvecs"] += 1
            return ham.dot(np.ascontiguousarray(x).ravel(), check=False)

        op = sla.LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
        energies, vectors = sla.eigsh(op, k=2, which="SA", tol=args.tol, v0=v0)
    t_eigsh = time.perf_counter() - t0

    order = np.argsort(energies)
    e0, e1 = (float(energies[i]) for i in order)
    psi = vectors[:, order[0]]
    t0 = time.perf_counter()
    r = ham.dot(psi, check=False) - e0 * psi
    residual = float(np.linalg.norm(r) / (abs(e0) * np.linalg.norm(psi)))
    t_res = time.perf_counter() - t0

    result = {
        "cluster": spec.get("cluster"),
        "n_sites": n,
        "variant": args.variant,
        "dimension": int(dim),
        "nnz": nnz,
        "energy": e0,
        "energies": [e0, e1],
        "units": "sigma units: H = sum J sigma.sigma (QuSpin pauli=1)",
        "residual": residual,
        "arpack_tol": args.tol,
        "matvecs": counter["matvecs"] if args.variant == "dot" else None,
        "timings_s": {"basis": t_basis, "hamiltonian": t_ham, "eigsh": t_eigsh,
                      "residual": t_res, "total": t_basis + t_ham + t_eigsh + t_res},
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "versions": {"quspin": quspin.__version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "python": sys.version.split()[0]},
    }
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
