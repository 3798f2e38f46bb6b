"""Finite periodic clusters: a lattice plus two supercell vectors, built generically.

Conventions (read these before using the arrays)
------------------------------------------------
* A cluster is a :class:`~nqsgen.lattices.Lattice` (see that module for the models and bond
  conventions) and two integer supercell vectors L1, L2 in units of (a1, a2), given as the rows
  of ``supercell``.  Cells (i, j) are identified modulo the supercell lattice
  {n1·L1 + n2·L2}; the number of cells is |det(L1, L2)| (a negative determinant is accepted).
* Canonical cell representatives are the integer points whose coordinates in the supercell
  basis lie in [0, 1) (exact integer arithmetic with the adjugate), so the sites fill the
  supercell parallelogram.  Cells are ordered by (j, i) — row by row, bottom to top.
* Site index = cell_index · n_sublattices + sublattice.  ``coordinates`` are cartesian.
* Bonds: one bond per cell and lattice bond type, stored as pairs (a, b) with a < b in int64
  arrays ``j1_bonds``/``j2_bonds`` of shape (M, 2), sorted lexicographically.
  ``j1_displacements[k]`` is the cartesian vector from site a to the periodic image of site b
  that the bond k joins (a bond "wraps" around the torus when it differs from
  coordinates[b] − coordinates[a]).  Validation rejects self-bonds, duplicated bonds, J2 bonds
  coinciding with J1 bonds and wrong coordination; ``bipartite_j1`` records whether the J1 graph
  is bipartite (``j1_colouring`` is then a 0/1 colouring of the sites, else None).
* Permutations: ``perm[i]`` is the IMAGE of site i (the operation moves the spin at site i to
  site perm[i]).  Composition "first h, then g" is ``g[h]``.  ``translations[k]`` translates by
  the cell vector ``translation_vectors[k]`` = (cell k) − (cell 0), i.e. it moves site s of
  cell 0 to site s of cell k (row 0 is the identity);
  a point-group operation x → R·x + τ is stored once per R (modulo translations), identity
  first; the full symmetry group is translations × point group (:meth:`Cluster.symmetry_group`).
* ``fingerprint()``: first 16 hex digits of the sha256 of (n_sites, j1_bonds, j2_bonds), so a
  stored ground state can be checked to belong to this cluster.

The catalogue :data:`CATALOGUE` holds the default clusters; user specs (the config's
``clusters:`` mapping) override or extend it in :func:`get_cluster`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from nqsgen.errors import ClusterError, ConfigError
from nqsgen.lattices import (
    LATTICES,
    Lattice,
    get_lattice,
    lattice_option_names,
)

__all__ = [
    "CATALOGUE",
    "Cluster",
    "PointOp",
    "cluster_from_spec",
    "cluster_names",
    "get_cluster",
]

#: Default clusters: {"lattice": ..., "supercell": [L1, L2] in units of (a1, a2), options...}.
#: Every entry validates and has a bipartite J1 graph (tested).
CATALOGUE: dict[str, dict] = {
    # No 8-site square torus passes validation: every supercell lattice of determinant 8
    # contains a vector of squared length <= 8, i.e. 2·d or d ± d' of bond vectors, which
    # produces duplicated or coinciding J1/J2 bonds (the tilted (2,2),(2,-2) cluster doubles
    # its J2 bonds).  The smallest square cluster is therefore the 10-site one.
    "square_10": {"lattice": "square", "supercell": [[3, 1], [1, -3]]},
    "square_16": {"lattice": "square", "supercell": [[4, 0], [0, 4]]},
    "square_24": {"lattice": "square", "supercell": [[4, 0], [0, 6]]},
    "square_30": {"lattice": "square", "supercell": [[6, 0], [1, 5]]},
    "square_36": {"lattice": "square", "supercell": [[6, 0], [0, 6]]},
    # triangular: supercell in units of (a1, a2) = the underlying square lattice's axes; the J1
    # graph is bipartite iff both supercell vectors have an even i + j.  triangular_12 is the
    # standard sqrt(12) x sqrt(12) cluster (full D6 at J2 = J1; C2 and two mirrors otherwise).
    "triangular_12": {"lattice": "triangular", "supercell": [[2, 2], [-2, 4]]},
    "triangular_16": {"lattice": "triangular", "supercell": [[4, 0], [0, 4]]},
    "triangular_24": {"lattice": "triangular", "supercell": [[6, 0], [0, 4]]},
    "triangular_30": {"lattice": "triangular", "supercell": [[6, 0], [1, 5]]},
    # kagome_24 / kagome_30: the clusters of Läuchli, Sudan & Sørensen, PRB 83, 212401 (2011);
    # they have no three-fold axis, so for J2 != J1 the j2_orientation matters.
    "kagome_12": {"lattice": "kagome", "supercell": [[2, 0], [0, 2]], "j2_orientation": "a1"},
    "kagome_24": {"lattice": "kagome", "supercell": [[1, 2], [-3, 2]], "j2_orientation": "a1"},
    "kagome_30": {"lattice": "kagome", "supercell": [[2, 1], [-2, 4]], "j2_orientation": "a1"},
}


@dataclass(frozen=True, eq=False)
class PointOp:
    """A point-group operation x → R·x + τ of a cluster.

    ``matrix`` is R (cartesian, 2×2 orthogonal), ``lattice_matrix`` the same operation on cell
    coordinates (integer), ``shift`` τ (cartesian) and ``perm[i]`` the image of site i.
    """

    name: str
    matrix: np.ndarray
    lattice_matrix: np.ndarray
    shift: np.ndarray
    perm: np.ndarray


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Cluster:
    """A validated periodic cluster (see the module docstring for all conventions)."""

    name: str
    lattice: Lattice
    supercell: np.ndarray  # (2, 2) int64, rows L1, L2 in units of (a1, a2)
    n_sites: int
    n_cells: int
    coordinates: np.ndarray  # (N, 2) float64, cartesian
    cells: np.ndarray  # (N, 2) int64, cell (i, j) of every site
    sublattice: np.ndarray  # (N,) int64
    j1_bonds: np.ndarray  # (M1, 2) int64, a < b, sorted
    j2_bonds: np.ndarray  # (M2, 2) int64
    j1_displacements: np.ndarray  # (M1, 2) float64, from site a to the bonded image of b
    j2_displacements: np.ndarray
    translations: np.ndarray  # (n_cells, N) int64, row 0 identity
    translation_vectors: np.ndarray  # (n_cells, 2) int64, cell k - cell 0
    point_group: tuple[PointOp, ...]
    bipartite_j1: bool
    j1_colouring: np.ndarray | None  # (N,) int64 of 0/1 when bipartite
    spec: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ convenience
    @property
    def lattice_name(self) -> str:
        return self.lattice.name

    @property
    def lattice_options(self) -> dict:
        return dict(self.lattice.options)

    @property
    def supercell_vectors(self) -> np.ndarray:
        """Cartesian supercell vectors, rows L1, L2."""
        return self.supercell.astype(float) @ self.lattice.vectors

    def coordination(self) -> dict[str, list[int]]:
        """Expected J1/J2 coordination of each sublattice (verified on every site)."""
        exp = self.lattice.expected_coordination()
        return {"J1": exp["J1"].tolist(), "J2": exp["J2"].tolist()}

    def bonds(self, j1: float = 1.0, j2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """All bonds and their couplings: J1 bonds first, then J2 bonds (always, even for
        j2 == 0).  Returns (edges (M, 2) int64, couplings (M,) float64)."""
        edges = np.concatenate([self.j1_bonds, self.j2_bonds]).astype(np.int64)
        couplings = np.concatenate(
            [np.full(len(self.j1_bonds), float(j1)), np.full(len(self.j2_bonds), float(j2))]
        )
        return edges, couplings

    def fingerprint(self) -> str:
        """First 16 hex digits of sha256(n_sites, j1_bonds, j2_bonds)."""
        h = hashlib.sha256()
        h.update(f"nqsgen-cluster|{self.n_sites}|".encode())
        h.update(np.ascontiguousarray(self.j1_bonds, dtype="<i8").tobytes())
        h.update(b"|")
        h.update(np.ascontiguousarray(self.j2_bonds, dtype="<i8").tobytes())
        return h.hexdigest()[:16]

    # ------------------------------------------------------------------ symmetry
    def symmetry_group(self) -> np.ndarray:
        """All permutations translation ∘ point-op, deduplicated, identity first: (|G|, N)."""
        rows = [self.translations[:, op.perm] for op in self.point_group]
        allp = np.concatenate(rows, axis=0)
        _, first = np.unique(allp, axis=0, return_index=True)
        return _readonly(allp[np.sort(first)])

    def check_group(self) -> int:
        """Verify that the symmetry group is a group of bond-preserving permutations.

        Checks: identity first, every row a permutation mapping J1 bonds onto J1 bonds and J2
        bonds onto J2 bonds, and closure under composition (for a finite set of permutations
        closure implies inverses).  Returns the group order; raises ClusterError otherwise.
        """
        g = self.symmetry_group()
        n = self.n_sites
        if not np.array_equal(g[0], np.arange(n)):
            raise ClusterError(f"cluster {self.name!r}: symmetry group does not start with E")
        for perm in g:
            if not (np.bincount(perm, minlength=n) == 1).all():
                raise ClusterError(f"cluster {self.name!r}: symmetry element is no permutation")
            for label, b in (("J1", self.j1_bonds), ("J2", self.j2_bonds)):
                if not _maps_bonds(perm, b, n):
                    raise ClusterError(
                        f"cluster {self.name!r}: symmetry element does not preserve {label} bonds"
                    )
        members = {row.tobytes() for row in g}
        for perm in g:
            products = perm[g]  # row h: first h, then perm
            for row in products:
                if row.tobytes() not in members:
                    raise ClusterError(
                        f"cluster {self.name!r}: symmetry group not closed under composition"
                    )
        return len(g)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """JSON-serialisable description of the cluster."""
        return {
            "name": self.name,
            "lattice": self.lattice.name,
            "lattice_options": dict(self.lattice.options),
            "bravais_vectors": self.lattice.vectors.tolist(),
            "sublattice_positions": self.lattice.sublattice_positions.tolist(),
            "supercell": self.supercell.tolist(),
            "n_sites": int(self.n_sites),
            "n_cells": int(self.n_cells),
            "coordinates": self.coordinates.tolist(),
            "cells": self.cells.tolist(),
            "sublattice": self.sublattice.tolist(),
            "j1_bonds": self.j1_bonds.tolist(),
            "j2_bonds": self.j2_bonds.tolist(),
            "j1_displacements": self.j1_displacements.tolist(),
            "j2_displacements": self.j2_displacements.tolist(),
            "coordination": self.coordination(),
            "bipartite_j1": bool(self.bipartite_j1),
            "j1_colouring": None if self.j1_colouring is None else self.j1_colouring.tolist(),
            "translations": self.translations.tolist(),
            "translation_vectors": self.translation_vectors.tolist(),
            "point_group": [
                {
                    "name": op.name,
                    "matrix": op.matrix.tolist(),
                    "lattice_matrix": op.lattice_matrix.tolist(),
                    "shift": op.shift.tolist(),
                    "perm": op.perm.tolist(),
                }
                for op in self.point_group
            ],
            "symmetry_group_order": int(len(self.symmetry_group())),
            "fingerprint": self.fingerprint(),
        }

    def to_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON atomically (:mod:`nqsgen.publish`)."""
        from nqsgen.publish import write_json

        write_json(path, self.to_dict(), indent=1)


