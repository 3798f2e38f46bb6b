"""Every momentum: the irreducible representations of T ⋊ {E, C2} × Z2 in real arithmetic.

The sector scan of :mod:`nqsgen.symmetry.solve` uses one-dimensional *real* representations
only (k·a ∈ {0, π}).  The completeness scan (:mod:`nqsgen.symmetry.complete`) needs every
momentum, so it works in the smaller group

    G' = T ⋊ {E, C2} × Z2      (translations, the two-fold rotation, spin inversion),

whose irreducible representations are all known in closed form and together span the whole
Sz = 0 sector.

Conventions
-----------
* **Elements** g = T_i ∘ C2^m ∘ Z^z (first spin inversion, then C2, then the translation by
  the cell vector ``translation_vectors[i]``), stored at index ``g = i + n_T (m + 2 z)``; the
  identity is element 0.  ``translation_index[g]``, ``coset[g]`` (= m) and ``inversion[g]``
  (= z) decode it.  C2 inverts translations, C2 T_t C2 = T_−t, and C2² = E (checked).
* **Momenta** f = (k·a1, k·a2)/2π, as exact fractions modulo 1: the |T| solutions of
  L·f ∈ ℤ for both supercell vectors L.  A momentum is *real* when 2f ≡ 0 (k ≡ −k).
* **Characters.**  χ_k(T_t) = exp(−2πi f·t), so a state of the sector obeys
  T_t ψ = exp(+i k·t) ψ (the basis state of an orbit is Σ χ(g)|g·r⟩, see
  :mod:`nqsgen.symmetry.basis`); spin-inversion parity ζ = ±1 on Z.
* **Irreps** (Σ dim² = |G'|, checked):
  - real k: one-dimensional, χ(g) = χ_k(T_i) ε^m ζ^z with the C2 parity ε = ±1 — label
    ``k=(0,1/2) C2+ Z-``;
  - complex pair {k, −k}: two-dimensional, induced from χ_k on A = T × Z2; realised by
    cos/sin combinations, one real multiplicity space per pair — label ``k=+-(1/3,1/2) Z+``.
    ``characters`` then holds χ_k,ζ on the A-part (T_i Z^z) of every element, complex.
  Every level of a two-dimensional irrep is (at least) two-fold degenerate: k and −k.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from nqsgen.errors import ConfigError
from nqsgen.symmetry.group import SymmetryGroup, _translation_generators


@dataclass(frozen=True)
class Irrep:
    """One irreducible representation of G' (see the module docstring)."""

    index: int
    label: str
    momentum: tuple[Fraction, Fraction]  # (k·a1, k·a2)/2π modulo 1
    dimension: int  # 1 or 2
    c2: int | None  # C2 parity of a one-dimensional irrep, None for a pair
    z: int  # spin-inversion parity
    characters: np.ndarray  # (G',) complex128: χ(g) (1D) or χ on the A-part of g (2D)

    @property
    def real(self) -> bool:
        return self.dimension == 1

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label,
                "momentum": [str(f) for f in self.momentum], "irrep_dimension": self.dimension,
                "c2_parity": self.c2, "spin_inversion": self.z}


def _fraction_label(f: tuple[Fraction, Fraction]) -> str:
    return f"({f[0]},{f[1]})"


def _is_real(f) -> bool:
    return all((2 * x) % 1 == 0 for x in f)


def _negate(f):
    return tuple((-x) % 1 for x in f)


