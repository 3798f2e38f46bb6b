"""Symmetry-reduced exact diagonalisation (lattice symmetries and spin inversion).

One concept per module:

* :mod:`~nqsgen.symmetry.permutations` — bit permutations as Beneš networks of delta swaps;
* :mod:`~nqsgen.symmetry.group` — the cluster's symmetry group and its one-dimensional real
  representations (sectors);
* :mod:`~nqsgen.symmetry.basis` — orbit representatives of a sector, enumerated in parallel;
* :mod:`~nqsgen.symmetry.operator` — the Heisenberg Hamiltonian in that basis;
* :mod:`~nqsgen.symmetry.solve` — the sector scan and the memory estimate;
* :mod:`~nqsgen.symmetry.expansion` — from symmetric coefficients to full-basis amplitudes,
  and exact |ψ|² sampling.
"""

from nqsgen.symmetry.basis import SymmetricBasis
from nqsgen.symmetry.group import SYMMETRIES, Sector, SymmetryGroup, cluster_group
from nqsgen.symmetry.operator import SymmetricHeisenberg
from nqsgen.symmetry.solve import SectorScan, memory_estimate, solve_sectors

__all__ = ["SYMMETRIES", "Sector", "SectorScan", "SymmetricBasis", "SymmetricHeisenberg",
           "SymmetryGroup", "cluster_group", "memory_estimate", "solve_sectors"]
