"""Tests of nqsgen.clusters: construction, validation, symmetries, catalogue, errors, output."""

import json
import os

import numpy as np
import pytest

from nqsgen.clusters import CATALOGUE, cluster_from_spec, cluster_names, get_cluster
from nqsgen.errors import ClusterError, ConfigError

EXPECTED_SITES = {
    "square_10": 10, "square_16": 16, "square_24": 24, "square_30": 30, "square_36": 36,
    "triangular_12": 12, "triangular_16": 16, "triangular_24": 24, "triangular_30": 30,
    "kagome_12": 12, "kagome_24": 24, "kagome_30": 30,
}
EXPECTED_POINT_GROUP = {
    "square_10": 4, "square_16": 8, "square_24": 4, "square_30": 2, "square_36": 8,
    "triangular_12": 4, "triangular_16": 4, "triangular_24": 2, "triangular_30": 2,
    "kagome_12": 4, "kagome_24": 4, "kagome_30": 2,
}
# (J1 bonds per site, J2 bonds per site) and per-sublattice coordination
BONDS_PER_SITE = {"square": (2, 2), "triangular": (2, 1), "kagome": (4 / 3, 2 / 3)}
COORDINATION = {"square": ([4], [4]), "triangular": ([4], [2]), "kagome": ([2, 2, 4], [2, 2, 0])}

SMALL = ["square_10", "square_16", "triangular_12", "kagome_12", "kagome_24"]


def wrap_equal(cluster, x, y):
    """Whether cartesian points x and y (K, 2) coincide modulo the supercell."""
    diff = np.asarray(y, float) - np.asarray(x, float)
    frac = diff @ np.linalg.inv(cluster.supercell_vectors)  # supercell coordinates
    return np.all(np.abs(frac - np.round(frac)) < 1e-9, axis=-1)


def pair_set(bonds):
    return {(int(a), int(b)) for a, b in bonds}


# ---------------------------------------------------------------------- catalogue
def test_catalogue_names_and_sizes():
    assert set(CATALOGUE) == set(EXPECTED_SITES)
    assert cluster_names() == sorted(EXPECTED_SITES)
    for name, n in EXPECTED_SITES.items():
        c = get_cluster(name)
        assert c.name == name
        assert c.n_sites == n
        assert c.n_cells * c.lattice.n_sublattices == n
        assert c.coordinates.shape == (n, 2) and c.cells.shape == (n, 2)
        assert c.sublattice.tolist() == [i % c.lattice.n_sublattices for i in range(n)]


@pytest.mark.parametrize("name", sorted(EXPECTED_SITES))
def test_bond_counts_coordination_bipartite(name):
    c = get_cluster(name)
    n = c.n_sites
    per1, per2 = BONDS_PER_SITE[c.lattice.name]
    assert len(c.j1_bonds) == round(per1 * n)
    assert len(c.j2_bonds) == round(per2 * n)
    for bonds in (c.j1_bonds, c.j2_bonds):
        assert bonds.dtype == np.int64 and bonds.shape[1] == 2
        assert (bonds[:, 0] < bonds[:, 1]).all()
        assert len(pair_set(bonds)) == len(bonds)
        assert np.array_equal(bonds, bonds[np.lexsort((bonds[:, 1], bonds[:, 0]))])
    assert not pair_set(c.j1_bonds) & pair_set(c.j2_bonds)
    want1, want2 = COORDINATION[c.lattice.name]
    np.testing.assert_array_equal(np.bincount(c.j1_bonds.ravel(), minlength=n),
                                  np.array(want1)[c.sublattice])
    np.testing.assert_array_equal(np.bincount(c.j2_bonds.ravel(), minlength=n),
                                  np.array(want2)[c.sublattice])
    assert c.coordination() == {"J1": want1, "J2": want2}
    # every default cluster is unfrustrated at J2 = 0
    assert c.bipartite_j1 is True
    col = c.j1_colouring
    assert set(col.tolist()) == {0, 1}
    assert (col[c.j1_bonds[:, 0]] != col[c.j1_bonds[:, 1]]).all()
    assert len(c.point_group) == EXPECTED_POINT_GROUP[name]


