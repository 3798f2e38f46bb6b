"""The Marshall-sign baseline: exact at J2 = 0, and against an independent computation at
J2 = 0.5 (a dense diagonalisation of the independent Kronecker-product Hamiltonian)."""

from __future__ import annotations

import numpy as np
import pytest

from nqsgen.baselines import marshall_overlap
from nqsgen.clusters import get_cluster
from nqsgen.storage import GroundState
from tests.conftest import run_module
from tests.reference import reference_hamiltonian, sz0_indices


def dense_ground_state(cluster, j2):
    """(Sz = 0 states, ground state) of the independent Kronecker-product Hamiltonian."""
    import scipy.sparse.linalg as spla

    edges = [tuple(b) for b in cluster.j1_bonds] + [tuple(b) for b in cluster.j2_bonds]
    couplings = [1.0] * len(cluster.j1_bonds) + [j2] * len(cluster.j2_bonds)
    h = reference_hamiltonian(cluster.n_sites, edges, couplings)
    _, vectors = spla.eigsh(h, k=1, which="SA", tol=1e-12)
    return sz0_indices(cluster.n_sites), vectors[:, 0]


@pytest.fixture(scope="module")
def square16(tmp_path_factory):
    base = tmp_path_factory.mktemp("gs")
    for j2 in ("0", "0.5"):
        run_module("nqsgen.stages.ground_state", "--cluster", "square_16", "--j2", j2, "--out",
                   base / j2, "--solver", "scipy")
    return base


def test_marshall_rule_is_exact_without_frustration(square16):
    cluster = get_cluster("square_16")
    result = marshall_overlap(GroundState.open(square16 / "0"), cluster)
    assert result["overlap"] == pytest.approx(1.0, abs=1e-12)
    assert result["overlap_method"] == "exact" and result["overlap_samples"] == 12870


def test_marshall_overlap_at_j2_half_matches_an_independent_computation(square16):
    cluster = get_cluster("square_16")
    state = GroundState.open(square16 / "0.5")
    # reference: the ground state of an independently built matrix, signs compared with
    # (−1)^(up spins on the sublattice of colour 1) spin by spin (no bit tricks)
    states, psi = dense_ground_state(cluster, 0.5)
    colour = np.asarray(cluster.j1_colouring)
    ups = np.array([[(int(s) >> i) & 1 for i in range(16)] for s in states])
    marshall = (-1.0) ** (ups[:, colour == 1].sum(axis=1))
    expected = abs(np.sum(psi**2 * np.sign(psi) * marshall)) / np.sum(psi**2)
    assert 0.5 < expected < 0.999  # frustrated: the rule is no longer exact
    assert marshall_overlap(state, cluster)["overlap"] == pytest.approx(expected, abs=1e-9)
    mc = marshall_overlap(state, cluster, exact_max_states=0, mc_samples=200_000)
    assert mc["overlap_method"] == "monte_carlo"
    assert abs(mc["overlap"] - expected) < 4 * mc["overlap_se"]
