import numpy as np
import pytest
import scipy.sparse

from nqsgen.basis import SzBasis
from nqsgen.hamiltonian import Heisenberg

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0]).astype(complex)


def dense_heisenberg(n, edges, couplings):
    """Full 2^N matrix from Kronecker products; qubit i ↔ bit i (bit set = σᶻ = +1)."""
    def op(single, site):
        # bit i of the state index; kron order puts site n-1 first
        mats = [np.eye(2)] * n
        mats[site] = single
        out = np.array([[1.0]])
        for m in reversed(mats):
            out = np.kron(out, m)
        return out

    # basis ordering: index = Σ bit_i 2^i where bit=1 ↔ up; single-site basis (|1>=up?) fix:
    # in index order |0> = down, |1> = up, so σᶻ = diag(-1, +1) and σx unchanged, σy → -σy.
    sz = np.diag([-1.0, 1.0]).astype(complex)
    sy = -SY
    h = np.zeros((2**n, 2**n), dtype=complex)
    for (a, b), j in zip(edges, couplings, strict=True):
        for s in (SX, sy, sz):
            h += j * op(s, a) @ op(s, b)
    return h


def project(h, basis):
    idx = basis.states().astype(np.int64)
    return h[np.ix_(idx, idx)]


def test_two_site_singlet_is_minus_three():
    h = Heisenberg(2, [[0, 1]], [1.0])
    m = h.csr(SzBasis(2)).toarray()
    assert np.linalg.eigvalsh(m)[0] == pytest.approx(-3.0, abs=1e-14)


def test_four_site_ring_is_minus_eight():
    h = Heisenberg(4, [[0, 1], [1, 2], [2, 3], [0, 3]], [1.0] * 4)
    m = h.csr(SzBasis(4)).toarray()
    assert np.linalg.eigvalsh(m)[0] == pytest.approx(-8.0, abs=1e-13)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_kronecker_construction(seed):
    rng = np.random.default_rng(seed)
    n = 8
    edges = np.array([(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.4])
    couplings = rng.normal(size=len(edges))
    basis = SzBasis(n)
    sparse = Heisenberg(n, edges, couplings).csr(basis).toarray()
    dense = project(dense_heisenberg(n, edges, couplings), basis)
    assert np.abs(dense.imag).max() < 1e-12
    np.testing.assert_allclose(sparse, dense.real, atol=1e-12)


def test_no_sign_rule_offdiagonal_elements_are_plus_two_j():
    h = Heisenberg(4, [[0, 1], [1, 2], [2, 3], [0, 3]], [0.7] * 4).csr(SzBasis(4))
    off = h - scipy.sparse.diags(h.diagonal())
    assert set(np.round(off.data, 12)) == {1.4}


def test_rows_of_any_range_equal_the_whole_matrix():
    rng = np.random.default_rng(3)
    n = 12
    edges = np.array([(i, (i + 1) % n) for i in range(n)] + [(i, (i + 2) % n) for i in range(n)])
    h = Heisenberg(n, edges, rng.normal(size=len(edges)))
    basis = SzBasis(n)
    whole = h.csr(basis)
    assert h.nnz(basis) == whole.nnz
    assert abs(whole - whole.T).max() == 0.0
    for lo, hi in [(0, 100), (100, 101), (400, 924)]:
        block = h.rows(basis, lo, hi)
        part = scipy.sparse.csr_matrix((block.data, block.indices, block.indptr),
                                       shape=(hi - lo, basis.dimension))
        assert abs(part - whole[lo:hi]).max() == 0.0
        for r in range(hi - lo):
            cols = block.indices[block.indptr[r]:block.indptr[r + 1]]
            assert np.all(np.diff(cols) > 0)
    nnz, inside = h.row_counts(basis, 100, 200, 100, 200)
    sub = whole[100:200]
    np.testing.assert_array_equal(nnz, np.diff(sub.indptr))
    np.testing.assert_array_equal(inside, np.diff(sub[:, 100:200].tocsr().indptr))


def test_zero_couplings_are_dropped_and_diagonal_kept():
    h = Heisenberg(4, [[0, 1], [2, 3]], [1.0, 0.0])
    m = h.csr(SzBasis(4))
    assert m.nnz == 6 + 2 * 2  # diagonal + two off-diagonal entries per antiparallel (0,1)
    assert h.nnz(SzBasis(4)) == m.nnz


def test_off_diagonal_matches_matrix():
    rng = np.random.default_rng(5)
    n = 10
    edges = np.array([(i, (i + 1) % n) for i in range(n)])
    h = Heisenberg(n, edges, rng.normal(size=n))
    basis = SzBasis(n)
    m = h.csr(basis).toarray()
    states = basis.states()[::37]
    counts, flipped, values = h.off_diagonal(states)
    np.testing.assert_allclose(h.diagonal(states), m[basis.index(states), basis.index(states)])
    start = 0
    for s, c in zip(states, counts, strict=True):
        row = m[:, basis.index(np.array([s]))[0]]
        for t, v in zip(flipped[start:start + c], values[start:start + c], strict=True):
            assert row[basis.index(np.array([t]))[0]] == pytest.approx(v)
        assert np.count_nonzero(row) == c + (row[basis.index(np.array([s]))[0]] != 0)
        start += c