def _maps_bonds(perm: np.ndarray, bonds: np.ndarray, n: int) -> bool:
    """True if ``perm`` maps the (sorted, a < b) bond list onto itself."""
    if len(bonds) == 0:
        return True
    m = perm[bonds]
    codes = np.sort(np.minimum(m[:, 0], m[:, 1]) * n + np.maximum(m[:, 0], m[:, 1]))
    return bool(np.array_equal(codes, bonds[:, 0] * n + bonds[:, 1]))


# ---------------------------------------------------------------------- construction
class _Torus:
    """Cells of Z² modulo the supercell lattice, with exact integer arithmetic."""

    def __init__(self, name: str, supercell: np.ndarray):
        self.rows = supercell  # rows L1, L2
        (l1x, l1y), (l2x, l2y) = supercell.tolist()
        self.det = l1x * l2y - l2x * l1y
        if self.det == 0:
            raise ClusterError(f"cluster {name!r}: zero-area supercell {supercell.tolist()}")
        # fractional coordinates in the supercell basis: adj @ c / det
        self.adj = np.array([[l2y, -l2x], [-l1y, l1x]], dtype=np.int64)
        corners = np.array([[0, 0], [l1x, l1y], [l2x, l2y], [l1x + l2x, l1y + l2y]])
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        ii, jj = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
        grid = np.stack([ii.ravel(), jj.ravel()], axis=1).astype(np.int64)
        red = self.reduce(grid)
        canon = np.unique(red[(red == grid).all(axis=1)], axis=0)
        order = np.lexsort((canon[:, 0], canon[:, 1]))  # by j, then i
        self.cells = canon[order]
        if len(self.cells) != abs(self.det):  # pragma: no cover - arithmetic invariant
            raise ClusterError(f"cluster {name!r}: internal error enumerating cells")
        self.lo = self.cells.min(axis=0)
        span = self.cells.max(axis=0) - self.lo + 1
        self.table = np.full(tuple(span), -1, dtype=np.int64)
        self.table[self.cells[:, 0] - self.lo[0], self.cells[:, 1] - self.lo[1]] = np.arange(
            len(self.cells)
        )

    def reduce(self, cells: np.ndarray) -> np.ndarray:
        n = (cells @ self.adj.T) // self.det  # floor of the supercell coordinates
        return cells - n @ self.rows

    def index(self, cells: np.ndarray) -> np.ndarray:
        red = self.reduce(np.asarray(cells, dtype=np.int64))
        return self.table[red[:, 0] - self.lo[0], red[:, 1] - self.lo[1]]

    def contains(self, vectors: np.ndarray) -> np.ndarray:
        """Whether each integer vector (K, 2) belongs to the supercell lattice."""
        return ((vectors @ self.adj.T) % self.det == 0).all(axis=1)