def test_kagome_colouring_is_by_sublattice():
    for orientation, lone in (("a1", 2), ("a2", 1), ("a2-a1", 0)):
        spec = dict(CATALOGUE["kagome_24"], j2_orientation=orientation)
        c = cluster_from_spec(f"k24_{orientation}", spec)
        col = c.j1_colouring
        lone_colour = col[c.sublattice == lone]
        assert len(set(lone_colour.tolist())) == 1
        assert (col[c.sublattice != lone] != lone_colour[0]).all()
        assert len(c.j1_bonds) == 32 and len(c.j2_bonds) == 16


@pytest.mark.parametrize("name", sorted(EXPECTED_SITES))
def test_bonds_match_brute_force_geometry(name):
    """Independent check: a bond type with vector v joins a and b iff r_a + v = r_b mod L."""
    c = get_cluster(name)
    lat = c.lattice
    xy = c.coordinates
    expected = {"J1": set(), "J2": set()}
    for bt in lat.bond_types:
        v = (np.array(bt.dcell, float) @ lat.vectors
             + lat.sublattice_positions[bt.sub_to] - lat.sublattice_positions[bt.sub_from])
        ia = np.nonzero(c.sublattice == bt.sub_from)[0]
        ib = np.nonzero(c.sublattice == bt.sub_to)[0]
        hit = wrap_equal(c, xy[ia][:, None, :] + v, xy[ib][None, :, :])
        for k, m in zip(*np.nonzero(hit), strict=True):
            a, b = int(ia[k]), int(ib[m])
            expected[bt.coupling].add((min(a, b), max(a, b)))
    assert pair_set(c.j1_bonds) == expected["J1"]
    assert pair_set(c.j2_bonds) == expected["J2"]
    # displacements: from a to the bonded image of b, with the lattice's bond lengths
    for bonds, disp in ((c.j1_bonds, c.j1_displacements), (c.j2_bonds, c.j2_displacements)):
        assert wrap_equal(c, xy[bonds[:, 0]] + disp, xy[bonds[:, 1]]).all()
    length = {"square": (1.0, 2 ** 0.5), "triangular": (1.0, 1.0), "kagome": (0.5, 0.5)}
    l1, l2 = length[lat.name]
    np.testing.assert_allclose(np.linalg.norm(c.j1_displacements, axis=1), l1)
    np.testing.assert_allclose(np.linalg.norm(c.j2_displacements, axis=1), l2)


