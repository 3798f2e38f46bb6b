"""Completeness of the symmetry sectors: every momentum, complex ones included.

References: the full Sz = 0 spectrum of the independent Kronecker-product Hamiltonian
(tests/reference.py, ≤ 12 sites) or the full-sector Lanczos of nqsgen.hamiltonian (16–18
sites), which shares no code with the orbit graph.  The 18-site anisotropic kagome cluster
(supercell (3,0),(0,2), J2 on a1 bonds) is the smallest cluster found whose ground state has
a complex momentum; its one-dimensional-real-sector energies −37.1863 / −40.4790 / −48.3168
and full-sector energies −37.3273 / −40.7751 / −48.4655 (J2 = 1.4 / 1.6 / 2.0) were quoted,
from an independent momentum-resolved ED, when the problem was reported.  A scan of the
catalogue clusters up to 16 sites (J2 = 0, 0.1, ..., 2) found no ground state outside the
one-dimensional real sectors (square_10 at J2 ≥ 0.9 has a degenerate level shared by both).
"""

import json
import re

import numpy as np
import pytest
import scipy.sparse.linalg as sla
from mpi4py import MPI

from nqsgen.basis import SzBasis
from nqsgen.clusters import cluster_from_spec, get_cluster
from nqsgen.errors import ConfigError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.symmetry import cluster_group
from nqsgen.symmetry.complete import known_levels, scan_all, solve_sector
from nqsgen.symmetry.degeneracy import degeneracy_report
from nqsgen.symmetry.graph import OrbitGraph
from nqsgen.symmetry.momentum import MomentumGroup, _find_c2
from nqsgen.symmetry.sector import SectorOperator
from tests.conftest import run_module
from tests.reference import reference_hamiltonian

KAGOME_18 = {"lattice": "kagome", "supercell": [[3, 0], [0, 2]], "j2_orientation": "a1"}
# (J2, full-sector E0, best one-dimensional real sector E0), σ units, quoted to 4 decimals
KAGOME_18_COMPLEX = [(1.4, -37.3273, -37.1863),
                     pytest.param(1.6, -40.7751, -40.4790, marks=pytest.mark.slow),
                     pytest.param(2.0, -48.4655, -48.3168, marks=pytest.mark.slow)]
COMM = MPI.COMM_WORLD


def cluster(name):
    return cluster_from_spec("kagome_18", KAGOME_18) if name == "kagome_18" else get_cluster(name)


_GRAPHS = {}


def graph(name):
    if name not in _GRAPHS:
        _GRAPHS[name] = OrbitGraph(cluster(name)).build(COMM)
    return _GRAPHS[name]


_LEVELS = {}


def full_lowest(name, j2, k=1):
    """The k lowest levels of the full Sz = 0 sector, multiplicities included.

    One level at a time, each from a Lanczos solve of H + S·P (P: projector on the levels
    found so far, S a shift above the spectrum's width): a single Krylov space holds only
    one vector of a degenerate eigenspace, so ``eigsh(k=2)`` can miss a partner (it did for
    kagome_18), while after deflation the partner is the lowest level of what is left.
    """
    key = (name, j2)
    if len(_LEVELS.get(key, ())) < k:
        h = Heisenberg.from_cluster(cluster(name), j2=j2)
        matrix = h.csr(SzBasis(h.n_sites))
        shift = 4.0 * float(abs(matrix).sum(axis=1).max())  # > the spectral width
        rng = np.random.default_rng(7)
        found, values = np.zeros((matrix.shape[0], 0)), []
        for _ in range(k):
            op = sla.LinearOperator(matrix.shape, dtype=float, matvec=lambda x, v=found: (
                matrix @ x + shift * (v @ (v.T @ x))))
            value, vector = sla.eigsh(op, k=1, which="SA", tol=1e-13,
                                      v0=rng.standard_normal(matrix.shape[0]))
            values.append(float(value[0]))
            found = np.column_stack([found, vector[:, 0] / np.linalg.norm(vector[:, 0])])
        _LEVELS[key] = np.sort(values)
    return _LEVELS[key][:k]


# ----------------------------------------------------------------------------- the group
@pytest.mark.parametrize("name", ["square_10", "square_16", "square_30", "triangular_12",
                                  "triangular_30", "kagome_12", "kagome_24", "kagome_30",
                                  "kagome_18", "square_36"])
