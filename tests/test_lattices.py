"""Tests of nqsgen.lattices: lattice data, coordination, candidate point groups, errors."""

import math

import numpy as np
import pytest

from nqsgen.errors import ClusterError
from nqsgen.lattices import (
    KAGOME_ORIENTATIONS,
    LATTICES,
    get_lattice,
    lattice_option_names,
    point_op_name,
    reflection,
    rotation,
)


def bond_vector(lat, bt):
    return (np.array(bt.dcell, float) @ lat.vectors
            + lat.sublattice_positions[bt.sub_to] - lat.sublattice_positions[bt.sub_from])


def test_known_lattices():
    assert set(LATTICES) == {"square", "triangular", "kagome"}
    for name in LATTICES:
        assert get_lattice(name).name == name


@pytest.mark.parametrize(
    "name, nsub, j1, j2",
    [("square", 1, [4], [4]), ("triangular", 1, [4], [2]), ("kagome", 3, [2, 2, 4], [2, 2, 0])],
)
def test_expected_coordination(name, nsub, j1, j2):
    lat = get_lattice(name)
    assert lat.n_sublattices == nsub
    coord = lat.expected_coordination()
    assert coord["J1"].tolist() == j1
    assert coord["J2"].tolist() == j2


def test_square_geometry():
    lat = get_lattice("square")
    np.testing.assert_allclose(lat.vectors, np.eye(2))
    lengths = {bt.coupling: [] for bt in lat.bond_types}
    for bt in lat.bond_types:
        lengths[bt.coupling].append(np.linalg.norm(bond_vector(lat, bt)))
    np.testing.assert_allclose(lengths["J1"], [1.0, 1.0])
    np.testing.assert_allclose(lengths["J2"], [math.sqrt(2)] * 2)
    assert sorted(bt.dcell for bt in lat.bond_types if bt.coupling == "J2") == [(1, -1), (1, 1)]


def test_triangular_geometry():
    lat = get_lattice("triangular")
    np.testing.assert_allclose(lat.a2, [0.5, math.sqrt(3) / 2])
    j1 = [bt.dcell for bt in lat.bond_types if bt.coupling == "J1"]
    j2 = [bt.dcell for bt in lat.bond_types if bt.coupling == "J2"]
    assert sorted(j1) == [(0, 1), (1, 0)] and j2 == [(-1, 1)]
    # drawn as a triangular lattice: all three bond directions have unit length
    for bt in lat.bond_types:
        assert np.linalg.norm(bond_vector(lat, bt)) == pytest.approx(1.0)


@pytest.mark.parametrize("orientation", KAGOME_ORIENTATIONS)
def test_kagome_geometry(orientation):
    lat = get_lattice("kagome", j2_orientation=orientation)
    assert lat.options == {"j2_orientation": orientation}
    np.testing.assert_allclose(lat.sublattice_positions[1], [0.5, 0.0])
    np.testing.assert_allclose(lat.sublattice_positions[2], [0.25, math.sqrt(3) / 4])
    assert len(lat.bond_types) == 6
    for bt in lat.bond_types:
        assert np.linalg.norm(bond_vector(lat, bt)) == pytest.approx(0.5)
        assert bt.coupling == ("J2" if bt.orientation == orientation else "J1")
    assert sum(bt.coupling == "J2" for bt in lat.bond_types) == 2
    # the J2 orientation is the bond direction: a1, a2 or a2 - a1
    direction = {"a1": lat.a1, "a2": lat.a2, "a2-a1": lat.a2 - lat.a1}[orientation]
    for bt in lat.bond_types:
        if bt.coupling == "J2":
            v = bond_vector(lat, bt)
            assert abs(v[0] * direction[1] - v[1] * direction[0]) < 1e-12


def test_kagome_default_orientation():
    assert get_lattice("kagome").options == {"j2_orientation": "a1"}
    assert lattice_option_names("kagome") == ("j2_orientation",)
    assert lattice_option_names("square") == ()


def test_candidate_point_groups():
    sq = get_lattice("square")
    tri = get_lattice("triangular")
    kag = get_lattice("kagome")
    assert len(sq.point_ops) == 8
    assert len(tri.point_ops) == 12 and len(kag.point_ops) == 12
    for lat in (sq, tri, kag):
        assert lat.point_ops[0][0] == "E"
        names = [n for n, _ in lat.point_ops]
        assert len(set(names)) == len(names)
        for _, m in lat.point_ops:
            np.testing.assert_allclose(m @ m.T, np.eye(2), atol=1e-12)
            lm = lat.lattice_matrix(m)
            assert lm is not None  # every candidate maps the Bravais lattice onto itself
            assert abs(round(np.linalg.det(lm))) == 1
    assert [n for n, _ in sq.point_ops] == [
        "E", "C4", "C2", "C4^3", "sigma_0", "sigma_45", "sigma_90", "sigma_135"
    ]
    # a 90 degree rotation is not a symmetry of the hexagonal Bravais lattice
    assert tri.lattice_matrix(rotation(90)) is None


def test_point_op_names():
    assert point_op_name(np.eye(2)) == "E"
    assert point_op_name(rotation(60)) == "C6"
    assert point_op_name(rotation(240)) == "C3^2"
    assert point_op_name(reflection(0)) == "sigma_0"
    np.testing.assert_allclose(reflection(0), [[1, 0], [0, -1]])
    assert point_op_name(reflection(150)) == "sigma_150"


def test_fractional_denominator():
    assert get_lattice("square").fractional_denominator() == 1
    assert get_lattice("kagome").fractional_denominator() == 2


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: get_lattice("honeycomb"), "unknown lattice 'honeycomb'"),
        (lambda: get_lattice("square", j2_orientation="a1"), "has no option 'j2_orientation'"),
        (lambda: get_lattice("kagome", flavour=1), "has no option 'flavour'"),
        (lambda: get_lattice("kagome", j2_orientation="a3"), "bad j2_orientation 'a3'"),
    ],
)
def test_errors(call, fragment):
    with pytest.raises(ClusterError) as info:
        call()
    msg = str(info.value)
    assert fragment in msg
    assert "\n" not in msg
