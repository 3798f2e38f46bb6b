"""Neural networks for signs and amplitudes, and their evaluation on basis states.

Input and output conventions (all architectures)
------------------------------------------------
* Input: σ ∈ {±1}^N in **site order** (σ_i = +1 when bit i of the uint64 basis state is set,
  i.e. spin up on site i; see :mod:`nqsgen.basis`), as a float tensor of shape (B, N).
* Output: one real number per configuration, shape (B,):

  - target ``sign``: the **logit** ℓ of p = P(sign = +) = 1 / (1 + e^(−ℓ)).  The predicted sign
    is + iff p ≥ 0.5, evaluated exactly as ℓ ≥ 0.  Training uses binary cross-entropy on p
    (computed from ℓ in the numerically stable form, see :mod:`nqsgen.training`);
  - target ``amplitude``: log|ψ| (natural logarithm of an unnormalised amplitude a = e^output).

Architectures (:func:`build_model`; the registry :mod:`nqsgen.architectures`, one module each)
------------------------------------------------------------------------------------------
* ``dense1``: N → h → 1 (one hidden layer of h units).
* ``dense2``: N → h → h → 1.
* ``cnn``: two periodic convolution layers over the cluster's lattice, global mean pooling over
  the cells, then a linear map channels → 1.  The lattice is read from the cluster: a cell holds
  its ``n_sublattices`` sites as input channels (1 for square and triangular, 3 for kagome); the
  kernel is the set of cell offsets d whose shortest periodic image has cartesian length
  ≤ ``kernel_radius`` × |a1| (default 1.5: the 3×3 stencil on the square lattice, the
  hexagonal 7-cell stencil on the triangular/kagome Bravais lattice), each distinct translation
  once.  Neighbouring cells are looked up through the cluster's translation permutations, so
  tilted supercells (e.g. square_10, supercell (3,1),(1,−3)) need no special treatment.  Each
  layer is equivariant under the cluster's translations and the pooled output is invariant
  (up to floating-point summation order).

* ``gcnn``: a group-equivariant CNN over the cluster's space group (optionally × spin
  inversion), its output projected on the ground state's sector so that the predicted sign
  obeys sign(g·σ) = χ(g)·sign(σ) for every group element (:mod:`nqsgen.architectures.gcnn`).

Hidden layers use the configured activation (default ReLU) followed by dropout (default 0).

Ensembles (:class:`StackedNetwork`)
-----------------------------------
M networks of one architecture with independent parameters, stacked along a leading member
axis: every parameter of shape S becomes one tensor of shape (M, *S), and the layers are
batched matrix products (``torch.baddbmm``), so that one call evaluates or trains all M
members at once.  Member m's parameters are those of its own :func:`build_model` network
(same names, shapes and layout); inputs are (M, B, N) — each member its own configurations —
or (B, N) shared by all members (:meth:`StackedNetwork.forward_shared`, the test-set pass);
outputs (M, B).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import torch
from torch import nn

from nqsgen import architectures
from nqsgen.architectures import (  # noqa: F401  (re-exported)
    ACTIVATIONS,
    CPU_INFERENCE_BATCH,
    GPU_INFERENCE_BATCH,
    Context,
)
from nqsgen.architectures.cnn import (  # noqa: F401  (re-exported)
    LatticeCNN,
    PeriodicConv,
    cell_tables,
    kernel_translations,
    neighbour_table,
)
from nqsgen.architectures.dense import Dense
from nqsgen.errors import ConfigError

#: The built-in architectures (the registry, :mod:`nqsgen.architectures`, may hold more).
ARCHITECTURES = architectures.builtin_names()
GROUPS = ("space", "space+inversion")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters.

    ``width`` is h, the hidden units of each dense layer; ``channels`` the feature channels of
    each CNN layer; ``kernel_radius`` the CNN stencil radius in units of |a1|.
    """

    arch: str = "dense2"
    width: int = 64
    channels: int = 16
    kernel_radius: float = 1.5
    activation: str = "relu"
    dropout: float = 0.0
    gcnn_group: str = "space"

    def validate(self) -> None:
        architectures.get(self.arch)  # unknown names: ConfigError listing the known
        if self.gcnn_group not in GROUPS:
            raise ConfigError(f"unknown G-CNN group {self.gcnn_group!r} "
                              f"(known: {', '.join(GROUPS)})")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.activation!r} "
                              f"(known: {', '.join(ACTIVATIONS)})")
        if self.width < 1 or self.channels < 1:
            raise ConfigError(f"width and channels must be ≥ 1, got {self.width}, "
                              f"{self.channels}")
        if not 0 < self.kernel_radius < math.inf:
            raise ConfigError(f"kernel radius must be > 0, got {self.kernel_radius}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")