def _build_bonds(name, lattice, torus, nsub, label):
    pos = lattice.sublattice_positions
    a_list, b_list, d_list = [], [], []
    cell_idx = np.arange(torus.cells.shape[0])
    for bt in lattice.bond_types:
        if bt.coupling != label:
            continue
        a = cell_idx * nsub + bt.sub_from
        b = torus.index(torus.cells + np.array(bt.dcell)) * nsub + bt.sub_to
        disp = np.array(bt.dcell, dtype=float) @ lattice.vectors + pos[bt.sub_to] - pos[bt.sub_from]
        a_list.append(a)
        b_list.append(b)
        d_list.append(np.repeat(disp[None, :], len(a), axis=0))
    if not a_list:
        return np.zeros((0, 2), np.int64), np.zeros((0, 2))
    a, b, d = np.concatenate(a_list), np.concatenate(b_list), np.concatenate(d_list)
    self_bond = a == b
    if self_bond.any():
        site = int(a[self_bond][0])
        raise ClusterError(
            f"cluster {name!r}: self-bond: {label} bond joins site {site} to itself "
            f"(supercell too small)"
        )
    flip = a > b
    d[flip] *= -1.0
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    pairs = np.stack([lo[order], hi[order]], axis=1).astype(np.int64)
    d = d[order]
    dup = (pairs[1:] == pairs[:-1]).all(axis=1)
    if dup.any():
        p = pairs[1:][dup][0]
        raise ClusterError(
            f"cluster {name!r}: duplicated {label} bond ({int(p[0])}, {int(p[1])}) "
            f"(supercell too small)"
        )
    return pairs, d


