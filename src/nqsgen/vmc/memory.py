"""Memory a VMC run needs, before any work: the rules the stage refuses by and the workflow
requests memory by (one home, no torch needed).

* The **per-sample Jacobian** of stochastic reconfiguration: rows × parameters values of the
  network's precision, rows = the samples per iteration rounded up to a multiple of the chains
  (Metropolis) or K (the exact sampler).
* The **whole-basis observables** (the exact energy and overlaps, up to ``exact_max_states``,
  and every basis state for the exact sampler): :data:`EXACT_BYTES_PER_STATE` per state.
"""

from __future__ import annotations

#: log ψ of every basis state (complex128, 16 bytes) and, while the energy streams, its real
#: part, weights and look-up indices (16 bytes).
EXACT_BYTES_PER_STATE = 32
DTYPE_BYTES = {"float64": 8, "float32": 4}


def dense_parameters(n_sites: int, width: int, depth: int = 2) -> int:
    """Parameters of :class:`nqsgen.models.Dense`: N → width (→ width …) → 1, with biases."""
    hidden = n_sites * width + width + (depth - 1) * (width * width + width)
    return hidden + width + 1


def n_parameters(settings, n_sites: int) -> tuple[int, int]:
    """(amplitude, phase) parameters of the two dense2 networks of ψ = exp(a + iφ)."""
    phase = settings.phase_width or settings.width
    return dense_parameters(n_sites, settings.width), dense_parameters(n_sites, phase)


def jacobian_rows(settings, dimension: int) -> int:
    if settings.sampler == "exact":
        return dimension
    return -(-settings.samples // settings.chains) * settings.chains


def jacobian_bytes(settings, n_sites: int, dimension: int) -> int:
    """Bytes of the per-sample Jacobian (rows × parameters)."""
    return (jacobian_rows(settings, dimension) * sum(n_parameters(settings, n_sites))
            * DTYPE_BYTES[settings.dtype])


def whole_basis_bytes(settings, dimension: int) -> int:
    """Bytes of what needs the whole basis (0 when nothing does)."""
    whole = settings.sampler == "exact" or dimension <= settings.exact_max_states
    return EXACT_BYTES_PER_STATE * dimension if whole else 0
