"""The registry of network architectures: one module per architecture, registered by name.

Every consumer reads this registry — the train stage's ``--arch`` (single runs and ensembles,
:func:`nqsgen.models.build_model`, :class:`nqsgen.models.StackedNetwork`), the workflow
configuration and its schema (``archs:`` of the experiments, :mod:`nqsgen.config.workflow`),
the VMC stage's networks (:mod:`nqsgen.vmc.wavefunction`) and the docs (README, "Adding an
architecture").  An architecture is a name plus a ``build(config, cluster, context)`` function
returning an ``nn.Module`` that maps σ (B, N) float in site order to one real number per
configuration, shape (B,) (the logit of P(sign = +) or log|ψ|; conventions in
:mod:`nqsgen.models`).  Parameters must be drawn from torch's global generator (so a run's
seed fixes them).  Any such module can be trained in an ensemble: members of a known layout
(dense, cnn) use the hand-batched kernels of :class:`nqsgen.models.StackedNetwork`, every
other module is stacked generically (``torch.func.vmap`` over the stacked parameters).

Built-in architectures: ``dense1``, ``dense2`` (:mod:`~nqsgen.architectures.dense`), ``cnn``
(:mod:`~nqsgen.architectures.cnn`) and ``gcnn`` (:mod:`~nqsgen.architectures.gcnn`, the
space-group-equivariant network projected on the ground state's sector).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from nqsgen.errors import ConfigError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU,
               "softplus": nn.Softplus}
CPU_INFERENCE_BATCH = 4096  # states per forward pass on CPU (dense): activations stay in cache
GPU_INFERENCE_BATCH = 1 << 18
#: The modules of the built-in architectures, imported (and so registered) with this package.
BUILTIN_MODULES = ("nqsgen.architectures.dense", "nqsgen.architectures.cnn",
                   "nqsgen.architectures.gcnn")


@dataclass(frozen=True)
class Context:
    """What a network may be built from besides its hyper-parameters and cluster: the target
    (``sign`` or ``amplitude``) and the ground state the run learns (None when there is none,
    e.g. a network built for a shape check); ``characters`` override the sector read from the
    ground state (χ(g) per group element, for tests and callers that know the sector)."""

    target: str = "sign"
    ground_state: Any = None
    characters: Any = None


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its ``name`` (the ``--arch`` value and the run-directory
    component), ``build(config, cluster, context) -> nn.Module`` and a one-line ``summary``
    (shown in ``--help`` and the docs)."""

    name: str
    build: Callable[..., nn.Module]
    summary: str = ""
    module: str = field(default="", compare=False)
    #: The TrainSettings field that is its hidden width: what a capacity experiment sweeps
    #: and what a run label ``{name}-w{width}`` sets (:func:`nqsgen.paths.arch_label`).
    capacity: str = "width"


_REGISTRY: dict[str, Architecture] = {}


def register(name: str, build: Callable[..., nn.Module], summary: str = "",
             capacity: str = "width") -> Architecture:
    """Register ``build`` under ``name`` (letters, digits, ``_`` and ``-``: it is a path
    component, and must not end like a width label ``-w64``); ``capacity`` is the
    TrainSettings field that is its hidden width (``width`` or ``channels``).  Registering a
    name twice with another function is an error."""
    from nqsgen.config.hyperparameters import TrainSettings
    from nqsgen.paths import ARCH_WIDTH

    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"architecture name {name!r}: letters, digits, _ and - only")
    if ARCH_WIDTH.match(name):
        raise ValueError(f"architecture name {name!r}: a -w<width> suffix is a run's width "
                         "label (nqsgen.paths.arch_label)")
    if capacity not in TrainSettings.model_fields:
        raise ValueError(f"architecture {name!r}: capacity {capacity!r} is not a train setting")
    arch = Architecture(name, build, summary, getattr(build, "__module__", ""), capacity)
    old = _REGISTRY.get(name)
    if old is not None and old.build is not build:
        raise ValueError(f"architecture {name!r} is already registered (by {old.module})")
    _REGISTRY[name] = arch
    return arch


def unregister(name: str) -> None:
    """Remove ``name`` (tests)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> Architecture:
    """The architecture ``name``; unknown names are a one-line ConfigError listing the known."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown architecture {name!r} (known: {', '.join(names())})"
                          ) from None


def resolve(label: str) -> tuple[Architecture, int | None]:
    """The architecture and the hidden width of a run's ``{arch}`` component: a registered
    name (width None: the configured one) or ``{name}-w{width}``; else a one-line
    ConfigError."""
    from nqsgen.paths import split_arch_label

    if label in _REGISTRY:
        return _REGISTRY[label], None
    name, width = split_arch_label(label)
    return get(name), width


def names() -> tuple[str, ...]:
    """The registered names, built-ins first (in registration order)."""
    return tuple(_REGISTRY)


def builtin_names() -> tuple[str, ...]:
    """The built-in names (what the workflow schema lists)."""
    return tuple(a.name for a in _REGISTRY.values()
                 if a.module in BUILTIN_MODULES)


for _module in BUILTIN_MODULES:
    importlib.import_module(_module)