def test_irreps_of_the_momentum_group(name):
    m = MomentumGroup(cluster(name))
    n_t = len(cluster(name).translations)
    assert len(m) == 4 * n_t and len(m.momenta) == n_t == len(set(m.momenta))
    assert sum(ir.dimension**2 for ir in m.irreps) == len(m)
    real = [f for f in m.momenta if all((2 * x) % 1 == 0 for x in f)]
    assert sum(ir.real for ir in m.irreps) == 4 * len(real)
    for ir in m.irreps:
        chi = ir.characters
        assert chi[0] == 1 and np.allclose(np.abs(chi), 1)
        a = np.flatnonzero(m.coset == 0)  # χ is a character of A = T × Z2 ...
        for g in a[:12]:
            for h in a[:12]:
                gh = m.group.compose(int(g), int(h))
                assert chi[gh] == pytest.approx(chi[g] * chi[h], abs=1e-12)
        if ir.real:  # ... and for one-dimensional irreps of the whole G'
            assert np.all(chi.imag == 0) and set(np.unique(chi.real)) <= {-1.0, 1.0}


def test_a_cluster_without_c2_is_refused():
    class NoC2:
        name = "fake"
        point_group = [type("Op", (), {"matrix": np.eye(2), "perm": np.arange(4)})()]

    with pytest.raises(ConfigError, match="C2"):
        _find_c2(NoC2())


# ----------------------------------------------------------------------------- sectors
@pytest.mark.parametrize("name", ["square_10", "square_16", "triangular_12", "triangular_16",
                                  "kagome_12", "kagome_18", "square_24"])
def test_sectors_span_the_sz0_sector(name):
    """Σ (irrep dimension × sector dimension) = K: every state is in exactly one sector."""
    g = graph(name)
    total = sum(ir.dimension * SectorOperator(g, ir).dimension for ir in g.momentum.irreps)
    assert total == SzBasis(g.n_sites).dimension


@pytest.mark.parametrize("name,j2", [("square_10", 0.6), ("triangular_12", 1.3),
                                     ("kagome_12", 0.8)])
def test_sector_spectra_make_up_the_full_spectrum(name, j2):
    """All levels of all sectors, each two-dimensional one twice, = the full spectrum."""
    g = graph(name)
    h = Heisenberg.from_cluster(cluster(name), j2=j2)
    full = np.linalg.eigvalsh(reference_hamiltonian(h.n_sites, h.edges, h.couplings).toarray())
    levels = []
    for ir in g.momentum.irreps:
        op = SectorOperator(g, ir, 1.0, j2)
        if op.dimension:
            m = op.dense()
            np.testing.assert_allclose(m, m.T, atol=1e-12)
            levels += list(np.linalg.eigvalsh(m)) * ir.dimension
    np.testing.assert_allclose(np.sort(levels), full, atol=1e-10)


@pytest.mark.parametrize("name,j2", [("square_16", 0.5), ("triangular_16", 1.3),
                                     ("kagome_12", 0.5), ("kagome_18", 0.5)])
def test_lowest_level_over_all_sectors_is_the_ground_state(name, j2):
    scan = scan_all(graph(name), 1.0, j2, COMM, resolve_1d=True)
    e0 = full_lowest(name, j2)[0]
    assert scan.lowest.energy == pytest.approx(e0, abs=1e-10)
    assert scan.lowest_1d.energy == pytest.approx(e0, abs=1e-10)  # no complex ground state
    assert scan.degeneracy == 1 and not scan.unresolved


@pytest.mark.parametrize("j2,e_full,e_real", KAGOME_18_COMPLEX)
def test_complex_momentum_ground_state_of_kagome_18(j2, e_full, e_real):
    scan = scan_all(graph("kagome_18"), 1.0, j2, COMM, resolve_1d=True)
    levels = full_lowest("kagome_18", j2, k=2)
    assert levels[1] - levels[0] < 1e-9  # the pair (k, −k)
    assert scan.lowest.energy == pytest.approx(levels[0], abs=1e-10)
    assert scan.lowest.energy == pytest.approx(e_full, abs=1e-4)
    assert scan.lowest_1d.energy == pytest.approx(e_real, abs=1e-4)
    assert scan.lowest.irrep.dimension == 2
    assert [str(f) for f in scan.lowest.irrep.momentum] == ["1/3", "1/2"]
    assert scan.degeneracy == 2


@pytest.mark.slow
def test_ruled_out_sectors_lie_above_the_ground_state():
    """Screening stops early only for sectors whose converged level is higher."""
    g = graph("kagome_18")
    scan = scan_all(g, 1.0, 1.4, COMM)
    e0 = scan.lowest.energy
    ruled = [lv for lv in scan.levels if lv.status == "ruled out"]
    assert ruled
    for lv in ruled:
        exact = solve_sector(SectorOperator(g, lv.irrep, 1.0, 1.4), COMM).energy
        assert exact > e0 + 1e-3
        assert lv.energy >= exact - 1e-9  # the Ritz value is an upper bound
        assert lv.matvecs < 100