def _colouring(n: int, bonds: np.ndarray) -> np.ndarray | None:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in bonds.tolist():
        adj[a].append(b)
        adj[b].append(a)
    colour = np.full(n, -1, dtype=np.int64)
    for start in range(n):
        if colour[start] >= 0:
            continue
        colour[start] = 0
        queue = [start]
        while queue:
            nxt = []
            for u in queue:
                for v in adj[u]:
                    if colour[v] < 0:
                        colour[v] = 1 - colour[u]
                        nxt.append(v)
                    elif colour[v] == colour[u]:
                        return None
            queue = nxt
    return colour


def _build(name: str, lattice: Lattice, supercell: np.ndarray, spec: dict) -> Cluster:
    torus = _Torus(name, supercell)
    nsub = lattice.n_sublattices
    n_cells = len(torus.cells)
    n = n_cells * nsub
    cells_site = np.repeat(torus.cells, nsub, axis=0)
    sub = np.tile(np.arange(nsub, dtype=np.int64), n_cells)
    coords = lattice.cartesian(cells_site, sub)

    j1, d1 = _build_bonds(name, lattice, torus, nsub, "J1")
    j2, d2 = _build_bonds(name, lattice, torus, nsub, "J2")
    if len(j1) and len(j2):
        common = np.intersect1d(j1[:, 0] * n + j1[:, 1], j2[:, 0] * n + j2[:, 1])
        if len(common):
            a, b = divmod(int(common[0]), n)
            raise ClusterError(
                f"cluster {name!r}: J2 bonds coincide with J1 bonds (e.g. sites {a} and {b})"
            )
    expected = lattice.expected_coordination()
    for label, bonds in (("J1", j1), ("J2", j2)):
        got = np.bincount(bonds.ravel(), minlength=n)
        want = expected[label][sub]
        bad = np.nonzero(got != want)[0]
        if len(bad):
            i = int(bad[0])
            raise ClusterError(
                f"cluster {name!r}: site {i} has {label} coordination {int(got[i])}, "
                f"expected {int(want[i])}"
            )
    colouring = _colouring(n, j1)

    # translations: perm[i] = site at position(i) + t
    # translation k moves cell 0 onto cell k (so row 0 is the identity and perm_k[0] = k·nsub)
    tvecs = torus.cells - torus.cells[0]
    translations = np.empty((n_cells, n), dtype=np.int64)
    for k, t in enumerate(tvecs):
        translations[k] = torus.index(cells_site + t) * nsub + sub

    point_group = _point_group(name, lattice, torus, cells_site, sub, j1, j2)

    return Cluster(
        name=name,
        lattice=lattice,
        supercell=_readonly(supercell.astype(np.int64)),
        n_sites=int(n),
        n_cells=int(n_cells),
        coordinates=_readonly(coords),
        cells=_readonly(cells_site),
        sublattice=_readonly(sub),
        j1_bonds=_readonly(j1),
        j2_bonds=_readonly(j2),
        j1_displacements=_readonly(d1),
        j2_displacements=_readonly(d2),
        translations=_readonly(translations),
        translation_vectors=_readonly(tvecs),
        point_group=point_group,
        bipartite_j1=colouring is not None,
        j1_colouring=None if colouring is None else _readonly(colouring),
        spec=spec,
    )