class MomentumGroup:
    """G' = T ⋊ {E, C2} × Z2 of a cluster and all its irreps (module docstring).

    Raises ConfigError when the cluster has no C2 operation that inverts its translations.
    """

    def __init__(self, cluster):
        t = np.asarray(cluster.translations, dtype=np.int64)
        n_t, n = t.shape
        c2 = _find_c2(cluster)
        self.n_translations = n_t
        self.vectors = np.asarray(cluster.translation_vectors, dtype=np.int64)
        self.supercell = np.asarray(cluster.supercell, dtype=np.int64)
        perms = np.concatenate([t, t[:, c2], t, t[:, c2]])
        flips = np.repeat([False, True], 2 * n_t)
        generators = _translation_generators(cluster)
        generators.update(C2=n_t, Z=2 * n_t)
        self.group = SymmetryGroup(perms, flips, generators, "momentum")
        idx = np.arange(4 * n_t)
        self.translation_index = idx % n_t
        self.coset = (idx // n_t) % 2
        self.inversion = idx // (2 * n_t)
        self._check(c2, n)

    def __len__(self) -> int:
        return len(self.group)

    def _check(self, c2: np.ndarray, n: int) -> None:
        if not np.array_equal(c2[c2], np.arange(n)):
            raise ConfigError("momentum group: C2 is not an involution")
        t = self.group.perms[: self.n_translations]
        index = {p.tobytes(): k for k, p in enumerate(t)}
        for i in range(self.n_translations):
            conj = c2[t[i][c2]]  # first C2, then T_i, then C2
            j = index.get(conj.tobytes())
            if j is None or not self._same_translation(j, -self.vectors[i]):
                raise ConfigError("momentum group: C2 does not invert the translations")

    def _same_translation(self, j: int, vector) -> bool:
        diff = (self.vectors[j] - vector) @ np.linalg.inv(self.supercell.astype(float))
        return bool(np.all(np.abs(diff - np.round(diff)) < 1e-9))

    # -- momenta and irreps ---------------------------------------------------------------
    @cached_property
    def momenta(self) -> list[tuple[Fraction, Fraction]]:
        """All |T| momenta f = (k·a1, k·a2)/2π (exact fractions in [0, 1)), sorted."""
        (a, b), (c, d) = self.supercell.tolist()
        det = a * d - b * c
        adj = [[d, -b], [-c, a]]  # S^-1 = adj / det; f = S^-1 m
        found = set()
        for m1 in range(abs(det)):
            for m2 in range(abs(det)):
                f = (Fraction(adj[0][0] * m1 + adj[0][1] * m2, det) % 1,
                     Fraction(adj[1][0] * m1 + adj[1][1] * m2, det) % 1)
                found.add(f)
        if len(found) != self.n_translations:
            raise ConfigError("momentum group: internal error enumerating momenta")
        return sorted(found)

    def translation_characters(self, f) -> np.ndarray:
        """χ_k(T_i) = exp(−2πi f·t_i) for every translation (exact ±1 for real momenta)."""
        phase = [(f[0] * int(v[0]) + f[1] * int(v[1])) % 1 for v in self.vectors]
        out = np.exp(-2j * np.pi * np.array([float(p) for p in phase]))
        exact = {Fraction(0): 1.0, Fraction(1, 2): -1.0}
        for i, p in enumerate(phase):
            if p in exact:
                out[i] = exact[p]
        return out

    @cached_property
    def irreps(self) -> tuple[Irrep, ...]:
        """Every irrep: real momenta (C2 ±, Z ±) first, then the complex pairs (Z ±)."""
        real = [f for f in self.momenta if _is_real(f)]
        pairs = [f for f in self.momenta if not _is_real(f) and f < _negate(f)]
        tr, m, z = self.translation_index, self.coset, self.inversion
        out = []
        for f in real:
            chi_t = self.translation_characters(f)
            for c2 in (1, -1):
                for zeta in (1, -1):
                    chars = chi_t[tr] * np.where(m == 1, c2, 1) * np.where(z == 1, zeta, 1)
                    label = f"k={_fraction_label(f)} C2{'+' if c2 > 0 else '-'} " \
                            f"Z{'+' if zeta > 0 else '-'}"
                    out.append(Irrep(len(out), label, f, 1, c2, zeta, chars.astype(complex)))
        for f in pairs:
            chi_t = self.translation_characters(f)
            for zeta in (1, -1):
                chars = chi_t[tr] * np.where(z == 1, zeta, 1)
                label = f"k=+-{_fraction_label(f)} Z{'+' if zeta > 0 else '-'}"
                out.append(Irrep(len(out), label, f, 2, None, zeta, chars.astype(complex)))
        if sum(r.dimension**2 for r in out) != len(self):
            raise ConfigError("momentum group: the irreps do not add up to |G'|")
        return tuple(out)

    def to_dict(self) -> dict:
        return {"kind": "translations x C2 x spin inversion", "order": len(self),
                "generators": self.group.generators, "n_translations": self.n_translations,
                "element_order": "g = i + n_T (m + 2 z): T_i C2^m Z^z"}


def _find_c2(cluster) -> np.ndarray:
    for op in cluster.point_group:
        if np.allclose(op.matrix, -np.eye(2)):
            return np.asarray(op.perm, dtype=np.int64)
    raise ConfigError(f"cluster {cluster.name!r} has no two-fold rotation C2: the completeness "
                      "scan needs one to make complex-momentum sectors real")