def build_model(config: ModelConfig, cluster, *, target: str = "sign", ground_state=None,
                characters=None) -> nn.Module:
    """The network of ``config`` for ``cluster`` (parameters drawn from torch's global RNG),
    built by the registered architecture ``config.arch`` (:mod:`nqsgen.architectures`).
    ``target``, ``ground_state`` and ``characters`` are the :class:`Context` (the G-CNN reads
    the ground state's sector from them; the other built-ins ignore them)."""
    config.validate()
    context = Context(target=target, ground_state=ground_state, characters=characters)
    return architectures.get(config.arch).build(config, cluster, context)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (frozen ones, e.g. the G-CNN's characters, are not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- inference
@numba.njit(cache=True)
def fill_spins(states, n_sites, out):
    """out[i, j] = σ_j of states[i] (bit j set → +1, else −1); ``out`` is preallocated."""
    for i in range(states.shape[0]):
        s = states[i]
        for j in range(n_sites):
            out[i, j] = np.float32(2 * ((s >> np.uint64(j)) & np.uint64(1))) - np.float32(1)


class Predictor:
    """Network outputs for uint64 basis states, in batches, under ``torch.inference_mode``.

    On CPU the spins of each batch are written by a compiled kernel into one preallocated
    float32 buffer; on CUDA the states are copied to the device and expanded there.  Returns
    float64 outputs (logit or log|ψ|), the model in eval mode (dropout off).
    """

    def __init__(self, model: nn.Module, n_sites: int, device: torch.device,
                 batch: int | None = None):
        self.model, self.n_sites, self.device = model, n_sites, torch.device(device)
        cuda = self.device.type == "cuda"
        cpu_batch = getattr(model, "inference_batch", CPU_INFERENCE_BATCH)
        self.batch = batch or (GPU_INFERENCE_BATCH if cuda else cpu_batch)
        self._buffer = None if cuda else np.empty((self.batch, n_sites), dtype=np.float32)
        if cuda:
            self._bits = torch.arange(n_sites, device=self.device, dtype=torch.int64)

    def __call__(self, states: np.ndarray) -> np.ndarray:
        states = np.ascontiguousarray(states, dtype=np.uint64)
        out = np.empty(len(states), dtype=np.float64)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for lo in range(0, len(states), self.batch):
                hi = min(lo + self.batch, len(states))
                out[lo:hi] = self._forward(states[lo:hi]).double().cpu().numpy()
        self.model.train(was_training)
        return out

    def _forward(self, states: np.ndarray) -> torch.Tensor:
        if self._buffer is None:
            s = torch.from_numpy(states.view(np.int64)).to(self.device, non_blocking=True)
            x = (((s[:, None] >> self._bits) & 1) * 2 - 1).to(torch.float32)
            return self.model(x)
        x = self._buffer[: len(states)]
        fill_spins(states, self.n_sites, x)
        return self.model(torch.from_numpy(x))


# ----------------------------------------------------------------------------- ensembles
def _linear(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Batched ``nn.Linear``: h (M, B, in), weight (M, out, in), bias (M, out) → (M, B, out)
    (one member: the plain linear map, whose kernel is faster than a batch of one)."""
    if weight.shape[0] == 1:
        return torch.nn.functional.linear(h[0], weight[0], bias[0]).unsqueeze(0)
    return torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))


def _shared_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A first layer whose input x (B, in) all members share: one matrix product
    (B, in) @ (in, M·out), returned as (M, B, out)."""
    m, out, n_in = weight.shape
    flat = weight.permute(2, 0, 1).reshape(n_in, m * out)
    y = torch.addmm(bias.reshape(1, m * out), x, flat)
    return y.view(x.shape[0], m, out).transpose(0, 1)


class StackedNetwork:
    """M independent networks of one architecture with stacked parameters (module docstring).

    Built from M :func:`build_model` networks of the same configuration (:class:`Dense` and
    :class:`LatticeCNN` with hand-batched kernels, any other module generically through
    ``torch.func.vmap``); ``params`` is the list of stacked leaf tensors (M, *shape) in the
    order of ``named_parameters()`` (``names``).  Members can be selected (:meth:`select`)
    and exported back into an ``nn.Module`` (:meth:`load_member`).  Dropout, when configured,
    draws its masks from torch's global generator for all members at once.
    """

    def __init__(self, models: list[nn.Module], device: torch.device | str = "cpu"):
        first = models[0]
        if any(type(m) is not type(first) for m in models):
            raise TypeError("cannot stack networks of different types")
        self.kind = ("cnn" if isinstance(first, LatticeCNN) else
                     "dense" if isinstance(first, Dense) else "generic")
        self.device = torch.device(device)
        self.names = [name for name, _ in first.named_parameters()]
        self.trainable = [p.requires_grad for _, p in first.named_parameters()]
        self.params = [torch.stack([dict(m.named_parameters())[name].detach() for m in models])
                       .to(self.device).requires_grad_() for name in self.names]
        self.inference_batch = getattr(first, "inference_batch", CPU_INFERENCE_BATCH)
        if self.kind == "cnn":
            self.activation, self.dropout = first.act1, _dropout_p(first.drop)
            self.shape = first.shape
            self.sites = first.sites.to(self.device)
            self.convs = [_ConvLayout(conv, self.device) for conv in (first.conv1, first.conv2)]
            self.n_sites = int(self.sites.numel())
        elif self.kind == "dense":
            layers = list(first.net)
            self.activation = layers[1]
            self.dropout = next((m.p for m in layers if isinstance(m, nn.Dropout)), 0.0)
            self.n_sites = int(self.params[0].shape[-1])
        else:
            # any other module: member-wise functional calls, vectorised by torch.func.vmap
            # (buffers are the first member's: they may depend on the cluster, not the seed;
            # member-specific constants are frozen parameters, e.g. the G-CNN's characters)
            import copy

            self.base = copy.deepcopy(first).to(self.device)
            self.n_sites = int(first.n_sites)

    def __len__(self) -> int:
        return self.params[0].shape[0]

    @property
    def n_parameters(self) -> int:
        """Trainable parameters of one member."""
        return sum(p[0].numel() for p, t in zip(self.params, self.trainable, strict=True) if t)

    def select(self, rows) -> list[torch.Tensor]:
        """Detached copies of the parameters of members ``rows`` (an index tensor)."""
        return [p.detach().index_select(0, rows) for p in self.params]

    def load_member(self, model: nn.Module, m: int, params=None) -> nn.Module:
        """Copy member ``m``'s parameters (of ``params``, default the network's) into ``model``
        (a :func:`build_model` network of the same configuration); returns it."""
        params = self.params if params is None else params
        with torch.no_grad():
            for name, p in zip(self.names, params, strict=True):
                dict(model.named_parameters())[name].copy_(p[m])
        return model

    # -- evaluation ----------------------------------------------------------------------
    def __call__(self, x: torch.Tensor, params=None, training: bool = False) -> torch.Tensor:
        """Outputs (M, B) for per-member inputs x (M, B, N) (float)."""
        params = self.params if params is None else params
        if self.kind == "generic":
            return self._generic(x, params, training, shared=False)
        if self.kind == "cnn":
            h = x.index_select(2, self.sites).view(*x.shape[:2], *self.shape)
            return self._cnn(h, params, training, shared_first=False)
        h = x
        for i in range(0, len(params) - 2, 2):
            h = self._hidden(_linear(h, params[i], params[i + 1]), training)
        return _linear(h, params[-2], params[-1]).squeeze(-1)

    def forward_shared(self, x: torch.Tensor, params=None) -> torch.Tensor:
        """Outputs (M, B) of every member for configurations x (B, N) shared by all (eval
        mode: dropout off)."""
        params = self.params if params is None else params
        if self.kind == "generic":
            return self._generic(x, params, False, shared=True)
        if self.kind == "cnn":
            h = x.index_select(1, self.sites).view(x.shape[0], *self.shape)
            return self._cnn(h, params, False, shared_first=True)
        h = self._hidden(_shared_linear(x, params[0], params[1]), False)
        for i in range(2, len(params) - 2, 2):
            h = self._hidden(_linear(h, params[i], params[i + 1]), False)
        return _linear(h, params[-2], params[-1]).squeeze(-1)

    def _generic(self, x, params, training: bool, shared: bool) -> torch.Tensor:
        """Outputs (M, B) of a generic module: ``functional_call`` of the first member with
        each member's parameters, vectorised over the members (dropout masks differ)."""
        from torch.func import functional_call, vmap

        names = self.names

        def one(p, xi):
            return functional_call(self.base, dict(zip(names, p, strict=True)), (xi,))

        self.base.train(training)
        return vmap(one, in_dims=(0, None if shared else 0), randomness="different")(
            tuple(params), x)

    def _hidden(self, h: torch.Tensor, training: bool) -> torch.Tensor:
        h = self.activation(h)
        if training and self.dropout:
            h = torch.nn.functional.dropout(h, self.dropout, training=True)
        return h

    def _cnn(self, h, params, training: bool, shared_first: bool) -> torch.Tensor:
        """h: (M, B, cells, n_sub), or shared (B, cells, n_sub) → outputs (M, B)."""
        w1, b1, w2, b2, wh, bh = params
        h = self._hidden(self.convs[0](h, w1, b1, shared_first), training)
        h = self._hidden(self.convs[1](h, w2, b2, False), training)
        return _linear(h.mean(dim=2), wh, bh).squeeze(-1)


class _ConvLayout:
    """A :class:`PeriodicConv` of stacked members, in one of two equivalent forms:

    * *dense* (n_cells ≤ 4 × stencil size: every 24- to 36-site catalogue cluster but
      triangular_30): the convolution is a linear map of the
      flattened (cells × C_in) input, so its (cells·C_in) × (cells·C_out) matrix is assembled
      from the stencil weights at every call (an index_add, differentiable) and applied as one
      batched product — no patch tensor D times the size of the activations;
    * *patches* (otherwise): the gather of :class:`PeriodicConv`, then one batched product.

    The dense matrix costs n_cells/D times the multiplications of the patches, but its one
    large product runs at a much higher rate; measured on one CPU core (benchmarks/RESULTS.md,
    ensembles of 5): 2.8× the examples/s on kagome_24 (8 cells), 1.3× on triangular_24,
    1.15× on square_36 (36 cells, 4× the multiplications).
    """

    def __init__(self, conv: PeriodicConv, device):
        table = conv.flat.view(conv.n_cells, -1).cpu().numpy()  # (cells, D)
        self.cells, self.stencil = table.shape
        self.c_in = conv.width // self.stencil
        self.c_out = conv.linear.out_features
        self.flat = conv.flat.to(device)
        self.dense = self.cells <= 4 * self.stencil
        if self.dense:
            c, d, ci, co = np.meshgrid(np.arange(self.cells), np.arange(self.stencil),
                                       np.arange(self.c_in), np.arange(self.c_out),
                                       indexing="ij")
            source = co * self.stencil * self.c_in + d * self.c_in + ci
            target = ((table[c, d] * self.c_in + ci) * self.cells * self.c_out
                      + c * self.c_out + co)
            self.source = torch.as_tensor(source.reshape(-1), device=device)
            self.target = torch.as_tensor(target.reshape(-1), device=device)

    def matrix(self, weight: torch.Tensor) -> torch.Tensor:
        """(M, cells·C_in, cells·C_out): the map of the flattened input (dense form)."""
        m = weight.shape[0]
        values = weight.reshape(m, -1).index_select(1, self.source)
        full = weight.new_zeros(m, self.cells * self.c_in * self.cells * self.c_out)
        return full.index_add(1, self.target, values).view(m, self.cells * self.c_in, -1)

    def __call__(self, h: torch.Tensor, weight, bias, shared: bool) -> torch.Tensor:
        """h (M, B, cells, C_in) or, shared, (B, cells, C_in) → (M, B, cells, C_out)."""
        m, lead = weight.shape[0], h.shape[:-2]
        b = lead[-1] if not shared else lead[0]
        if self.dense:
            big, bias_big = self.matrix(weight), bias.repeat(1, self.cells)
            x = h.reshape(*lead, -1)
            if shared:
                n_in, n_out = big.shape[1:]
                flat = big.permute(1, 0, 2).reshape(n_in, m * n_out)
                y = torch.addmm(bias_big.reshape(1, -1), x, flat).view(b, m, n_out)
                y = y.transpose(0, 1)
            elif m == 1:
                y = torch.addmm(bias_big, x[0], big[0]).unsqueeze(0)
            else:
                y = torch.baddbmm(bias_big.unsqueeze(1), x, big)
            return y.reshape(m, b, self.cells, self.c_out)
        patches = h.index_select(len(lead), self.flat).reshape(*lead, self.cells, -1)
        if shared:
            y = _shared_linear(patches.reshape(-1, patches.shape[-1]), weight, bias)
            return y.view(m, b, self.cells, -1)
        y = _linear(patches.reshape(m, b * self.cells, -1), weight, bias)
        return y.view(m, b, self.cells, -1)


def _dropout_p(module: nn.Module) -> float:
    return module.p if isinstance(module, nn.Dropout) else 0.0