def _point_group(name, lattice, torus, cells_site, sub, j1, j2) -> tuple[PointOp, ...]:
    n = len(sub)
    nsub = lattice.n_sublattices
    den = lattice.fractional_denominator()
    fpos = np.round(lattice.fractional_positions() * den).astype(np.int64)  # (nsub, 2)
    x = den * cells_site + fpos[sub]  # integer positions in units of a/den
    residue = {tuple((fpos[s] % den).tolist()): s for s in range(nsub)}
    lookup = np.full(den * den, -1, dtype=np.int64)
    for (r0, r1), s in residue.items():
        lookup[r0 * den + r1] = s
    ops: list[PointOp] = []
    for op_name, rmat in lattice.point_ops:
        m = lattice.lattice_matrix(rmat)
        if m is None:
            continue
        # the operation must map the supercell lattice onto itself
        if not torus.contains((m @ torus.rows.T).T).all():
            continue
        for s in range(nsub):
            tau = fpos[s] - m @ fpos[0]
            y = x @ m.T + tau
            r = y % den
            s_img = lookup[r[:, 0] * den + r[:, 1]]
            if (s_img < 0).any():
                continue
            c_img = (y - fpos[s_img]) // den
            perm = torus.index(c_img) * nsub + s_img
            if not (np.bincount(perm, minlength=n) == 1).all():
                continue
            if not (_maps_bonds(perm, j1, n) and _maps_bonds(perm, j2, n)):
                continue
            shift = (tau / den) @ lattice.vectors
            ops.append(
                PointOp(
                    name=op_name,
                    matrix=_readonly(np.array(rmat, dtype=float)),
                    lattice_matrix=_readonly(m),
                    shift=_readonly(shift),
                    perm=_readonly(perm.astype(np.int64)),
                )
            )
            break
    if not ops or ops[0].name != "E":  # pragma: no cover - identity always maps
        raise ClusterError(f"cluster {name!r}: internal error: identity not in point group")
    return tuple(ops)


