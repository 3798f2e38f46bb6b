"""Stochastic reconfiguration (SR) for ψ = exp(a + iφ) with real parameters θ = (θ_a, θ_φ).

Definitions (⟨X⟩ = Σ_k w_k X_k over an :class:`~nqsgen.vmc.sampler.Ensemble`)
-----------------------------------------------------------------------------
* Log-derivatives O_k(σ) = ∂ log ψ(σ)/∂θ_k: ∂a/∂θ_k for amplitude parameters (real) and
  i ∂φ/∂θ_k for phase parameters (imaginary).  Per-sample gradients come from ``torch.func``
  (``vmap`` of ``grad`` over the configurations), the Jacobian J has shape (S, P).
* S_kl = ⟨O_k* O_l⟩ − ⟨O_k*⟩⟨O_l⟩ and F_k = ⟨E_loc O_k*⟩ − ⟨E_loc⟩⟨O_k*⟩.  The parameters are
  real, so the update uses Re S and Re F (the energy gradient is ∂E/∂θ_k = 2 Re F_k).  With
  purely real (amplitude) and purely imaginary (phase) log-derivatives, Re S is block-diagonal
  — Re(O_a* O_φ) = Re(i ∂a ∂φ) = 0 — with blocks Cov(∂a) and Cov(∂φ), and
  Re F = (Cov(∂a, Re E_loc), Cov(∂φ, Im E_loc)).
* Update: θ ← θ − η(t) δ with (Re S + λ(t) 1) δ = Re F.  δ is found by conjugate gradients
  (``solver="cg"``) from products S v = Ĵᵀ(Ĵ v), Ĵ = √w (J − ⟨J⟩), block by block — S is never
  formed, so memory is S·P, not P²; ``solver="dense"`` forms the two blocks and solves exactly
  (small problems and cross-checks).  CG starts from δ = 0 and stops when
  ‖(S + λ)δ − F‖ ≤ ``cg_tol``·‖F‖ or after ``cg_max_iterations`` products.
* Schedules (t = 0, 1, … the iteration): learning rate η(t) = max(η_min, η₀·η_decayᵗ) and
  diagonal shift λ(t) = max(λ_min, λ₀·λ_decayᵗ) — the exponentially decaying shift of Carleo &
  Troyer (2017) applied to the identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, vmap

from nqsgen.errors import ConfigError
from nqsgen.vmc.wavefunction import WaveFunction, add_to_parameters

SOLVERS = ("cg", "dense")
JACOBIAN_CHUNK = 2048  # configurations per vmap call


@dataclass(frozen=True)
class SRConfig:
    """Learning-rate and shift schedules and the linear solver (module docstring)."""

    lr: float = 0.05
    lr_decay: float = 1.0
    lr_min: float = 0.0
    shift: float = 0.1
    shift_decay: float = 0.95
    shift_min: float = 1e-3
    solver: str = "cg"
    cg_max_iterations: int = 100
    cg_tol: float = 1e-6

    def validate(self) -> None:
        if self.solver not in SOLVERS:
            raise ConfigError(f"unknown SR solver {self.solver!r} (known: {', '.join(SOLVERS)})")
        for name in ("lr", "shift"):
            if not 0 < getattr(self, name) < math.inf:
                raise ConfigError(f"--{name} must be a positive number, got {getattr(self, name)}")
        for name in ("lr_decay", "shift_decay"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be in (0, 1], "
                                  f"got {getattr(self, name)}")
        for name in ("lr_min", "shift_min"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ConfigError(f"--{name.replace('_', '-')} must be ≥ 0, "
                                  f"got {getattr(self, name)}")
        if self.cg_max_iterations < 1 or not 0 < self.cg_tol < 1:
            raise ConfigError("--cg-max-iterations must be ≥ 1 and --cg-tol in (0, 1), got "
                              f"{self.cg_max_iterations}, {self.cg_tol}")

    def learning_rate(self, t: int) -> float:
        return max(self.lr_min, self.lr * self.lr_decay**t)

    def diagonal_shift(self, t: int) -> float:
        return max(self.shift_min, self.shift * self.shift_decay**t)


@dataclass(frozen=True)
class SRStep:
    """What one SR iteration measured and did."""

    energy: float  # ⟨E_loc⟩ (real part; σ units)
    energy_imag: float  # Im ⟨E_loc⟩ (0 up to sampling noise)
    variance: float  # ⟨|E_loc − ⟨E_loc⟩|²⟩
    lr: float
    shift: float
    cg_iterations: int  # 0 for the dense solver
    cg_residual: float  # ‖(S + λ)δ − F‖ / ‖F‖
    force_norm: float  # ‖Re F‖
    update_norm: float  # η‖δ‖


def jacobian(net: torch.nn.Module, x: torch.Tensor, chunk: int = JACOBIAN_CHUNK) -> torch.Tensor:
    """Per-sample gradients ∂net(x_k)/∂θ (S, P), columns in ``net.parameters()`` order."""
    params = {k: v.detach() for k, v in net.named_parameters()}

    def scalar(p, xi):
        return functional_call(net, p, (xi.unsqueeze(0),)).squeeze(0)

    per_sample = vmap(grad(scalar), in_dims=(None, 0))
    n_params = sum(v.numel() for v in params.values())
    out = torch.empty(x.shape[0], n_params, dtype=x.dtype, device=x.device)
    for lo in range(0, x.shape[0], chunk):
        g = per_sample(params, x[lo:lo + chunk])
        out[lo:lo + chunk] = torch.cat([g[k].reshape(g[k].shape[0], -1) for k in params], 1)
    return out


class CenteredJacobian:
    """Ĵ = √w (J − ⟨J⟩) of the amplitude and phase networks, and S·v = (Re S) v."""

    def __init__(self, wf: WaveFunction, spins: torch.Tensor, weights: torch.Tensor):
        self.root_w = weights.sqrt().to(spins.dtype)
        self.blocks = [self._center(jacobian(net, spins), weights)
                       for net in (wf.amplitude, wf.phase)]
        self.sizes = [b.shape[1] for b in self.blocks]

    def _center(self, j: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        mean = weights.to(j.dtype) @ j
        return j.sub_(mean).mul_(self.root_w[:, None])

    def force(self, e_loc: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
        """Re F = (Ĵ_aᵀ √w Re ΔE, Ĵ_φᵀ √w Im ΔE), ΔE = E_loc − ⟨E_loc⟩."""
        delta = e_loc - energy
        parts = (delta.real, delta.imag)
        return torch.cat([b.T @ (self.root_w * p.to(b.dtype)) for b, p in zip(self.blocks, parts,
                                                                               strict=True)])

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        return torch.cat([b.T @ (b @ vi) for b, vi in zip(self.blocks, v.split(self.sizes),
                                                           strict=True)])

    def dense(self) -> torch.Tensor:
        """Re S as a matrix (block-diagonal)."""
        return torch.block_diag(*[b.T @ b for b in self.blocks])


def conjugate_gradient(matvec, b: torch.Tensor, shift: float, tol: float, max_iterations: int
                       ) -> tuple[torch.Tensor, int, float]:
    """Solve (A + shift) x = b for symmetric positive semi-definite A by conjugate gradients
    from x = 0: (x, products with A, ‖(A + shift) x − b‖ / ‖b‖)."""
    x = torch.zeros_like(b)
    b_norm = float(torch.linalg.vector_norm(b))
    if b_norm == 0.0:
        return x, 0, 0.0
    r = b.clone()
    p = r.clone()
    rr = torch.dot(r, r)
    k, r_norm = 0, b_norm
    while k < max_iterations and r_norm > tol * b_norm:
        ap = matvec(p) + shift * p
        alpha = rr / torch.dot(p, ap)
        x.add_(alpha * p)
        r.sub_(alpha * ap)
        rr_new = torch.dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
        r_norm = math.sqrt(float(rr))
        k += 1
    return x, k, r_norm / b_norm


def solve(jac: CenteredJacobian, force: torch.Tensor, shift: float, config: SRConfig
          ) -> tuple[torch.Tensor, int, float]:
    """δ with (Re S + shift) δ = Re F: (δ, CG iterations, relative residual)."""
    if config.solver == "dense":
        matrix = jac.dense()
        matrix.diagonal().add_(shift)
        delta = torch.linalg.solve(matrix, force)
        residual = torch.linalg.vector_norm(matrix @ delta - force)
        norm = float(torch.linalg.vector_norm(force))
        return delta, 0, float(residual) / norm if norm > 0 else 0.0
    return conjugate_gradient(jac.matvec, force, shift, config.cg_tol, config.cg_max_iterations)


def sr_step(wf: WaveFunction, spins: torch.Tensor, weights: torch.Tensor, e_loc: torch.Tensor,
            config: SRConfig, t: int) -> SRStep:
    """One SR update of ``wf`` in place from configurations, weights and local energies."""
    energy = (weights.to(e_loc.dtype) * e_loc).sum()
    variance = float((weights * (e_loc - energy).abs() ** 2).sum())
    jac = CenteredJacobian(wf, spins, weights)
    force = jac.force(e_loc, energy)
    lr, shift = config.learning_rate(t), config.diagonal_shift(t)
    delta, iterations, residual = solve(jac, force, shift, config)
    add_to_parameters(wf, -lr * delta)
    return SRStep(energy=float(energy.real), energy_imag=float(energy.imag), variance=variance,
                  lr=lr, shift=shift, cg_iterations=iterations, cg_residual=residual,
                  force_norm=float(torch.linalg.vector_norm(force)),
                  update_norm=lr * float(torch.linalg.vector_norm(delta)))
