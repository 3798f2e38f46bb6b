"""H in one irrep sector of G' as a matrix-free real symmetric operator on the orbit graph.

Notation: A = T × Z2 (index-2 subgroup of G' = A ⋊ {E, C2}), χ a character of A (complex for
a complex momentum), P_χ its projector, p = C2, Θ = p∘K (K: complex conjugation in the σᶻ
basis; H is real, so Θ commutes with H, and Θ P_χ Θ⁻¹ = P_χ because p maps k to −k).

Basis of a sector (real coefficients x, σ units, full-basis amplitudes ψ_x(s) = Σ_b x_b b(s)):

* **one-dimensional irrep** χ of G' (real momentum, C2 and Z parities): one vector per
  compatible orbit, b = |O|^(-1/2) Σ_g χ(g)|g·R⟩ — the basis of :mod:`nqsgen.symmetry.basis`;
* **two-dimensional irrep** (pair k, −k): e1 = |O_A|^(-1/2) Σ_{s ∈ A·R} χ(a_s)|s⟩ on the
  A-orbit of R (a_s·R = s), compatible iff χ = 1 on Stab_A(R); the Θ-invariant (hence
  real-matrix) combinations are
    - R's G'-orbit is two A-orbits (no stabiliser element in the coset A·p):
      u = (e1 + Θe1)/√2 and v = i(e1 − Θe1)/√2 — two basis vectors;
    - one A-orbit (p·R = c⁻¹·R for a stabiliser element c∘p): Θe1 = χ(c) e1, and
      b = q e1 with q = exp(i arg χ(c)/2) — one basis vector.
  One real vector of this basis stands for the pair (k, −k): each eigenvalue of the sector
  matrix is a two-fold degenerate level of H.

Matrix elements: for b of orbit R, H e1 = √|O_A| P_χ H|R⟩ and ⟨b'|P_χ|t⟩ = conj(b'(t)), so

    (Mx)_b = Σ_{b'} x_b' ⟨b'|H b⟩,  ⟨b'|H e1⟩ = √|O_A(R)| Σ_t h_t conj(b'(t)),

over R's connected states t (graph entries), with (M x)_u = √2 Re(·), (M x)_v = −√2 Im(·),
(M x)_b = Re(q ·).  For an entry g·t = R'' (g = a or a∘p, a ∈ A), the amplitude at t of
R'''s vectors is χ(a)*/√|O_A| (e1, g = a), χ(a)/√|O_A| (Θe1, g = a∘p), and, for a single
vector, q''·χ(a)* (g = a) and q''*·χ(a) (g = a∘p), times 1/√|O_A|.  The diagonal
contributes d_R x_b.
"""

from __future__ import annotations

import numba
import numpy as np

from nqsgen.symmetry.graph import OrbitGraph
from nqsgen.symmetry.momentum import Irrep

CHAR_TOL = 1e-9  # |χ(s) − 1| below this counts as χ(s) = 1


@numba.njit(cache=True, inline="always")
def _row(i, graph, sector, two_d, x, y, y_lo):
    """Row(s) of orbit ``row_lo + i``: y[pos − y_lo] = (M x)[pos] (see the module docstring).

    Per graph entry: the target's stabiliser class ``tcls`` (stored with the graph) and its
    sector position ``pcol`` (per sector), so that x is the only random memory access.
    """
    row_lo, indptr, tcls, elems, classes, diag, orbit_class = graph
    hoff, hdiag, pcol, pos, mult_c, norm_c, q_re_c, q_im_c, sign, chi_re, chi_im = sector
    c_r = orbit_class[row_lo + i]
    m_r = mult_c[c_r]
    if m_r == 0:
        return
    sre = 0.0
    sim = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        h = hoff[classes[e]]
        cc = tcls[e]
        mc = mult_c[cc]
        if h == 0.0 or mc == 0:
            continue
        p = pcol[e]
        g = elems[e]
        kr = chi_re[g]
        ki = chi_im[g]
        w = h * norm_c[cc]
        if not two_d:
            sre += w * kr * x[p]
        elif mc == 2:  # conj(ψ_x(t)) = χ(a)(x_u − i x_v)/√2 (g = a), conjugated for g = a∘p
            xu = x[p]
            xv = x[p + 1]
            w *= 0.7071067811865476
            sre += w * (kr * xu + ki * xv)
            sim += sign[g] * w * (ki * xu - kr * xv)
        else:  # conj(ψ_x(t)) = q* χ(a) x (g = a), conjugated for g = a∘p
            qr = q_re_c[cc]
            qi = q_im_c[cc]
            sre += w * (qr * kr + qi * ki) * x[p]
            sim += sign[g] * w * (qr * ki - qi * kr) * x[p]
    d = hdiag[0] * diag[i, 0] + hdiag[1] * diag[i, 1]
    pos_r = pos[row_lo + i]
    k = pos_r - y_lo
    scale = 1.0 / norm_c[c_r]
    if not two_d:
        y[k] = d * x[pos_r] + scale * sre
    elif m_r == 2:
        y[k] = d * x[pos_r] + 1.4142135623730951 * scale * sre
        y[k + 1] = d * x[pos_r + 1] - 1.4142135623730951 * scale * sim
    else:
        y[k] = d * x[pos_r] + scale * (q_re_c[c_r] * sre - q_im_c[c_r] * sim)


