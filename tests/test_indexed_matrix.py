"""The indexed matrix format against CSR, and the SLEPc solve with it against AIJ."""

import numpy as np
import pytest

import nqsgen.indexed_matrix as indexed_matrix
from nqsgen import eigensolvers
from nqsgen.basis import SzBasis
from nqsgen.clusters import get_cluster
from nqsgen.errors import SolverError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.indexed_matrix import IndexedRows
from nqsgen.symmetry import cluster_group
from nqsgen.symmetry.basis import SymmetricBasis
from nqsgen.symmetry.operator import SymmetricHeisenberg


def full_operator(name, j2):
    cluster = get_cluster(name)
    h = Heisenberg.from_cluster(cluster, j2=j2)
    return eigensolvers.FullSectorOperator(h, SzBasis(cluster.n_sites)), h


def symmetric_operator(name, j2, sector):
    cluster = get_cluster(name)
    h = Heisenberg.from_cluster(cluster, j2=j2)
    group = cluster_group(cluster, "full")
    basis = SymmetricBasis(group, group.sector(sector)).build()
    return SymmetricHeisenberg(h, basis)


def test_full_sector_rows_equal_csr_and_use_one_byte_codes():
    op, h = full_operator("kagome_12", 0.5)
    lo, hi = 100, 700
    rows = IndexedRows.from_blocks(op.row_blocks(lo, hi), lo, hi, op.dimension)
    csr = h.csr(op.basis)[lo:hi]
    assert abs(rows.csr() - csr).max() == 0.0  # exact: the table holds the float64 values
    assert rows.nnz == csr.nnz
    np.testing.assert_array_equal(np.sort(rows.table), [1.0, 2.0])  # 2·J2, 2·J1
    assert all(codes.dtype == np.uint8 for *_, codes in rows.segments)
    x = np.random.default_rng(0).standard_normal(op.dimension)
    y = np.empty(hi - lo)
    rows.multiply(x, y)
    np.testing.assert_allclose(y, csr @ x, rtol=1e-13, atol=1e-13)


def test_symmetric_rows_with_signs_and_orbit_ratios_equal_csr(monkeypatch):
    # a sector with χ = −1 elements: values 2·J·χ·√(|O_r|/|O_c|) and their sums
    op = symmetric_operator("square_16", 0.5, "T1-T2-C4+sigma_0+Z+")
    monkeypatch.setattr(indexed_matrix, "SEGMENT_ENTRIES", 60)  # many segments
    rows = IndexedRows.from_blocks(op.row_blocks(0, op.dimension, chunk=7), 0,
                                   op.dimension, op.dimension)
    assert len(rows.segments) >= 3
    csr = op.csr()
    assert abs(rows.csr() - csr).max() == 0.0
    assert (rows.table < 0).any() and len(rows.table) > 4
    x = np.random.default_rng(1).standard_normal(op.dimension)
    y = np.empty(op.dimension)
    rows.multiply(x, y)
    np.testing.assert_allclose(y, csr @ x, rtol=1e-13, atol=1e-12)


def test_product_does_not_depend_on_how_rows_are_split():
    op, _ = full_operator("triangular_12", 1.0)
    x = np.random.default_rng(2).standard_normal(op.dimension)
    whole = np.empty(op.dimension)
    IndexedRows.from_blocks(op.row_blocks(0, op.dimension), 0, op.dimension,
                            op.dimension).multiply(x, whole)
    parts = []
    for lo, hi in ((0, 311), (311, op.dimension)):
        y = np.empty(hi - lo)
        IndexedRows.from_blocks(op.row_blocks(lo, hi), lo, hi, op.dimension).multiply(x, y)
        parts.append(y)
    np.testing.assert_array_equal(np.concatenate(parts), whole)  # bit for bit


def test_too_many_distinct_values_is_one_clear_error(monkeypatch):
    op = symmetric_operator("square_16", 0.5, "T1-T2-C4+sigma_0+Z+")
    monkeypatch.setattr(indexed_matrix, "MAX_CODES", 3)
    with pytest.raises(SolverError, match="distinct matrix elements; use --matrix aij"):
        IndexedRows.from_blocks(op.row_blocks(0, op.dimension), 0, op.dimension,
                                op.dimension)


def test_blocks_must_cover_the_rows_in_order():
    op, _ = full_operator("square_10", 0.0)
    blocks = list(op.row_blocks(0, 100))
    with pytest.raises(ValueError, match="end at row 100, not 120"):
        IndexedRows.from_blocks(iter(blocks), 0, 120, op.dimension)
    with pytest.raises(ValueError, match="out of order"):
        IndexedRows.from_blocks(iter(blocks), 10, 110, op.dimension)


