"""Physical baselines of the sign structure: what a network's learned sign is measured
against.

* **Marshall sign rule** (Marshall, Proc. R. Soc. A 232, 48 (1955)): on a cluster whose J1
  graph is bipartite (sublattices A, B), the ground state of the unfrustrated Heisenberg
  antiferromagnet (J2 = 0) has the signs s_M(σ) = (−1)^(number of up spins on sublattice B), up
  to a global sign.  Its sign overlap with a ground state ψ is

      O_M = | Σ_σ ψ(σ)² s(σ) s_M(σ) | / Σ_σ ψ(σ)²,   s = sign ψ (0 counts as +),

  the sign overlap (:mod:`nqsgen.overlaps`) of the trial state with exact amplitudes and
  Marshall signs, the absolute value taking the free global sign.  O_M = 1 at J2 = 0 on every
  default cluster and falls with frustration; a learned sign beats the physics prior where its
  test overlap exceeds O_M.  Computed exactly by streaming over the basis up to
  ``exact_max_states`` states, above that as a Monte-Carlo mean over states drawn from |ψ|²
  (with its standard error).  The sublattice B is the colour-1 class of
  :attr:`nqsgen.clusters.Cluster.j1_colouring`; a cluster without a bipartite J1 graph has no
  Marshall rule (NaN).
"""

from __future__ import annotations

import math

import numpy as np

from nqsgen.errors import ConfigError

DEFAULT_EXACT_MAX_STATES = 300_000_000
DEFAULT_MC_SAMPLES = 40_000  # SE ≤ 1/√n = 0.005


def marshall_mask(cluster) -> np.uint64:
    """The bit mask of sublattice B (colour 1 of the bipartite J1 graph)."""
    if cluster.j1_colouring is None:
        raise ConfigError(f"{cluster.name}: the J1 graph is not bipartite, no Marshall rule")
    colour = np.asarray(cluster.j1_colouring)
    return np.uint64(sum(1 << int(i) for i in np.flatnonzero(colour == 1)))


def marshall_signs(states: np.ndarray, mask: np.uint64) -> np.ndarray:
    """s_M = (−1)^(up spins on sublattice B) of each state (float64 ±1)."""
    parity = np.bitwise_count(np.asarray(states, dtype=np.uint64) & mask) % 2
    return np.where(parity == 0, 1.0, -1.0)


def marshall_overlap(ground_state, cluster, exact_max_states: float = DEFAULT_EXACT_MAX_STATES,
                     mc_samples: int = DEFAULT_MC_SAMPLES, seed: int = 0) -> dict:
    """``overlap`` O_M, ``overlap_se`` (0 when exact), ``overlap_method`` (exact or
    monte_carlo) and ``overlap_samples`` of the Marshall signs with ``ground_state``."""
    if cluster.j1_colouring is None:
        return {"overlap": math.nan, "overlap_se": math.nan, "overlap_method": "none",
                "overlap_samples": 0}
    mask = marshall_mask(cluster)
    if ground_state.dimension <= exact_max_states:
        signed, norm, states = 0.0, 0.0, 0
        for _, rows in ground_state.iter_chunks(columns=("state", "amplitude")):
            psi = rows["amplitude"]
            s = np.where(psi >= 0, 1.0, -1.0)
            signed += float(np.dot(psi * psi, s * marshall_signs(rows["state"], mask)))
            norm += float(np.dot(psi, psi))
            states += len(psi)
        return {"overlap": abs(signed) / norm, "overlap_se": 0.0, "overlap_method": "exact",
                "overlap_samples": states}
    states = ground_state.sample_states(mc_samples, np.random.default_rng(seed))
    psi = ground_state.amplitude(states)
    x = np.where(psi >= 0, 1.0, -1.0) * marshall_signs(states, mask)
    return {"overlap": abs(float(x.mean())), "overlap_se": float(x.std(ddof=1) / math.sqrt(
        len(x))), "overlap_method": "monte_carlo", "overlap_samples": len(x)}
