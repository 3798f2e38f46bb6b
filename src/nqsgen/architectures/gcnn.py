"""``gcnn``: a group-equivariant CNN over the cluster's full space group (translations × the
point group the supercell allows, as :meth:`nqsgen.clusters.Cluster.symmetry_group` generates
it: tilted clusters and kagome included), optionally times spin inversion
(``gcnn_group: space+inversion``), with its output projected on the ground state's sector.

Group action (as :mod:`nqsgen.symmetry.group`): element g moves the spin on site i to site
perm_g[i] and, if it contains the inversion, flips every spin; the product gh is "first h,
then g".  Layers (C = ``channels``, G the group, features indexed by group elements):

* lifting: h1(g) = act(Σ_j W_j (g⁻¹·σ)_j + b), i.e. the filter W (C × N) applied to the
  configuration seen from every element; so h1(g; k·σ) = h1(k⁻¹g; σ);
* group convolution: h2(g) = act(Σ_u K(u) h1(gu) + b) over all u ∈ G (a full kernel), again
  h2(g; k·σ) = h2(k⁻¹g; σ) — computed as one (G·C) × (G·C) matrix gathered from K when it has
  at most 2²⁵ entries, else as a gather of the features;
* a linear head f(g) = w·h2(g) + c, then the projection on the sector χ:

  - target ``sign``: logit ℓ(σ) = (1/|G|) Σ_g χ(g) f(g; σ), so ℓ(k·σ) = χ(k) ℓ(σ) and the
    predicted sign obeys sign(k·σ) = χ(k)·sign(σ) for every k (up to floating-point rounding
    of the sum: states with |ℓ| at the rounding level may disagree; states fixed by an
    element with χ = −1 have ℓ = 0 exactly in exact arithmetic and ψ = 0 in the sector);
  - target ``amplitude``: log|ψ|(σ) = (1/|G|) Σ_g f(g; σ), invariant (|χ| = 1);

  together ψ = sign · e^{log|ψ|} obeys ψ(k·σ) = χ(k) ψ(σ), the paper's ground-state symmetry.

The sector χ (a one-dimensional real representation, χ(g) = ±1) is read from the ground state
the run learns (the :class:`~nqsgen.architectures.Context`): ψ(g·s)/ψ(s) on a fixed probe of
512 |ψ|²-draws (its own generator, seed 0: the run's seed streams are untouched) must be the
same ±1 for every probe state; a ground state that is in no such sector (a degenerate level,
a complex momentum, a higher-dimensional representation) is a one-line ConfigError.  The
characters are stored as a frozen parameter ``chi`` (not trained, not counted in
``n_parameters``), so that ensembles of members of different J2 — different sectors — stack
and compact correctly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nqsgen.architectures import ACTIVATIONS, register
from nqsgen.errors import ConfigError

MATRIX_ENTRIES = 1 << 25   # largest (G·C)² of the matrix form of the group convolution
PROBE_DRAWS = 512
RATIO_TOLERANCE = 1e-6


def space_group(cluster, inversion: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(perms, flips)``: the space group's permutations (G, N), identity first, and for each
    element whether it inverts the spins (the spatial elements, then them times inversion)."""
    spatial = np.asarray(cluster.symmetry_group(), dtype=np.int64)
    if not inversion:
        return spatial, np.zeros(len(spatial), dtype=bool)
    return (np.concatenate([spatial, spatial]),
            np.repeat(np.array([False, True]), len(spatial)))


