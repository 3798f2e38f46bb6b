"""An independent Heisenberg Hamiltonian for cross-checks: sparse Kronecker products.

Built in the full 2^N space from Pauli matrices with scipy.sparse.kron and restricted to the
Sz = 0 sector by index selection; shares no code with :mod:`nqsgen.hamiltonian`.
"""

from __future__ import annotations

from functools import reduce
from itertools import combinations

import numpy as np
import scipy.sparse as sp

# single-site operators in the basis (|down>, |up>) = (bit 0, bit 1)
_SX = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
_ISY = sp.csr_matrix(np.array([[0.0, 1.0], [-1.0, 0.0]]))  # i·σʸ in this basis (real)
_SZ = sp.csr_matrix(np.diag([-1.0, 1.0]))


def _site_op(op, site, n):
    mats = [sp.identity(2, format="csr")] * n
    mats[site] = op
    # kron(A_{n-1}, ..., A_0): bit i of the full index is site i
    return reduce(lambda acc, m: sp.kron(m, acc, format="csr"), mats[1:], mats[0])


def sz0_indices(n):
    return np.array(sorted(sum(1 << i for i in c) for c in combinations(range(n), n // 2)))


def reference_hamiltonian(n, edges, couplings):
    """H = Σ J σ·σ restricted to Sz = 0 (sparse CSR, states in ascending order)."""
    h = sp.csr_matrix((2**n, 2**n))
    for (a, b), j in zip(edges, couplings, strict=True):
        if j == 0:
            continue
        # σʸσʸ = -(iσʸ)(iσʸ)
        h = h + j * (_site_op(_SX, a, n) @ _site_op(_SX, b, n)
                     - _site_op(_ISY, a, n) @ _site_op(_ISY, b, n)
                     + _site_op(_SZ, a, n) @ _site_op(_SZ, b, n))
    idx = sz0_indices(n)
    return h[idx][:, idx].tocsr()