def test_site_order_square_16():
    c = get_cluster("square_16")
    np.testing.assert_allclose(c.coordinates, [[k % 4, k // 4] for k in range(16)])
    assert pair_set(c.j1_bonds) >= {(0, 1), (0, 4), (0, 3), (0, 12)}
    assert pair_set(c.j2_bonds) >= {(0, 5), (0, 7), (0, 13), (0, 15)}


def test_cells_in_fundamental_parallelogram():
    for name in ("square_10", "kagome_24", "kagome_30", "triangular_12"):
        c = get_cluster(name)
        sc = c.supercell.astype(float)
        frac = np.linalg.solve(sc.T, c.cells.T.astype(float)).T
        assert (frac > -1e-12).all() and (frac < 1 - 1e-12).all()
        assert len({tuple(x) for x in c.cells[:: c.lattice.n_sublattices].tolist()}) == c.n_cells


# ---------------------------------------------------------------------- symmetries
@pytest.mark.parametrize("name", sorted(EXPECTED_SITES))
def test_translations(name):
    c = get_cluster(name)
    t = c.translations
    n = c.n_sites
    assert t.shape == (c.n_cells, n)
    assert np.array_equal(t[0], np.arange(n))
    assert all(sorted(row.tolist()) == list(range(n)) for row in t)
    # perm[i] is the image of site i: position(perm[i]) = position(i) + t
    tv = c.translation_vectors.astype(float) @ c.lattice.vectors
    for row, shift in zip(t, tv, strict=True):
        assert wrap_equal(c, c.coordinates + shift, c.coordinates[row]).all()
        assert (c.sublattice[row] == c.sublattice).all()
        assert pair_set(np.sort(row[c.j1_bonds], axis=1)) == pair_set(c.j1_bonds)
        assert pair_set(np.sort(row[c.j2_bonds], axis=1)) == pair_set(c.j2_bonds)
    # a group of order n_cells: closed, fixed-point free except the identity
    members = {row.tobytes() for row in t}
    assert len(members) == c.n_cells
    for g in t:
        for h in t:
            assert g[h].tobytes() in members
    assert ((t[1:] == np.arange(n)).sum(axis=1) == 0).all()


@pytest.mark.parametrize("name", sorted(EXPECTED_SITES))
def test_point_group_ops_are_geometric(name):
    c = get_cluster(name)
    assert c.point_group[0].name == "E"
    assert np.array_equal(c.point_group[0].perm, np.arange(c.n_sites))
    names = [op.name for op in c.point_group]
    assert len(set(names)) == len(names)
    for op in c.point_group:
        image = c.coordinates @ op.matrix.T + op.shift
        assert wrap_equal(c, image, c.coordinates[op.perm]).all()
        assert pair_set(np.sort(op.perm[c.j1_bonds], axis=1)) == pair_set(c.j1_bonds)
        assert pair_set(np.sort(op.perm[c.j2_bonds], axis=1)) == pair_set(c.j2_bonds)


def test_point_group_orders():
    assert len(get_cluster("square_16").point_group) == 8
    assert len(get_cluster("square_36").point_group) == 8
    assert [op.name for op in get_cluster("square_24").point_group] == [
        "E", "C2", "sigma_0", "sigma_90"
    ]
    for name in ("kagome_24", "kagome_30"):
        for orientation in ("a1", "a2", "a2-a1"):
            spec = dict(CATALOGUE[name], j2_orientation=orientation)
            ops = [op.name for op in cluster_from_spec(f"{name}_{orientation}", spec).point_group]
            assert not any(o.startswith(("C3", "C6")) for o in ops), ops
            assert "C2" in ops
    # anisotropic kagome keeps the mirrors of its J2 orientation only
    assert [op.name for op in get_cluster("kagome_24").point_group] == [
        "E", "C2", "sigma_0", "sigma_90"
    ]


@pytest.mark.parametrize("name", ["square_10", "square_16", "triangular_12", "kagome_24"])
def test_symmetry_group_closed(name):
    c = get_cluster(name)
    g = c.symmetry_group()
    assert np.array_equal(g[0], np.arange(c.n_sites))
    assert len(g) == c.n_cells * len(c.point_group)
    assert c.check_group() == len(g)
    members = {row.tobytes() for row in g}
    assert len(members) == len(g)
    for a in g:
        for b in a[g]:
            assert b.tobytes() in members
        assert np.argsort(a).tobytes() in members  # inverse


def test_symmetry_group_order_square_36():
    c = get_cluster("square_36")
    assert len(c.symmetry_group()) == 288


# ---------------------------------------------------------------------- API
def test_bonds_method():
    c = get_cluster("triangular_12")
    edges, couplings = c.bonds(j1=1.0, j2=0.0)
    assert edges.dtype == np.int64 and couplings.dtype == np.float64
    assert edges.shape == (36, 2) and couplings.shape == (36,)
    assert np.array_equal(edges[:24], c.j1_bonds) and np.array_equal(edges[24:], c.j2_bonds)
    assert (couplings[:24] == 1.0).all() and (couplings[24:] == 0.0).all()
    _, couplings = c.bonds(j1=0.5, j2=1.25)
    assert (couplings[:24] == 0.5).all() and (couplings[24:] == 1.25).all()


def test_fingerprint():
    fps = {name: get_cluster(name).fingerprint() for name in EXPECTED_SITES}
    assert len(set(fps.values())) == len(fps)
    assert all(len(fp) == 16 and int(fp, 16) >= 0 for fp in fps.values())
    # pinned: stored ground states refer to these
    assert fps["square_16"] == "c536dc6e3dbccd37"
    assert fps["kagome_24"] == "c14aa58f33fa1d98"
    other = cluster_from_spec("renamed", CATALOGUE["square_16"])
    assert other.fingerprint() == fps["square_16"]


def test_cache_and_read_only():
    a = get_cluster("square_16")
    assert get_cluster("square_16") is a
    with pytest.raises(ValueError):
        a.j1_bonds[0, 0] = 5
    with pytest.raises(ValueError):
        a.point_group[1].perm[0] = 3


def test_negative_determinant_accepted():
    pos = cluster_from_spec("pos", {"lattice": "square", "supercell": [[4, 0], [0, 6]]})
    neg = cluster_from_spec("neg", {"lattice": "square", "supercell": [[0, 6], [4, 0]]})
    assert neg.n_sites == pos.n_sites == 24
    assert len(neg.j1_bonds) == 48 and len(neg.j2_bonds) == 48
    assert len(neg.point_group) == 4
    assert neg.fingerprint() == pos.fingerprint()


def test_user_specs_override_and_extend():
    user = {
        "square_16": {"lattice": "square", "supercell": [[4, 0], [0, 6]]},
        "kag_a2": {"lattice": "kagome", "supercell": [[2, 0], [0, 2]], "j2_orientation": "a2"},
    }
    assert get_cluster("square_16", user).n_sites == 24
    k = get_cluster("kag_a2", user)
    assert k.n_sites == 12 and k.lattice.options == {"j2_orientation": "a2"}
    assert "kag_a2" in cluster_names(user)
    assert get_cluster("square_16", {}).n_sites == 16
    with pytest.raises(ConfigError):
        get_cluster("square_16", ["not", "a", "mapping"])


def test_to_dict_and_json(tmp_path):
    c = get_cluster("kagome_12")
    d = c.to_dict()
    for key in ("name", "lattice", "lattice_options", "supercell", "n_sites", "coordinates",
                "sublattice", "j1_bonds", "j2_bonds", "coordination", "bipartite_j1",
                "translations", "point_group", "fingerprint"):
        assert key in d
    assert d["lattice_options"] == {"j2_orientation": "a1"}
    assert d["n_sites"] == 12 and len(d["j1_bonds"]) == 16 and len(d["j2_bonds"]) == 8
    assert d["point_group"][0]["name"] == "E" and len(d["point_group"]) == 4
    assert set(d["point_group"][1]) >= {"name", "matrix", "perm"}
    assert d["symmetry_group_order"] == 16
    path = tmp_path / "sub" / "k.json"
    c.to_json(path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(d))
    assert os.listdir(path.parent) == ["k.json"]


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"lattice": "square", "supercell": [[2, 2], [1, 1]]}, "zero-area supercell"),
        ({"lattice": "hexagon", "supercell": [[4, 0], [0, 4]]}, "unknown lattice 'hexagon'"),
        # the sqrt(5) x sqrt(5) square torus: (1,0) + (1,1) = (2,1) is a period
        ({"lattice": "square", "supercell": [[2, 1], [-1, 2]]},
         "J2 bonds coincide with J1 bonds"),
        ({"lattice": "square", "supercell": [[1, 0], [0, 6]]}, "self-bond"),
        ({"lattice": "square", "supercell": [[2, 0], [0, 2]]}, "duplicated J1 bond"),
        ({"lattice": "square", "supercell": [[2, 2], [2, -2]]}, "duplicated J2 bond"),
        ({"lattice": "square", "supercell": [[4, 0], [0, 4]], "size": 16}, "unknown key 'size'"),
        ({"lattice": "square", "supercell": [[4, 0], [0, 4]], "j2_orientation": "a1"},
         "unknown key 'j2_orientation'"),
        ({"supercell": [[4, 0], [0, 4]]}, "missing key 'lattice'"),
        ({"lattice": "square"}, "missing key 'supercell'"),
        ({"lattice": "square", "supercell": [[4, 0], [0, 4.0]]}, "two pairs of integers"),
        ({"lattice": "square", "supercell": [[4, 0, 1], [0, 4]]}, "two pairs of integers"),
        ({"lattice": "square", "supercell": [[True, 0], [0, 4]]}, "two pairs of integers"),
        ({"lattice": "square", "supercell": "4x4"}, "two pairs of integers"),
        ({"lattice": "kagome", "supercell": [[2, 0], [0, 2]], "j2_orientation": "b"},
         "bad j2_orientation 'b'"),
        (["square", [[4, 0], [0, 4]]], "spec must be a mapping"),
    ],
)
def test_spec_errors(spec, fragment):
    with pytest.raises(ClusterError) as info:
        cluster_from_spec("mycluster", spec)
    msg = str(info.value)
    assert fragment in msg
    assert "mycluster" in msg
    assert "\n" not in msg


def test_unknown_cluster_lists_known_names():
    with pytest.raises(ClusterError) as info:
        get_cluster("square_99")
    msg = str(info.value)
    assert "square_99" in msg and "square_24" in msg and "kagome_30" in msg
    assert "\n" not in msg
