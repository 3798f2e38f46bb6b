"""The Heisenberg Hamiltonian in symmetric bases against the full (Kronecker-product) one."""

import numpy as np
import pytest
import scipy.sparse.linalg

from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.hamiltonian import Heisenberg
from nqsgen.symmetry import SymmetricBasis, SymmetricHeisenberg, cluster_group
from nqsgen.symmetry.permutations import permute_bits_reference
from tests.reference import reference_hamiltonian

SMALL = [("kagome_12", 0.0), ("kagome_12", 0.5), ("triangular_12", 0.0),
         ("triangular_12", 0.125), ("square_10", 0.0), ("square_10", 0.5)]


def sector_matrices(name, j2, kind):
    cluster = get_cluster(name)
    h = Heisenberg.from_cluster(cluster, j2=j2)
    group = cluster_group(cluster, kind)
    out = []
    for sector in group.sectors:
        basis = SymmetricBasis(group, sector).build()
        if basis.dimension:
            out.append((basis, SymmetricHeisenberg(h, basis).csr()))
    return h, out


def projector_columns(basis):
    """Dense K × d matrix whose column r is |r̃⟩ (brute force, per-bit permutations)."""
    group, n = basis.group, basis.n_sites
    full = SzBasis(n)
    chi = basis.sector.characters.astype(np.float64)
    v = np.zeros((full.dimension, basis.dimension))
    ones = np.uint64((1 << n) - 1)
    for g, (perm, flip) in enumerate(zip(group.perms, group.flips, strict=True)):
        images = permute_bits_reference(basis.states, perm)
        if flip:
            images = images ^ ones
        v[full.index(images), np.arange(basis.dimension)] = chi[g] / np.sqrt(basis.orbit_sizes)
    return v


@pytest.fixture(scope="module")
def full_spectra():
    out = {}
    for name, j2 in SMALL:
        h = Heisenberg.from_cluster(get_cluster(name), j2=j2)
        out[(name, j2)] = np.linalg.eigvalsh(
            reference_hamiltonian(h.n_sites, h.edges, h.couplings).toarray())
    return out


@pytest.mark.parametrize("name,j2", SMALL)
@pytest.mark.parametrize("kind", ["translations", "full"])
def test_sector_spectra_lie_in_the_full_spectrum(full_spectra, name, j2, kind):
    full = full_spectra[(name, j2)]
    _, matrices = sector_matrices(name, j2, kind)
    lowest = np.inf
    for basis, m in matrices:
        dense = m.toarray()
        assert m.shape == (basis.dimension, basis.dimension)
        np.testing.assert_allclose(dense, dense.T, rtol=0, atol=1e-12)
        eigs = np.linalg.eigvalsh(dense)
        distance = np.abs(eigs[:, None] - full[None, :]).min(axis=1)
        assert distance.max() < 1e-9, basis.sector.label
        lowest = min(lowest, eigs[0])
    assert lowest == pytest.approx(full[0], abs=1e-10)


@pytest.mark.parametrize("name,j2", [("kagome_12", 0.5), ("square_10", 0.5),
                                     ("triangular_12", 0.125)])
def test_matrix_elements_equal_projected_hamiltonian(name, j2):
    """⟨r̃'|H|r̃⟩ built from explicit symmetric vectors and the Kronecker-product H."""
    h, matrices = sector_matrices(name, j2, "full")
    reference = reference_hamiltonian(h.n_sites, h.edges, h.couplings)
    for basis, m in matrices:
        v = projector_columns(basis)
        np.testing.assert_allclose(v.T @ v, np.eye(basis.dimension), atol=1e-12)
        np.testing.assert_allclose(m.toarray(), v.T @ (reference @ v), rtol=0, atol=1e-12,
                                   err_msg=basis.sector.label)


def test_real_abelian_sectors_reproduce_the_spectrum_with_multiplicities(full_spectra):
    """kagome_12's translations are Z2 × Z2: its 4 real sectors split the whole space."""
    for j2 in (0.0, 0.5):
        _, matrices = sector_matrices("kagome_12", j2, "translations")
        assert len(matrices) == 4
        union = np.sort(np.concatenate([np.linalg.eigvalsh(m.toarray()) for _, m in matrices]))
        np.testing.assert_allclose(union, full_spectra[("kagome_12", j2)], rtol=0, atol=1e-9)