def test_main_scan_levels_are_reused_when_the_groups_coincide():
    c = cluster("kagome_18")
    main = cluster_group(c, "full")
    m = MomentumGroup(c)
    records = [{"label": s.label, "energies": [float(k), 0.0]} for k, s in
               enumerate(main.sectors)]
    known = known_levels(main, records, m)
    assert len(known) == 8 == sum(ir.real for ir in m.irreps)
    assert known_levels(cluster_group(get_cluster("kagome_12"), "full"), [],
                        MomentumGroup(get_cluster("kagome_12"))) == {}  # mirrors: G ≠ G'


# ----------------------------------------------------------------------------- degeneracy
@pytest.mark.parametrize("j2,degenerate", [(1.4, True), (0.5, False)])
def test_symmetry_images_prove_degeneracy(j2, degenerate):
    c = cluster("kagome_18")
    basis = SzBasis(c.n_sites)
    h = Heisenberg.from_cluster(c, j2=j2)
    values, vectors = sla.eigsh(h.csr(basis), k=1, which="SA", tol=1e-13)
    report = degeneracy_report(cluster_group(c, "full"), vectors[:, 0], basis, values[0])
    assert report["degeneracy"] == (2 if degenerate else 1)
    assert bool(report["degeneracy_proof"]) is degenerate
    if degenerate:  # T1 translates by a1, k·a1 = 2π/3: <ψ|T1ψ> = cos(2π/3) for any real ψ
        assert report["symmetry_overlaps"]["T1"] == pytest.approx(-0.5, abs=1e-9)
        assert report["symmetry_sector_from_overlaps"] is None
    else:
        assert report["symmetry_sector_from_overlaps"] == "T1+T2+C2+Z+"


# ----------------------------------------------------------------------------- the stage
@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    base = tmp_path_factory.mktemp("completeness")
    config = base / "clusters.yaml"
    config.write_text(json.dumps({"clusters": {"kagome_18": KAGOME_18}}))
    done = {}

    def run(j2, symmetries, *extra, ranks=None):
        key = (j2, symmetries, extra, ranks)
        if key not in done:
            out = base / f"{len(done)}"
            run_module("nqsgen.stages.ground_state", "--cluster", "kagome_18", "--config", config,
                       "--j2", j2, "--symmetries", symmetries, "--out", out, *extra,
                       ranks=ranks)
            done[key] = json.loads((out / "metadata.json").read_text())
        return done[key]

    return run


def test_stage_flags_a_ground_state_outside_the_real_sectors(stage):
    meta = stage("1.4", "full")
    assert meta["energy"] == pytest.approx(-37.1863, abs=1e-4)  # the excited stored state
    assert meta["ground_state_sector_complete"] is False
    assert meta["lowest_energy_all_sectors"] == pytest.approx(-37.3273, abs=1e-4)
    assert meta["lowest_sector_momentum"] == ["1/3", "1/2"]
    assert meta["lowest_sector_irrep_dimension"] == 2
    assert meta["degenerate"] is True and meta["degeneracy"] == 2
    assert "two-dimensional" in meta["degeneracy_proof"][0]
    block = meta["sector_completeness"]
    assert block["status"] == "done" and len(block["sectors"]) == 12
    assert len(block["sectors_from_main_scan"]) == 8  # G = G' for this cluster
    for key in ("energy", "energies", "gap", "sector", "sectors", "near_degenerate_sectors"):
        assert key in meta  # the existing keys stay


def test_stage_complete_and_non_degenerate(stage):
    meta = stage("0.5", "full")
    assert meta["ground_state_sector_complete"] is True
    assert meta["lowest_energy_all_sectors"] == pytest.approx(meta["energy"], abs=1e-10)
    assert meta["degenerate"] is False and meta["degeneracy"] == 1
    assert meta["degeneracy_proof"] == []


def test_full_sector_stage_proves_the_degeneracy_the_solver_missed(stage):
    meta = stage("1.4", "none")
    assert meta["gap"] > 0.1  # Krylov–Schur's second level is not the partner ...
    assert meta["degeneracy"] == 2 and meta["degenerate"] is True  # ... the images prove it
    assert meta["symmetry_overlaps"]["T1"] == pytest.approx(-0.5, abs=1e-9)
    assert meta["ground_state_sector_complete"] is True
    quiet = stage("0.5", "none")
    assert quiet["degeneracy"] == 1 and quiet["degenerate"] is False
    assert quiet["symmetry_sector_from_overlaps"] == "T1+T2+C2+Z+"


def test_completeness_off_records_why(stage):
    meta = stage("0.5", "full", "--completeness", "off")
    assert meta["ground_state_sector_complete"] is None
    assert meta["sector_completeness"]["status"].startswith("skipped")
    assert meta["degeneracy"] == 1