@pytest.mark.parametrize("name,j2", [("kagome_12", 0.5), ("square_16", 0.5)])
def test_indexed_and_aij_solves_agree(name, j2):
    op, _ = full_operator(name, j2)
    indexed = eigensolvers.solve_operator(op, matrix_format="indexed")
    aij = eigensolvers.solve_operator(op, matrix_format="aij")
    np.testing.assert_allclose(indexed.energies, aij.energies, rtol=1e-12)
    np.testing.assert_allclose(indexed.vector, aij.vector, atol=1e-9)
    assert indexed.nnz == aij.nnz
    assert indexed.matrix_bytes < aij.matrix_bytes / 2
    assert indexed.matvecs > 0 and indexed.timings["matvec"] > 0


def test_memory_estimate_counts_the_smaller_matrix():
    cluster = get_cluster("square_30")
    h = Heisenberg.from_cluster(cluster, j2=0.5)
    basis = SzBasis(cluster.n_sites)
    indexed = eigensolvers.memory_estimate(h, basis, 2, matrix_format="indexed")
    aij = eigensolvers.memory_estimate(h, basis, 2, matrix_format="aij")
    off_diagonal = (indexed["nnz"] - basis.dimension) / 2
    assert indexed["matrix_bytes_per_rank"] == pytest.approx(
        off_diagonal * 6 + basis.dimension / 2 * 16, rel=1e-6)
    assert aij["matrix_bytes_per_rank"] > 1.9 * indexed["matrix_bytes_per_rank"]


TWO_RANK_SCRIPT = """
import json, sys
import numpy as np
from mpi4py import MPI
from nqsgen import eigensolvers
from nqsgen.basis import SzBasis, row_partition
from nqsgen.clusters import get_cluster
from nqsgen.hamiltonian import Heisenberg
from nqsgen.indexed_matrix import IndexedRows
from nqsgen.whole_vector import WholeVector

comm = MPI.COMM_WORLD
cluster = get_cluster("kagome_12")
op = eigensolvers.FullSectorOperator(Heisenberg.from_cluster(cluster, j2=0.5),
                                     SzBasis(cluster.n_sites))
lo, hi = row_partition(op.dimension, comm.size, comm.rank)
rows = IndexedRows.from_blocks(op.row_blocks(lo, hi), lo, hi, op.dimension)
x = np.random.default_rng(3).standard_normal(op.dimension)
report = {}
for mode in ("shared", "allgather"):
    whole = WholeVector(comm, comm.allgather(hi - lo), mode)
    for _ in range(3):  # reused buffers
        y = np.empty(hi - lo)
        rows.multiply(whole.gather(x[lo:hi].copy()), y)
    report[mode] = comm.gather(y.tolist(), root=0)
    report[mode + "_mode"] = whole.mode
    whole.free()
for fmt, gather in (("indexed", "shared"), ("indexed", "allgather"), ("aij", "auto")):
    result = eigensolvers.solve_operator(op, matrix_format=fmt, gather=gather)
    report[fmt + "-" + gather] = [float(e) for e in result.energies]
if comm.rank == 0:
    json.dump(report, open(sys.argv[1], "w"))
"""


@pytest.mark.mpi
def test_two_ranks_products_and_solves_equal_one_rank(tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import REPO, stage_env

    script = tmp_path / "two_ranks.py"
    script.write_text(TWO_RANK_SCRIPT)
    out = tmp_path / "report.json"
    subprocess.run(["mpiexec", "-n", "2", sys.executable, str(script), str(out)], check=True,
                   env=stage_env(), cwd=REPO, timeout=300, capture_output=True)
    report = json.loads(out.read_text())
    op, h = full_operator("kagome_12", 0.5)
    x = np.random.default_rng(3).standard_normal(op.dimension)
    one = np.empty(op.dimension)
    IndexedRows.from_blocks(op.row_blocks(0, op.dimension), 0, op.dimension,
                            op.dimension).multiply(x, one)
    assert report["shared_mode"] == "shared" and report["allgather_mode"] == "allgather"
    for mode in ("shared", "allgather"):  # rank-independent, bit for bit
        np.testing.assert_array_equal(np.concatenate(report[mode]), one)
    reference = eigensolvers.solve_slepc(h, op.basis).energies
    for key in ("indexed-shared", "indexed-allgather", "aij-auto"):
        np.testing.assert_allclose(report[key], reference, rtol=1e-11)
