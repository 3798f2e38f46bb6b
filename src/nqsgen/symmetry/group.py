"""Symmetry groups of a cluster and their one-dimensional real representations (sectors).

Conventions
-----------
* A group element is a site permutation ``perm`` (spin on site i moves to site ``perm[i]``, so
  bit i of a basis state moves to bit ``perm[i]``) optionally followed by **spin inversion**
  (every spin flipped: XOR with the N-bit all-ones word).  The product "first h, then g" is
  ``perm = g.perm[h.perm]``, ``flip = g.flip xor h.flip`` (inversion commutes with
  permutations).
* ``symmetries``: ``none`` (the trivial group), ``translations`` (the cluster's translations
  only) or ``full`` (translations ∘ point group — the cluster's space group — times spin
  inversion, which maps the Sz = 0 sector onto itself).
* A **sector** is a one-dimensional representation χ: G → {+1, −1} (a homomorphism).  Only
  real characters are used, so the symmetric Hamiltonian and its eigenvectors stay real: in
  momentum language k·a ∈ {0, π} for every lattice vector a; point-group and spin-inversion
  parities ±1.  Sectors of higher-dimensional or complex representations are not scanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import product

import numpy as np

from nqsgen.errors import ConfigError
from nqsgen.symmetry.permutations import group_masks

SYMMETRIES = ("none", "translations", "full")


@dataclass(frozen=True)
class Sector:
    """A one-dimensional real representation of a :class:`SymmetryGroup`.

    ``characters[g]`` = χ(g) ∈ {+1, −1} for every element, in the group's element order;
    ``generator_characters`` = χ on the group's named generators (the label).
    """

    index: int
    characters: np.ndarray  # (G,) int8
    generator_characters: tuple[int, ...]
    label: str

    @property
    def trivial(self) -> bool:
        return bool((self.characters == 1).all())

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label,
                "generator_characters": list(self.generator_characters)}


class SymmetryGroup:
    """A group of site permutations, optionally with spin inversion, acting on N ≤ 64 spins.

    Parameters
    ----------
    perms:
        ``(G, N)`` integer permutations, the identity first, closed under composition.
    flips:
        ``(G,)`` booleans: element g also inverts every spin.
    generators:
        ``{name: element index}`` used to label sectors (χ on these determines χ on G).
    kind:
        ``none``, ``translations`` or ``full`` (recorded in the metadata).
    """

    def __init__(self, perms, flips, generators: dict[str, int], kind: str):
        self.perms = np.ascontiguousarray(perms, dtype=np.int64)
        self.flips = np.ascontiguousarray(flips, dtype=bool)
        self.n_sites = int(self.perms.shape[1])
        self.generators = dict(generators)
        self.kind = kind
        if not np.array_equal(self.perms[0], np.arange(self.n_sites)) or self.flips[0]:
            raise ConfigError("symmetry group: the first element must be the identity")

    def __len__(self) -> int:
        return int(self.perms.shape[0])

    @property
    def order(self) -> int:
        return len(self)

    @property
    def has_spin_inversion(self) -> bool:
        return bool(self.flips.any())

    @cached_property
    def masks(self) -> np.ndarray:
        """Stage-major Beneš masks ``(11, G)`` (see :mod:`nqsgen.symmetry.permutations`)."""
        return group_masks(self.perms)

    @cached_property
    def flip_words(self) -> np.ndarray:
        """``(G,)`` uint64 XOR word of each element: all N bits for inversions, else 0."""
        full = np.uint64((1 << self.n_sites) - 1) if self.n_sites < 64 else ~np.uint64(0)
        return np.where(self.flips, full, np.uint64(0)).astype(np.uint64)

    @cached_property
    def inversion_word(self) -> np.uint64:
        """The all-ones N-bit word when the elements are laid out as (S, S·Z) — the spatial
        elements, then the same permutations with spin inversion, as :func:`cluster_group`
        builds ``full`` — else 0.  Kernels then permute a state once per spatial element and
        get the inverted image by one XOR (half the permutations)."""
        half = len(self) // 2
        paired = (len(self) % 2 == 0 and half > 0
                  and np.array_equal(self.perms[:half], self.perms[half:])
                  and not self.flips[:half].any() and self.flips[half:].all())
        return self.flip_words[half] if paired else np.uint64(0)

    @property
    def image_count(self) -> int:
        """How many permuted images a kernel computes per state (see :attr:`inversion_word`)."""
        return len(self) // 2 if self.inversion_word else len(self)

    # -- group structure ---------------------------------------------------------------
    def _key(self, perm, flip) -> bytes:
        return perm.astype(np.int64).tobytes() + (b"1" if flip else b"0")

    @cached_property
    def _lookup(self) -> dict[bytes, int]:
        return {self._key(p, f): g for g, (p, f) in enumerate(zip(self.perms, self.flips,
                                                                    strict=True))}

    def compose(self, g: int, h: int) -> int:
        """Index of the element "first h, then g"."""
        return self._lookup[self._key(self.perms[g][self.perms[h]], self.flips[g] ^ self.flips[h])]

    def check_closed(self) -> None:
        """Raise ConfigError unless the elements are distinct and closed under composition."""
        if len(self._lookup) != len(self):
            raise ConfigError("symmetry group: repeated elements")
        for g in range(len(self)):
            for h in range(len(self)):
                key = self._key(self.perms[g][self.perms[h]], self.flips[g] ^ self.flips[h])
                if key not in self._lookup:
                    raise ConfigError("symmetry group: not closed under composition")

    @cached_property
    def _multiplication(self) -> np.ndarray:
        """``table[s, g]`` = index of "first g, then generator s" for every generator s."""
        gens = list(self.generators.values())
        return np.array([[self.compose(s, g) for g in range(len(self))] for s in gens])

    # -- representations ---------------------------------------------------------------
    @cached_property
    def sectors(self) -> tuple[Sector, ...]:
        """Every one-dimensional real representation, the trivial one first."""
        names = list(self.generators)
        table = self._multiplication
        found = []
        for signs in product((1, -1), repeat=len(names)):
            chars = _extend_characters(table, signs, len(self))
            if chars is not None:
                found.append((signs, chars))
        found.sort(key=lambda item: tuple(-s for s in item[0]))  # all +1 first
        return tuple(Sector(k, chars, tuple(int(s) for s in signs), _label(names, signs))
                     for k, (signs, chars) in enumerate(found))

    def sector(self, spec: str | int) -> Sector:
        """A sector by index or by label (``trivial`` = all characters +1)."""
        for s in self.sectors:
            if spec == s.index or spec == s.label or (spec == "trivial" and s.trivial):
                return s
        raise ConfigError(f"symmetry sector {spec!r} does not exist; sectors are "
                          + ", ".join(s.label for s in self.sectors))  # labels have no commas

    def to_dict(self) -> dict:
        """JSON-serialisable: kind, order, permutations, inversion flags, generators."""
        return {"kind": self.kind, "order": len(self), "n_sites": self.n_sites,
                "permutations": self.perms.tolist(), "spin_inversion": self.flips.tolist(),
                "generators": self.generators}

    @classmethod
    def from_dict(cls, d: dict) -> SymmetryGroup:
        return cls(np.array(d["permutations"]), np.array(d["spin_inversion"]),
                   d["generators"], d["kind"])


def _extend_characters(table: np.ndarray, signs, order: int) -> np.ndarray | None:
    """χ on all elements from χ on the generators (breadth-first), or None if inconsistent."""
    chars = np.zeros(order, dtype=np.int8)
    chars[0] = 1
    frontier = [0]
    while frontier:
        nxt = []
        for g in frontier:
            for s, sign in enumerate(signs):
                h = table[s, g]
                value = chars[g] * sign
                if chars[h] == 0:
                    chars[h] = value
                    nxt.append(h)
                elif chars[h] != value:
                    return None
        frontier = nxt
    if (chars == 0).any():
        raise ConfigError("symmetry group: the generators do not generate the group")
    return chars


def _label(names, signs) -> str:
    if not names:
        return "trivial"
    return "".join(f"{n}{'+' if s > 0 else '-'}" for n, s in zip(names, signs, strict=True))


# --------------------------------------------------------------------------- from clusters
def cluster_group(cluster, symmetries: str) -> SymmetryGroup:
    """The symmetry group ``symmetries`` (``none``/``translations``/``full``) of ``cluster``."""
    if symmetries not in SYMMETRIES:
        raise ConfigError(f"symmetries must be one of {', '.join(SYMMETRIES)}, "
                          f"got {symmetries!r}")
    n = cluster.n_sites
    if symmetries == "none":
        return SymmetryGroup(np.arange(n)[None, :], [False], {}, "none")
    translations = np.asarray(cluster.translations)
    generators = _translation_generators(cluster)
    if symmetries == "translations":
        return SymmetryGroup(translations, np.zeros(len(translations), bool), generators,
                             "translations")
    spatial = np.asarray(cluster.symmetry_group())
    perms = np.concatenate([spatial, spatial])
    flips = np.concatenate([np.zeros(len(spatial), bool), np.ones(len(spatial), bool)])
    index = {p.tobytes(): k for k, p in enumerate(spatial)}
    for op in cluster.point_group:
        if op.name != "E":
            generators[op.name] = index[np.asarray(op.perm, dtype=np.int64).tobytes()]
    generators["Z"] = len(spatial)  # spin inversion alone
    group = SymmetryGroup(perms, flips, _minimal_generators(perms, flips, generators), "full")
    return group


def _translation_generators(cluster) -> dict[str, int]:
    """The translations by the Bravais vectors a1 and a2 (as element indices)."""
    vectors = np.asarray(cluster.translation_vectors)
    inverse = np.linalg.inv(np.asarray(cluster.supercell, dtype=float).T)
    found = {}
    for name, step in (("T1", (1, 0)), ("T2", (0, 1))):
        diff = (vectors - np.array(step)) @ inverse.T  # supercell coordinates of the difference
        match = np.flatnonzero(np.all(np.abs(diff - np.round(diff)) < 1e-9, axis=1))
        if len(match) and match[0] != 0:
            found[name] = int(match[0])
    return found


def _minimal_generators(perms, flips, generators: dict[str, int]) -> dict[str, int]:
    """Drop named generators that the earlier ones already generate (keeps labels short)."""
    group = SymmetryGroup(perms, flips, generators, "tmp")
    kept: dict[str, int] = {}
    reached = {0}
    for name, g in generators.items():
        if g in reached:
            continue
        kept[name] = g
        reached = _closure(group, list(kept.values()))
    if len(reached) != len(group):
        raise ConfigError("symmetry group: translations, point group and inversion do not "
                          "generate the whole group")
    return kept


def _closure(group: SymmetryGroup, gens: list[int]) -> set[int]:
    reached, frontier = {0}, [0]
    while frontier:
        nxt = []
        for g in frontier:
            for s in gens:
                h = group.compose(s, g)
                if h not in reached:
                    reached.add(h)
                    nxt.append(h)
        frontier = nxt
    return reached