@numba.njit(cache=True, parallel=True)
def _entry_positions(cols, pos, out):
    for e in numba.prange(cols.shape[0]):
        out[e] = pos[cols[e]]


@numba.njit(cache=True, parallel=True)
def _apply(graph, sector, two_d, x, y, y_lo):
    """y (this rank's rows, first global row y_lo) = M x (x: the whole sector vector)."""
    for i in numba.prange(graph[1].shape[0] - 1):
        _row(i, graph, sector, two_d, x, y, y_lo)


@numba.njit(cache=True)
def _dense(graph, sector, two_d, n, y_lo, out):
    """``out[:, j]`` = this rank's rows of M e_j for every j (serial: small sectors only)."""
    x = np.zeros(n)
    column = np.empty(out.shape[0])
    for j in range(n):
        x[j] = 1.0
        for i in range(graph[1].shape[0] - 1):
            _row(i, graph, sector, two_d, x, column, y_lo)
        out[:, j] = column
        x[j] = 0.0


def class_tables(graph: OrbitGraph, irrep: Irrep):
    """Per stabiliser class: multiplicity (0, 1, 2), 1/√(orbit size), phase q (see module)."""
    n_a = len(graph.group) // 2  # |A|
    coset = graph.momentum.coset
    chars = irrep.characters
    n = len(graph.stabilisers)
    mult, norm = np.zeros(n, np.int64), np.ones(n)
    q = np.ones(n, dtype=complex)
    for k, stab in enumerate(graph.stabilisers):
        if irrep.real:
            if np.all(np.abs(chars[stab] - 1) < CHAR_TOL):
                mult[k], norm[k] = 1, np.sqrt(len(stab) / len(graph.group))
            continue
        in_a = stab[coset[stab] == 0]
        if not np.all(np.abs(chars[in_a] - 1) < CHAR_TOL):
            continue
        norm[k] = np.sqrt(len(in_a) / n_a)
        outside = stab[coset[stab] == 1]
        if len(outside):
            mult[k], q[k] = 1, np.exp(0.5j * np.angle(chars[outside[0]]))
        else:
            mult[k] = 2
    return mult, norm, q


def sector_dimension(graph: OrbitGraph, irrep: Irrep) -> int:
    """Number of real basis vectors of the sector (cheap: per stabiliser class)."""
    mult = class_tables(graph, irrep)[0]
    counts = np.bincount(graph.orbit_class, minlength=len(mult))
    return int(mult @ counts)


class SectorOperator:
    """M, the real symmetric matrix of H (σ units) in the sector of ``irrep`` (module
    docstring), for couplings (j1, j2), on the rows of ``graph`` held by this rank.

    ``dimension`` is the sector's size; this rank owns the rows [``row_lo``, ``row_hi``).
    """

    def __init__(self, graph: OrbitGraph, irrep: Irrep, j1: float = 1.0, j2: float = 0.0):
        self.graph, self.irrep = graph, irrep
        self.mult_c, self.norm_c, q = class_tables(graph, irrep)
        self.q_re, self.q_im = np.ascontiguousarray(q.real), np.ascontiguousarray(q.imag)
        mult = self.mult_c[graph.orbit_class]
        self.pos = np.zeros(graph.n_orbits + 1, dtype=np.int64)
        np.cumsum(mult, out=self.pos[1:])
        self.dimension = int(self.pos[-1])
        self.row_lo, self.row_hi = int(self.pos[graph.row_lo]), int(self.pos[graph.row_hi])
        self.pcol = np.empty(len(graph.cols), np.int32 if self.dimension < 2**31 else np.int64)
        _entry_positions(graph.cols, self.pos, self.pcol)
        self.hoff = np.array([2.0 * j1, 2.0 * j2])
        self.hdiag = np.array([float(j1), float(j2)])
        self.chi_re = np.ascontiguousarray(irrep.characters.real)
        self.chi_im = np.ascontiguousarray(irrep.characters.imag)
        self.sign = np.where(graph.momentum.coset == 1, -1.0, 1.0)  # conjugation for a∘p
        self.matvecs = 0

    @property
    def local_size(self) -> int:
        return self.row_hi - self.row_lo

    def _arrays(self):
        g = self.graph
        return ((g.row_lo, g.indptr, g.tcls, g.elems, g.classes, g.diag, g.orbit_class),
                (self.hoff, self.hdiag, self.pcol, self.pos, self.mult_c, self.norm_c,
                 self.q_re, self.q_im, self.sign, self.chi_re, self.chi_im))

    def apply(self, x_full: np.ndarray, y_local: np.ndarray) -> None:
        """``y_local`` = this rank's rows of M·x (``x_full``: the whole sector vector)."""
        graph, sector = self._arrays()
        _apply(graph, sector, not self.irrep.real, x_full, y_local, self.row_lo)
        self.matvecs += 1

    def dense(self) -> np.ndarray:
        """This rank's rows of the whole matrix (tests and small sectors): M applied to every
        unit vector, serially."""
        graph, sector = self._arrays()
        out = np.empty((self.local_size, self.dimension))
        _dense(graph, sector, not self.irrep.real, self.dimension, self.row_lo, out)
        self.matvecs += self.dimension
        return out
