import numpy as np
import pytest
import scipy.sparse.linalg as sla
from mpi4py import MPI

from nqsgen import eigensolvers
from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.errors import SolverError
from nqsgen.hamiltonian import Heisenberg
from tests.reference import reference_hamiltonian

SMALL = [("square_10", 0.0), ("square_10", 0.5), ("square_10", 0.3), ("triangular_12", 0.0),
         ("triangular_12", 1.0), ("kagome_12", 0.0), ("kagome_12", 0.5), ("kagome_12", 1.5)]


def problem(name, j2):
    cluster = get_cluster(name)
    return cluster, Heisenberg.from_cluster(cluster, j2=j2), SzBasis(cluster.n_sites)


@pytest.mark.parametrize("name,j2", SMALL)
def test_energies_equal_dense_diagonalisation(name, j2):
    cluster, h, basis = problem(name, j2)
    edges, couplings = cluster.bonds(j1=1.0, j2=j2)
    dense = reference_hamiltonian(cluster.n_sites, edges, couplings).toarray()
    exact = np.linalg.eigvalsh(dense)[:2]
    for result in (eigensolvers.solve_scipy(h, basis), eigensolvers.solve_slepc(h, basis)):
        np.testing.assert_allclose(result.energies, exact, rtol=1e-10, atol=0)
        assert result.residual <= 1e-10
        psi = result.vector
        assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(dense @ psi, exact[0] * psi, atol=1e-9)


@pytest.mark.parametrize("name,j2", [("square_16", 0.5), ("triangular_16", 0.8)])
def test_16_site_energies_equal_independent_matrix(name, j2):
    cluster, h, basis = problem(name, j2)
    ref = reference_hamiltonian(cluster.n_sites, *cluster.bonds(j1=1.0, j2=j2))
    assert abs(ref - h.csr(basis)).max() == 0.0
    exact = np.sort(sla.eigsh(ref, k=2, which="SA", tol=1e-14)[0])
    result = eigensolvers.solve_slepc(h, basis)
    np.testing.assert_allclose(result.energies, exact, rtol=1e-10, atol=0)


def test_unfrustrated_ground_state_obeys_marshall_sign_rule():
    # J2 = 0 on a bipartite cluster: sign(ψ_s) = (-1)^(up spins on sublattice B), up to a global
    # sign -- a physics check of the stored signs (no sign rule is applied to H).
    cluster, h, basis = problem("square_16", 0.0)
    psi = eigensolvers.solve_scipy(h, basis).vector
    colour = np.asarray(cluster.j1_colouring)
    mask_b = np.uint64(sum(1 << i for i in np.flatnonzero(colour == 1)))
    states = basis.states()
    parity = np.bitwise_count(states & mask_b) % 2
    marshall = np.where(parity == 0, 1.0, -1.0)
    big = np.abs(psi) > 1e-12
    agree = np.sign(psi[big]) * marshall[big]
    assert abs(agree.sum()) == big.sum()


def test_unconverged_solve_is_an_error():
    _, h, basis = problem("kagome_12", 0.5)
    with pytest.raises(SolverError, match="converged"):
        eigensolvers.solve_slepc(h, basis, max_iterations=1)
    with pytest.raises(SolverError, match="converge"):
        eigensolvers.solve_scipy(h, basis, max_iterations=1)


def test_residual_check_refuses_a_loose_solve():
    _, h, basis = problem("kagome_12", 0.5)
    with pytest.raises(SolverError, match="residual"):
        eigensolvers.solve_slepc(h, basis, tol=1e-4, residual_tol=1e-10)


def test_global_sign_is_fixed_by_the_largest_amplitude():
    v = np.array([0.1, -0.5, 0.5, 0.3])
    np.testing.assert_array_equal(eigensolvers.fix_global_sign(v, 0), -v)
    np.testing.assert_array_equal(eigensolvers.fix_global_sign(-v, 0), -v)
    # the same rule on a slice, with a communicator
    comm = MPI.COMM_WORLD
    np.testing.assert_array_equal(eigensolvers.fix_global_sign(v, 0, comm), -v)


def test_start_vector_is_independent_of_partition():
    whole = eigensolvers.start_vector(0, 1000)
    np.testing.assert_array_equal(np.concatenate([eigensolvers.start_vector(0, 333),
                                                  eigensolvers.start_vector(333, 1000)]), whole)


def test_memory_refusal_names_the_way_out():
    cluster, h, basis = problem("square_30", 0.5)
    estimate = eigensolvers.memory_estimate(h, basis, n_ranks=2)
    assert estimate["nnz"] == basis.dimension + 120 * 2 * 40_116_600  # bonds × 2·C(28, 14)
    with pytest.raises(SolverError, match="symmetries"):
        eigensolvers.check_memory(estimate, 24e9, "square_30 J2=0.5")
