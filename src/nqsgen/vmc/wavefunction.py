"""The variational wave function of the VMC stage: two 2-layer dense networks.

Convention (the paper's Fig. 2 d–f: two two-layer dense networks)
------------------------------------------------
ψ(σ) = exp(a(σ) + i φ(σ))

* a(σ) = log|ψ(σ)|: the **amplitude network**, dense N → h → h → 1
  (:class:`nqsgen.models.Dense`, the supervised stage's ``dense2``);
* φ(σ): the **phase network**, the same architecture with its own parameters (and its own
  width h_φ, by default h).  The sign the
  network predicts is sign(cos φ) (+ when cos φ ≥ 0), so φ = 0 is "+" and φ = π is "−".

Why a phase instead of the supervised stage's sign classifier: stochastic reconfiguration
needs log ψ to be differentiable in the parameters, and a binary sign is not.  With a real
phase, log ψ = a + iφ is smooth, the log-derivatives are O_k = ∂a/∂θ_k (amplitude parameters,
real) and O_k = i ∂φ/∂θ_k (phase parameters, imaginary), and a real ground state is reached
at φ ∈ {0, π} (mod 2π).  The amplitudes are unnormalised.

Input: σ_i = ±1 in site order (bit i of the uint64 basis state set → +1; :mod:`nqsgen.basis`),
as a float tensor (B, N).  Conversions between uint64 states and spin tensors on any device
are :func:`spins_tensor` and :func:`states_of`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nqsgen import architectures
from nqsgen.architectures import ACTIVATIONS
from nqsgen.basis import spins as _spins
from nqsgen.errors import ConfigError

DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: The registered architecture (:mod:`nqsgen.architectures`) of both networks.
VMC_ARCH = "dense2"


def _network(n_sites: int, width: int, activation: str) -> nn.Module:
    """A ``VMC_ARCH`` network N → width → width → 1, built by the registry."""
    from types import SimpleNamespace

    from nqsgen.models import ModelConfig

    config = ModelConfig(arch=VMC_ARCH, width=width, activation=activation)
    return architectures.get(VMC_ARCH).build(config, SimpleNamespace(n_sites=n_sites),
                                             architectures.Context(target="amplitude"))


class WaveFunction(nn.Module):
    """ψ = exp(a + iφ) with ``amplitude`` = a and ``phase`` = φ, two dense2 networks.

    Parameters are created from torch's global RNG (use :func:`build_wavefunction` for a
    seeded one).  ``forward`` returns (a, φ), each of shape (B,).
    """

    def __init__(self, n_sites: int, width: int, activation: str = "tanh",
                 phase_width: int | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r} "
                              f"(known: {', '.join(ACTIVATIONS)})")
        phase_width = width if phase_width is None else phase_width
        if width < 1 or phase_width < 1:
            raise ConfigError(f"widths must be ≥ 1, got {width}, {phase_width}")
        self.n_sites = n_sites
        self.amplitude = _network(n_sites, width, activation)
        self.phase = _network(n_sites, phase_width, activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.amplitude(x), self.phase(x)

    def log_psi(self, x: torch.Tensor) -> torch.Tensor:
        """log ψ = a + iφ as a complex tensor (complex128 for float64 networks)."""
        a, phi = self(x)
        return torch.complex(a, phi)

    @property
    def n_parameters(self) -> tuple[int, int]:
        """(amplitude parameters, phase parameters)."""
        return (sum(p.numel() for p in self.amplitude.parameters()),
                sum(p.numel() for p in self.phase.parameters()))


def build_wavefunction(n_sites: int, width: int, activation: str, seed: int,
                       device: torch.device, dtype: torch.dtype,
                       phase_width: int | None = None) -> WaveFunction:
    """A :class:`WaveFunction` whose initial parameters depend only on ``seed`` (drawn on the
    CPU in float32 with PyTorch's default initialisation, then cast), on ``device``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        wf = WaveFunction(n_sites, width, activation, phase_width)
    return wf.to(device=device, dtype=dtype)


def parameter_vector(module: nn.Module) -> torch.Tensor:
    """All parameters flattened in ``module.parameters()`` order (a copy)."""
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


@torch.no_grad()
def add_to_parameters(module: nn.Module, delta: torch.Tensor) -> None:
    """θ ← θ + delta, ``delta`` flattened in ``module.parameters()`` order."""
    offset = 0
    for p in module.parameters():
        n = p.numel()
        p.add_(delta[offset:offset + n].view_as(p))
        offset += n
    if offset != delta.numel():
        raise ValueError(f"update has {delta.numel()} entries, the module {offset} parameters")


def spins_tensor(states: np.ndarray, n_sites: int, device: torch.device,
                 dtype: torch.dtype) -> torch.Tensor:
    """σ = ±1 (B, N) of uint64 ``states`` on ``device`` (expanded there on CUDA)."""
    states = np.ascontiguousarray(states, dtype=np.uint64)
    if torch.device(device).type == "cuda":
        s = torch.from_numpy(states.view(np.int64)).to(device)
        bits = torch.arange(n_sites, device=device, dtype=torch.int64)
        return (((s[:, None] >> bits) & 1) * 2 - 1).to(dtype)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    return torch.from_numpy(_spins(states, n_sites, np_dtype)).to(dtype)


def states_of(x: torch.Tensor) -> np.ndarray:
    """uint64 basis states (CPU numpy) of spin configurations x (B, N), σ = +1 → bit set."""
    bits = torch.arange(x.shape[1], device=x.device, dtype=torch.int64)
    packed = ((x > 0).to(torch.int64) << bits).sum(dim=1)
    return packed.cpu().numpy().view(np.uint64)


@torch.no_grad()
def log_psi_of_spins(wf: WaveFunction, x: torch.Tensor, batch: int) -> torch.Tensor:
    """log ψ (complex, no autograd) of spin configurations x (B, N), ``batch`` rows at a time."""
    parts = [wf.log_psi(x[lo:lo + batch]) for lo in range(0, x.shape[0], batch)]
    if not parts:
        return torch.zeros(0, dtype=torch.complex128, device=x.device)
    return torch.cat(parts)


def log_psi_of_states(wf: WaveFunction, states: np.ndarray, batch: int) -> torch.Tensor:
    """log ψ (complex, no autograd) of uint64 basis states, converted ``batch`` at a time."""
    param = next(wf.parameters())
    parts = [log_psi_of_spins(wf, spins_tensor(states[lo:lo + batch], wf.n_sites,
                                               param.device, param.dtype), batch)
             for lo in range(0, len(states), batch)]
    if not parts:
        return torch.zeros(0, dtype=torch.complex128, device=param.device)
    return torch.cat(parts)
