"""Symmetry-reduced exact diagonalisation (lattice symmetries and spin inversion).

One concept per module:

* :mod:`~nqsgen.symmetry.permutations` — bit permutations as Beneš networks of delta swaps;
* :mod:`~nqsgen.symmetry.group` — the cluster's symmetry group and its one-dimensional real
  representations (sectors);
* :mod:`~nqsgen.symmetry.basis` — orbit representatives of a sector, enumerated in parallel;
* :mod:`~nqsgen.symmetry.operator` — the Heisenberg Hamiltonian in that basis;
* :mod:`~nqsgen.symmetry.solve` — the sector scan and the memory estimate;
* :mod:`~nqsgen.symmetry.expansion` — from symmetric coefficients to full-basis amplitudes,
  and exact |ψ|² sampling;
* :mod:`~nqsgen.symmetry.momentum` — every momentum: the irreps of T ⋊ {E, C2} × Z2, complex
  momenta included, in real arithmetic;
* :mod:`~nqsgen.symmetry.graph` — H's connections between orbits, found once for every
  sector and coupling;
* :mod:`~nqsgen.symmetry.sector` — one irrep sector as a matrix-free real operator;
* :mod:`~nqsgen.symmetry.complete` — the completeness scan (lowest level of every sector);
* :mod:`~nqsgen.symmetry.degeneracy` — degeneracy of a full-basis state, proven by its
  symmetry images.
"""

from nqsgen.symmetry.basis import SymmetricBasis
from nqsgen.symmetry.group import SYMMETRIES, Sector, SymmetryGroup, cluster_group
from nqsgen.symmetry.operator import SymmetricHeisenberg
from nqsgen.symmetry.solve import SectorScan, memory_estimate, solve_sectors

__all__ = ["SYMMETRIES", "Sector", "SectorScan", "SymmetricBasis", "SymmetricHeisenberg",
           "SymmetryGroup", "cluster_group", "memory_estimate", "solve_sectors"]
