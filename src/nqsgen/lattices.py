"""Infinite lattices of the three Heisenberg models of Westerhout et al. (2020).

A :class:`Lattice` is pure data: Bravais vectors, the cartesian positions of the sites of one
unit cell (sublattices), the bond types (which sublattice couples to which, in which cell, with
which coupling) and the candidate point-group matrices.  Finite periodic clusters are built from
it generically in :mod:`nqsgen.clusters`; no bond list is ever written by hand.

Physics conventions
-------------------
Every model is H = J1 Σ_{J1 bonds} σ_a·σ_b + J2 Σ_{J2 bonds} σ_a·σ_b with Pauli matrices
(H = 4 Σ J S_a·S_b).  J1 = 1 and J2 = 0 is unfrustrated: the J1 bonds of every lattice form a
bipartite graph on the infinite lattice (and on every default cluster).

A site is at  R + p_s  with  R = i·a1 + j·a2  (cell (i, j) ∈ Z²) and p_s the position of
sublattice s.  A bond type (s_from, s_to, (di, dj), coupling) joins site (R, s_from) with site
(R + di·a1 + dj·a2, s_to).

``square``
    a1 = (1, 0), a2 = (0, 1), one site per cell.  J1: nearest neighbours, dcell (1, 0), (0, 1);
    J2: both diagonals, dcell (1, 1), (1, -1).  Coordination J1: 4, J2: 4.

``triangular`` (spatially anisotropic)
    Topologically a square lattice with one diagonal, drawn as a triangular lattice:
    a1 = (1, 0), a2 = (1/2, √3/2), one site per cell.  J1 on the bonds along a1 and a2 (the bonds
    of the underlying square lattice), J2 on the third direction a2 − a1 (dcell (-1, 1)).
    J2 = J1 is the isotropic triangular lattice.  Coordination J1: 4, J2: 2.

``kagome`` (spatially anisotropic)
    a1 = (1, 0), a2 = (1/2, √3/2), three sites per cell: A (0) at 0, B (1) at a1/2, C (2) at
    a2/2.  Bonds come in three orientations:

    * ``"a1"``:    A–B inside the cell and B(R)–A(R + a1);
    * ``"a2"``:    A–C inside the cell and C(R)–A(R + a2);
    * ``"a2-a1"``: B–C inside the cell and B(R)–C(R + a1 − a2).

    J2 sits on all bonds of ONE orientation (lattice option ``j2_orientation``, default
    ``"a1"``), J1 on the other two.  J2 = J1 is the isotropic kagome lattice.  The J1 graph is
    bipartite by sublattice: the sublattice not touched by the J2 orientation against the other
    two.  Coordination: the two sublattices on J2 bonds have J1: 2, J2: 2; the third has J1: 4,
    J2: 0.

Point groups
------------
Each lattice lists candidate orthogonal 2×2 matrices (cartesian): the 8 elements of D4 for the
square lattice, the 12 elements of D6 for the triangular and kagome lattices (both are drawn
hexagonally).  The clusters module keeps only those operations that map the sites, the J1 bonds
and the J2 bonds of a given cluster onto themselves (anisotropy and supercell shape remove most).
Names: ``E``; rotations ``Cn`` / ``Cn^k`` (counter-clockwise by k·360°/n); reflections
``sigma_<phi>``, the mirror line making the angle phi (degrees, 0 <= phi < 180) with the x axis
(``sigma_0`` maps (x, y) to (x, -y)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nqsgen.errors import ClusterError

__all__ = [
    "BondType",
    "Lattice",
    "LATTICES",
    "KAGOME_ORIENTATIONS",
    "get_lattice",
    "lattice_option_names",
    "rotation",
    "reflection",
    "point_op_name",
]

#: the three bond orientations of the kagome lattice (values of ``j2_orientation``)
KAGOME_ORIENTATIONS = ("a1", "a2", "a2-a1")

#: names of the lattices :func:`get_lattice` knows
LATTICES = ("square", "triangular", "kagome")


@dataclass(frozen=True)
class BondType:
    """Bond from site (R, ``sub_from``) to site (R + dcell[0]·a1 + dcell[1]·a2, ``sub_to``)."""

    sub_from: int
    sub_to: int
    dcell: tuple[int, int]
    coupling: str  # "J1" or "J2"
    orientation: str = ""  # kagome: "a1" | "a2" | "a2-a1"; informative label otherwise


@dataclass(frozen=True, eq=False)
class Lattice:
    """An infinite lattice with J1/J2 bond types (see the module docstring for conventions).

    Attributes
    ----------
    name : lattice name ("square", "triangular", "kagome")
    vectors : (2, 2) float array, rows a1 and a2 (cartesian)
    sublattice_positions : (n_sub, 2) float array, cartesian positions p_s inside cell 0
    sublattice_names : names of the sublattices (e.g. "A", "B", "C")
    bond_types : tuple of :class:`BondType`
    options : lattice options with defaults filled in (kagome: ``j2_orientation``)
    point_ops : candidate point-group operations, tuples (name, (2, 2) orthogonal matrix), E first
    """

    name: str
    vectors: np.ndarray
    sublattice_positions: np.ndarray
    sublattice_names: tuple[str, ...]
    bond_types: tuple[BondType, ...]
    options: dict = field(default_factory=dict)
    point_ops: tuple[tuple[str, np.ndarray], ...] = ()

    @property
    def n_sublattices(self) -> int:
        return len(self.sublattice_positions)

    @property
    def a1(self) -> np.ndarray:
        return self.vectors[0]

    @property
    def a2(self) -> np.ndarray:
        return self.vectors[1]

    def expected_coordination(self) -> dict[str, np.ndarray]:
        """Number of J1 and J2 bonds at a site of each sublattice: {"J1": (n_sub,), "J2": ...}."""
        out = {"J1": np.zeros(self.n_sublattices, np.int64),
               "J2": np.zeros(self.n_sublattices, np.int64)}
        for bt in self.bond_types:
            out[bt.coupling][bt.sub_from] += 1
            out[bt.coupling][bt.sub_to] += 1
        return out

    def fractional_denominator(self) -> int:
        """Smallest D such that D times the fractional sublattice coordinates are integers."""
        frac = self.fractional_positions()
        for d in range(1, 25):
            if np.allclose(frac * d, np.round(frac * d), atol=1e-9):
                return d
        raise ClusterError(f"lattice {self.name!r}: sublattice positions are not rational")

    def fractional_positions(self) -> np.ndarray:
        """Sublattice positions in units of (a1, a2): p_s = f_s[0]·a1 + f_s[1]·a2."""
        return np.linalg.solve(self.vectors.T, self.sublattice_positions.T).T

    def lattice_matrix(self, matrix: np.ndarray) -> np.ndarray | None:
        """Integer matrix M of a cartesian operation R in lattice coordinates (None if R does not
        map the Bravais lattice onto itself): R (i a1 + j a2) = (M (i, j))·(a1, a2)."""
        basis = self.vectors.T  # columns a1, a2
        m = np.linalg.solve(basis, matrix @ basis)
        mi = np.round(m)
        if not np.allclose(m, mi, atol=1e-9):
            return None
        return mi.astype(np.int64)

    def cartesian(self, cells: np.ndarray, sublattice: np.ndarray) -> np.ndarray:
        """Cartesian positions of sites given their cells (K, 2) and sublattices (K,)."""
        cells = np.asarray(cells, dtype=float)
        return cells @ self.vectors + self.sublattice_positions[np.asarray(sublattice)]


def rotation(degrees: float) -> np.ndarray:
    """Counter-clockwise rotation matrix."""
    t = math.radians(degrees)
    return _clean(np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]))


def reflection(axis_degrees: float) -> np.ndarray:
    """Reflection across the line through 0 at ``axis_degrees`` to the x axis."""
    t = math.radians(2 * axis_degrees)
    return _clean(np.array([[math.cos(t), math.sin(t)], [math.sin(t), -math.cos(t)]]))


def _clean(m: np.ndarray) -> np.ndarray:
    m = m.copy()
    m[np.abs(m) < 1e-12] = 0.0
    return m


def point_op_name(matrix: np.ndarray) -> str:
    """Name of an orthogonal 2×2 matrix (``E``, ``C4``, ``C4^3``, ``sigma_45``, ...)."""
    m = np.asarray(matrix, dtype=float)
    det = float(np.linalg.det(m))
    if det > 0:
        angle = round(math.degrees(math.atan2(m[1, 0], m[0, 0]))) % 360
        if angle == 0:
            return "E"
        g = math.gcd(angle, 360)
        n = 360 // g
        k = angle // g
        return f"C{n}" if k == 1 else f"C{n}^{k}"
    phi = round(math.degrees(math.atan2(m[1, 0], m[0, 0])) / 2) % 180
    return f"sigma_{phi}"


def _group(rot_step: int, refl_step: int) -> tuple[tuple[str, np.ndarray], ...]:
    ops = [rotation(a) for a in range(0, 360, rot_step)]
    ops += [reflection(a) for a in range(0, 180, refl_step)]
    return tuple((point_op_name(m), m) for m in ops)


D4 = _group(90, 45)
D6 = _group(60, 30)

_HEX = np.array([[1.0, 0.0], [0.5, math.sqrt(3.0) / 2.0]])


def _square() -> Lattice:
    return Lattice(
        name="square",
        vectors=np.eye(2),
        sublattice_positions=np.zeros((1, 2)),
        sublattice_names=("A",),
        bond_types=(
            BondType(0, 0, (1, 0), "J1", "x"),
            BondType(0, 0, (0, 1), "J1", "y"),
            BondType(0, 0, (1, 1), "J2", "x+y"),
            BondType(0, 0, (1, -1), "J2", "x-y"),
        ),
        options={},
        point_ops=D4,
    )


def _triangular() -> Lattice:
    return Lattice(
        name="triangular",
        vectors=_HEX.copy(),
        sublattice_positions=np.zeros((1, 2)),
        sublattice_names=("A",),
        bond_types=(
            BondType(0, 0, (1, 0), "J1", "a1"),
            BondType(0, 0, (0, 1), "J1", "a2"),
            BondType(0, 0, (-1, 1), "J2", "a2-a1"),
        ),
        options={},
        point_ops=D6,
    )


def _kagome(j2_orientation: str = "a1") -> Lattice:
    if j2_orientation not in KAGOME_ORIENTATIONS:
        raise ClusterError(
            f"lattice 'kagome': bad j2_orientation {j2_orientation!r} "
            f"(allowed: {', '.join(KAGOME_ORIENTATIONS)})"
        )
    # (sub_from, sub_to, dcell, orientation) of the six bonds per cell
    raw = (
        (0, 1, (0, 0), "a1"),
        (1, 0, (1, 0), "a1"),
        (0, 2, (0, 0), "a2"),
        (2, 0, (0, 1), "a2"),
        (1, 2, (0, 0), "a2-a1"),
        (1, 2, (1, -1), "a2-a1"),
    )
    bonds = tuple(
        BondType(f, t, d, "J2" if o == j2_orientation else "J1", o) for f, t, d, o in raw
    )
    return Lattice(
        name="kagome",
        vectors=_HEX.copy(),
        sublattice_positions=np.array([[0.0, 0.0], _HEX[0] / 2, _HEX[1] / 2]),
        sublattice_names=("A", "B", "C"),
        bond_types=bonds,
        options={"j2_orientation": j2_orientation},
        point_ops=D6,
    )


_BUILDERS = {"square": (_square, ()), "triangular": (_triangular, ()),
             "kagome": (_kagome, ("j2_orientation",))}


def lattice_option_names(name: str) -> tuple[str, ...]:
    """Names of the options lattice ``name`` accepts (ClusterError if the lattice is unknown)."""
    if name not in _BUILDERS:
        raise ClusterError(f"unknown lattice {name!r} (known: {', '.join(LATTICES)})")
    return _BUILDERS[name][1]


def get_lattice(name: str, **options) -> Lattice:
    """The lattice ``name`` with ``options`` (kagome: ``j2_orientation`` in {"a1","a2","a2-a1"}).

    Raises :class:`ClusterError` for an unknown lattice or option.
    """
    allowed = lattice_option_names(name)
    for key in options:
        if key not in allowed:
            extra = f" (allowed: {', '.join(allowed)})" if allowed else " (it takes no options)"
            raise ClusterError(f"lattice {name!r} has no option {key!r}{extra}")
    return _BUILDERS[name][0](**options)