def product_table(perms: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """``table[a, b]`` = index of the product ab ("first b, then a"); checked exactly."""
    g, n = perms.shape
    weights = np.random.default_rng(12345).integers(1, 2**62, n, dtype=np.int64)
    keys = perms @ weights * 2 + flips  # a hash of (perm, flip); wraps around, exact check below
    order = np.argsort(keys, kind="stable")
    table = np.empty((g, g), dtype=np.int64)
    for a in range(g):
        products = perms[a][perms]  # row b: first b, then a
        k = products @ weights * 2 + (flips[a] ^ flips)
        pos = np.searchsorted(keys[order], k)
        idx = order[np.minimum(pos, g - 1)]
        if not (np.array_equal(perms[idx], products) and np.array_equal(flips[idx],
                                                                         flips[a] ^ flips)):
            raise ConfigError("G-CNN: the symmetry elements are not closed under composition")
        table[a] = idx
    return table


def apply(states: np.ndarray, perm: np.ndarray, flip: bool, n_sites: int) -> np.ndarray:
    """g·s of uint64 basis states: bit i moves to bit perm[i], then all N bits flip if g
    inverts the spins."""
    states = np.ascontiguousarray(states, dtype=np.uint64)
    bits = (states[:, None] >> np.arange(n_sites, dtype=np.uint64)) & np.uint64(1)
    out = np.bitwise_or.reduce(bits << perm.astype(np.uint64), axis=1)
    if flip:
        out ^= np.uint64((1 << n_sites) - 1)
    return out


def sector_characters(perms: np.ndarray, flips: np.ndarray, ground_state,
                      name: str = "cluster") -> np.ndarray:
    """χ(g) ∈ {±1} of the ground state (module docstring), or ConfigError."""
    n = perms.shape[1]
    states = np.unique(ground_state.sample_states(PROBE_DRAWS, np.random.default_rng(0)))
    psi = ground_state.amplitude(states)
    keep = np.abs(psi) > 1e-3 * np.abs(psi).max()
    states, psi = states[keep], psi[keep]
    chars = np.ones(len(perms))
    for g in range(1, len(perms)):
        ratio = ground_state.amplitude(apply(states, perms[g], flips[g], n)) / psi
        c = 1.0 if ratio[0] > 0 else -1.0
        worst = float(np.abs(ratio - c).max())
        if worst > RATIO_TOLERANCE:
            raise ConfigError(
                f"{name}: the ground state is in no one-dimensional sector of the space group "
                f"(psi(g.s)/psi(s) differs from ±1 by {worst:.2g} for group element {g}: a "
                "degenerate level or a higher-dimensional or complex representation); the "
                "G-CNN projects on one — use another --arch")
        chars[g] = c
    return chars


def memory_bytes(cluster, channels: int, inversion: bool, members: int = 1,
                 batch: int = 128) -> int:
    """Training memory of ``members`` G-CNNs beyond their examples (for job requests): the
    (G·C)² convolution matrix of every member, its gradient and a temporary, plus the shared
    index (matrix form); or the gathered features of a batch (feature form)."""
    g = len(cluster.symmetry_group()) * (2 if inversion else 1)
    entries = (g * channels) ** 2
    if entries <= MATRIX_ENTRIES:
        return 4 * entries * (3 * members + 1)
    return 3 * 4 * batch * g * g * channels * members


class GroupCNN(nn.Module):
    """The G-CNN of the module docstring: σ (B, N) → logit or log|ψ| (B,)."""

    def __init__(self, cluster, characters, channels: int, activation=nn.ReLU,
                 dropout: float = 0.0, target: str = "sign", inversion: bool = False):
        super().__init__()
        perms, flips = space_group(cluster, inversion)
        g, n = perms.shape
        if g == 1:
            raise ConfigError(f"{cluster.name}: no symmetry group (the G-CNN needs translations "
                              "or point operations)")
        table = product_table(perms, flips)
        chars = np.asarray(characters, dtype=np.float64)
        if chars.shape != (g,) or not np.isin(chars, (-1.0, 1.0)).all() or not np.array_equal(
                chars[table], chars[:, None] * chars[None, :]):
            raise ConfigError(f"{cluster.name}: the G-CNN characters are no one-dimensional "
                              f"real representation of the {g}-element group")
        self.n_sites, self.order, self.channels, self.target = n, g, channels, target
        self.inference_batch = max(64, (1 << 21) // (g * channels))
        c = channels
        inverse = np.argmax(table == 0, axis=1)  # g⁻¹
        perm_inv = np.argsort(perms, axis=1)     # perm_inv[g, i] = j with perm_g[j] = i
        # lifting as one (N, G·C) matrix: L[i, (g, c)] = s_g W[c, perm_g⁻¹[i]]
        lift = np.arange(c)[None, None, :] * n + perm_inv.T[:, :, None]
        self.register_buffer("lift_index", torch.as_tensor(lift.reshape(-1)))
        self.register_buffer("lift_sign", torch.as_tensor(
            np.repeat(np.where(flips, -1.0, 1.0), c), dtype=torch.float32))
        self.matrix = (g * c) ** 2 <= MATRIX_ENTRIES
        if self.matrix:
            # M[(h, c), (g, c')] = K[c', g⁻¹h, c]
            u = table[inverse][:, :]  # u[g, h] = g⁻¹h
            idx = (np.arange(c)[None, None, None, :] * (g * c)
                   + u.T[:, None, :, None] * c + np.arange(c)[None, :, None, None])
            self.register_buffer("conv_index", torch.as_tensor(idx.reshape(-1),
                                                               dtype=torch.int32))
        else:
            self.register_buffer("conv_index", torch.as_tensor(table.reshape(-1)))
        self.embed = nn.Linear(n, c)
        self.conv = nn.Linear(g * c, c)
        self.head = nn.Linear(c, 1)
        self.act1, self.act2 = activation(), activation()
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.chi = nn.Parameter(torch.as_tensor(chars, dtype=torch.float32),
                                requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g, c = self.order, self.channels
        lift = self.embed.weight.reshape(-1)[self.lift_index].view(self.n_sites, g * c)
        h = x @ (lift * self.lift_sign.to(lift.dtype)) + self.embed.bias.repeat(g)
        h = self.drop(self.act1(h))                                   # (B, G·C)
        if self.matrix:
            m = self.conv.weight.reshape(-1).index_select(0, self.conv_index)
            h = h @ m.view(g * c, g * c) + self.conv.bias.repeat(g)
        else:
            patches = h.view(-1, g, c).index_select(1, self.conv_index)
            h = self.conv(patches.reshape(-1, g, g * c)).reshape(-1, g * c)
        h = self.drop(self.act2(h)).view(-1, g, c)
        f = self.head(h).squeeze(-1)                                  # (B, G)
        if self.target == "sign":
            return (f * self.chi.detach().to(f.dtype)).mean(dim=-1)
        return f.mean(dim=-1)


def build(config, cluster, context) -> GroupCNN:
    inversion = config.gcnn_group == "space+inversion"
    perms, flips = space_group(cluster, inversion)
    if len(perms) == 1:
        raise ConfigError(f"{cluster.name}: no symmetry group (the G-CNN needs translations "
                          "or point operations)")
    if context is not None and context.characters is not None:
        chars = context.characters
    elif context is not None and context.target == "amplitude":
        chars = np.ones(len(perms))
    elif context is not None and context.ground_state is not None:
        chars = sector_characters(perms, flips, context.ground_state, cluster.name)
    else:
        raise ConfigError("gcnn: the sign network needs the ground state's sector (build it "
                          "with the ground state or its characters)")
    target = context.target if context is not None else "sign"
    return GroupCNN(cluster, chars, config.channels, ACTIVATIONS[config.activation],
                    config.dropout, target, inversion)


register("gcnn", build, "space-group CNN projected on the ground state's sector (channels, "
         "gcnn_group)", capacity="channels")