@pytest.mark.parametrize("j2", [0.0, 0.5])
@pytest.mark.parametrize("kind", ["translations", "full"])
def test_square_16_sectors_against_lowest_full_levels(j2, kind):
    cluster = get_cluster("square_16")
    h = Heisenberg.from_cluster(cluster, j2=j2)
    full = np.sort(scipy.sparse.linalg.eigsh(h.csr(SzBasis(16)), k=40, which="SA",
                                             tol=1e-13, return_eigenvectors=False))
    _, matrices = sector_matrices("square_16", j2, kind)
    lowest = np.inf
    for basis, m in matrices:
        dense = m.toarray()
        np.testing.assert_allclose(dense, dense.T, rtol=0, atol=1e-12)
        eigs = np.linalg.eigvalsh(dense)
        lowest = min(lowest, eigs[0])
        low = eigs[eigs < full[-1] - 1e-6]  # levels certainly inside the computed window
        distance = np.abs(low[:, None] - full[None, :]).min(axis=1) if len(low) else [0]
        assert np.max(distance) < 1e-9, basis.sector.label
    assert lowest == pytest.approx(full[0], abs=1e-10)


def test_rows_blocks_equal_csr():
    _, matrices = sector_matrices("triangular_12", 0.125, "full")
    basis, m = max(matrices, key=lambda item: item[0].dimension)
    h = Heisenberg.from_cluster(get_cluster("triangular_12"), j2=0.125)
    op = SymmetricHeisenberg(h, basis)
    cut = basis.dimension // 3
    top, bottom = op.rows(0, cut), op.rows(cut, basis.dimension)
    assert top.row_lo == 0 and bottom.row_lo == cut
    for block, lo in ((top, 0), (bottom, cut)):
        for i in range(len(block.indptr) - 1):
            cols = block.indices[block.indptr[i]:block.indptr[i + 1]]
            vals = block.data[block.indptr[i]:block.indptr[i + 1]]
            assert np.all(np.diff(cols) > 0)  # ascending, merged
            assert lo + i in cols  # diagonal always stored
            np.testing.assert_allclose(vals, m[lo + i, cols].toarray().ravel(), atol=1e-14)
    nnz, inside, blocks = op.local_rows(cut, basis.dimension, chunk=17)
    assert int(nnz.sum()) == len(bottom.data)
    rows = list(blocks)
    np.testing.assert_array_equal(np.concatenate([b.indices for b in rows]), bottom.indices)
    np.testing.assert_array_equal(np.concatenate([b.data for b in rows]), bottom.data)
    expected_inside = [np.count_nonzero(bottom.indices[bottom.indptr[i]:bottom.indptr[i + 1]]
                                        >= cut) for i in range(len(bottom.indptr) - 1)]
    np.testing.assert_array_equal(inside, expected_inside)


def test_two_pass_assembly_yields_the_same_rows():
    cluster = get_cluster("kagome_12")
    h = Heisenberg.from_cluster(cluster, j2=0.5)
    group = cluster_group(cluster, "translations")
    basis = SymmetricBasis(group, group.sectors[0]).build()
    lo, hi = basis.dimension // 4, basis.dimension
    one = SymmetricHeisenberg(h, basis).local_rows(lo, hi, chunk=13)
    two = SymmetricHeisenberg(h, basis, two_pass=True).local_rows(lo, hi, chunk=13)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    rows_one, rows_two = list(one[2]), list(two[2])
    assert [b.row_lo for b in rows_one] == [b.row_lo for b in rows_two] == list(range(lo, hi, 13))
    for a, b in zip(rows_one, rows_two, strict=True):
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)
    assert int(one[0].sum()) == sum(len(b.data) for b in rows_two)


@pytest.mark.parametrize("kind", ["full", "translations"])
def test_packed_xor_images_equal_permuting_every_connected_state(kind, monkeypatch):
    # rows from r's images XOR the bond images (packed minimum) against the fallback that
    # permutes every connected state (used when an image and its index do not fit 64 bits)
    from nqsgen.symmetry import operator as operator_module

    cluster = get_cluster("square_16")
    h = Heisenberg.from_cluster(cluster, j2=0.5)
    group = cluster_group(cluster, kind)
    for sector in (group.sectors[0], group.sectors[-1]):
        basis = SymmetricBasis(group, sector).build()
        packed = SymmetricHeisenberg(h, basis).csr()
        assert operator_module.packing(group, h._a, h._b)[1] > 0
        with monkeypatch.context() as m:
            m.setattr(operator_module, "packing",
                      lambda g, a, b: (np.zeros((len(a), g.image_count), np.uint64), 0))
            plain = SymmetricHeisenberg(h, basis).csr()
        assert abs(packed - plain).max() == 0.0 and packed.nnz == plain.nnz