@pytest.mark.mpi
def test_two_ranks_scan_as_one(stage):
    one, two = stage("1.4", "full"), stage("1.4", "full", ranks=2)
    assert two["ranks"] == 2
    assert two["lowest_energy_all_sectors"] == pytest.approx(
        one["lowest_energy_all_sectors"], abs=1e-10)
    assert two["ground_state_sector_complete"] is False and two["degeneracy"] == 2


def test_list_momenta_cli(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(json.dumps({"clusters": {"kagome_18": KAGOME_18}}))
    proc = run_module("nqsgen.stages.list_sectors", "--cluster", "kagome_18", "--config", config,
                      "--momenta", "--count")
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("#")]
    assert len(lines) == 12
    dims = {}
    for line in lines:
        match = re.match(r"\s*\d+\s+(.+?)\s+\((\d)-dim irrep\)\s+dimension=(\d+)", line)
        dims[match[1]] = int(match[3])
    assert dims["k=+-(1/3,1/2) Z-"] == 4092 and dims["k=(0,0) C2+ Z+"] == 2102
    # Σ over irreps of (irrep dimension × sector dimension) = C(18, 9)
    assert sum((2 if "+-" in k else 1) * d for k, d in dims.items()) == 48620


def test_completeness_is_skipped_when_it_does_not_fit(tmp_path, monkeypatch):
    from nqsgen.stages import ground_state
    from nqsgen.symmetry import complete

    real = complete.memory_estimate
    monkeypatch.setattr(complete, "memory_estimate",
                        lambda *a, **k: dict(real(*a, **k), bytes_per_rank=10**15))
    args = ground_state.parse_args(["--cluster", "kagome_12", "--j2", "0.5", "--symmetries",
                                    "full", "--out", str(tmp_path / "gs")])
    meta = ground_state.run(args, COMM)
    assert meta["ground_state_sector_complete"] is None
    assert meta["sector_completeness"]["status"].startswith("skipped: memory")
    assert meta["degeneracy"] == 1 and (tmp_path / "gs" / "metadata.json").is_file()


# ----------------------------------------------------------------------------- tables, figures
def test_points_and_figures_flag_degenerate_ground_states(tmp_path):
    """The points table takes the flags from the runs' ground-state metadata; figures ring
    the flagged points."""
    import pandas as pd

    from nqsgen.plotting.figures import DEGENERATE_LABEL, eps_sweep_figure, j2_sweep_figure
    from nqsgen.tables import points_table

    flags = {0.5: {"degenerate": False, "degeneracy": 1, "ground_state_sector_complete": True},
             1.4: {"degenerate": True, "degeneracy": 2, "ground_state_sector_complete": False}}
    rows = []
    for j2 in (0.5, 1.4, 2.0):  # 2.0: no metadata (null flags)
        gs = tmp_path / f"J2={j2:g}"
        if j2 in flags:
            gs.mkdir()
            shard = {"file": "part-00000-0000.parquet", "row_start": 0, "rows": 48620,
                     "sha256": "0" * 64}  # a valid record (storage.metadata); shards unread
            (gs / "metadata.json").write_text(json.dumps(dict(
                flags[j2], n_sites=18, dimension=48620, energy=-30.0, shards=[shard])))
        for seed in range(2):
            rows.append(dict(source="train", cluster="kagome_18", lattice="kagome", n_sites=18,
                             dimension=48620, j2=j2, target="sign", arch="dense1",
                             eps_train=0.01, expressibility=False, seed=seed,
                             overlap=0.9 - 0.1 * seed, overlap_se=0.0, overlap_method="exact",
                             train_unique=100, epochs=5, wall_time_s=1.0,
                             ground_state=str(gs)))
    points = points_table(pd.DataFrame(rows), "figS").set_index("j2")
    assert points.loc[1.4, "ground_state_degenerate"] is True
    assert points.loc[1.4, "ground_state_degeneracy"] == 2
    assert points.loc[1.4, "ground_state_sector_complete"] is False
    assert points.loc[0.5, "ground_state_degenerate"] is False
    assert points.loc[2.0, "ground_state_degenerate"] is None
    assert np.isnan(points.loc[2.0, "ground_state_degeneracy"])
    points = points.reset_index()
    for fig, x in ((j2_sweep_figure(points), 1.4), (eps_sweep_figure(points), 0.01)):
        rings = [line for ax in fig.axes for line in ax.get_lines()
                 if line.get_label() == DEGENERATE_LABEL]
        assert len(rings) == 1 and list(rings[0].get_xdata()) == [x]
        assert list(rings[0].get_ydata()) == pytest.approx([0.85])