# ---------------------------------------------------------------------- specs
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _normalise_spec(name, spec) -> tuple[str, tuple[tuple[int, int], tuple[int, int]], dict]:
    if not isinstance(name, str) or not name:
        raise ClusterError(f"cluster name must be a non-empty string, got {name!r}")
    if not isinstance(spec, Mapping):
        raise ClusterError(
            f"cluster {name!r}: spec must be a mapping with keys lattice, supercell "
            f"(got {type(spec).__name__})"
        )
    if "lattice" not in spec:
        raise ClusterError(f"cluster {name!r}: missing key 'lattice'")
    lat = spec["lattice"]
    if not isinstance(lat, str) or lat not in LATTICES:
        raise ClusterError(
            f"cluster {name!r}: unknown lattice {lat!r} (known: {', '.join(LATTICES)})"
        )
    option_names = lattice_option_names(lat)
    allowed = ("lattice", "supercell", *option_names)
    for key in spec:
        if key not in allowed:
            raise ClusterError(
                f"cluster {name!r}: unknown key {key!r} for lattice {lat!r} "
                f"(allowed: {', '.join(allowed)})"
            )
    if "supercell" not in spec:
        raise ClusterError(f"cluster {name!r}: missing key 'supercell'")
    sc = spec["supercell"]
    ok = (
        isinstance(sc, (list, tuple, np.ndarray))
        and len(sc) == 2
        and all(isinstance(v, (list, tuple, np.ndarray)) and len(v) == 2 for v in sc)
        and all(_is_int(x) for v in sc for x in v)
    )
    if not ok:
        raise ClusterError(
            f"cluster {name!r}: key 'supercell' must be two pairs of integers "
            f"[[L1_1, L1_2], [L2_1, L2_2]], got {_short(sc)}"
        )
    supercell = tuple(tuple(int(x) for x in v) for v in sc)
    options = {k: spec[k] for k in option_names if k in spec}
    return lat, supercell, options


def _short(value) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def cluster_from_spec(name: str, spec: Mapping) -> Cluster:
    """Build and validate cluster ``name`` from a spec {"lattice", "supercell", options...}.

    Raises :class:`ClusterError` (one line naming the cluster and the problem) for an invalid
    spec or cluster.  Built clusters are cached (their arrays are read-only).
    """
    lat, supercell, options = _normalise_spec(name, spec)
    key = json.dumps({"lattice": lat, "supercell": supercell, "options": options},
                     sort_keys=True)
    return _build_cached(name, key)


@functools.lru_cache(maxsize=64)
def _build_cached(name: str, key: str) -> Cluster:
    spec = json.loads(key)
    try:
        lattice = get_lattice(spec["lattice"], **spec["options"])
    except ClusterError as exc:
        raise ClusterError(f"cluster {name!r}: {exc}") from None
    supercell = np.array(spec["supercell"], dtype=np.int64)
    full_spec = {"lattice": spec["lattice"], "supercell": supercell.tolist(), **lattice.options}
    return _build(name, lattice, supercell, full_spec)


def cluster_names(user_specs: Mapping | None = None) -> list[str]:
    """Names of the catalogue clusters plus those of ``user_specs``, sorted."""
    _check_user_specs(user_specs)
    return sorted(set(CATALOGUE) | set(user_specs or {}))


def _check_user_specs(user_specs) -> None:
    if user_specs is not None and not isinstance(user_specs, Mapping):
        raise ConfigError(
            "config key 'clusters' must be a mapping of cluster names to specs "
            f"(got {type(user_specs).__name__})"
        )


def get_cluster(name: str, user_specs: Mapping | None = None) -> Cluster:
    """Cluster ``name`` from ``user_specs`` (the config's ``clusters:`` mapping), which override
    and extend :data:`CATALOGUE`.  Unknown names raise ClusterError listing the known ones."""
    _check_user_specs(user_specs)
    if user_specs and name in user_specs:
        return cluster_from_spec(name, user_specs[name])
    if name in CATALOGUE:
        return cluster_from_spec(name, CATALOGUE[name])
    known = ", ".join(cluster_names(user_specs))
    raise ClusterError(f"unknown cluster {name!r} (known: {known})")
