"""``cnn``: two periodic convolution layers over the cluster's lattice, global mean pooling over
the cells, then a linear map channels → 1 (the paper's CNN; details in :mod:`nqsgen.models`).
Equivariant under the cluster's translations, the pooled output invariant."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from nqsgen.architectures import ACTIVATIONS, register


def kernel_translations(cluster, radius: float) -> np.ndarray:
    """Indices k of the translations (rows of ``cluster.translations``) in the CNN stencil.

    A translation by the cell vector t is in the stencil when its shortest periodic image
    t + n1·L1 + n2·L2 has cartesian length ≤ ``radius`` · |a1|.  Sorted by that length, then k;
    the identity (k = 0) comes first.
    """
    vectors = cluster.lattice.vectors
    images = np.array(list(itertools.product(range(-2, 3), repeat=2))) @ cluster.supercell
    shifted = cluster.translation_vectors[:, None, :] + images[None, :, :]
    lengths = np.linalg.norm(shifted @ vectors, axis=-1).min(axis=1)
    cutoff = radius * np.linalg.norm(vectors[0]) + 1e-9
    chosen = np.nonzero(lengths <= cutoff)[0]
    return chosen[np.lexsort((chosen, np.round(lengths[chosen], 9)))]


def cell_tables(cluster) -> tuple[np.ndarray, np.ndarray]:
    """``(site_of, cell_of)``: ``site_of[c, s]`` is the site of sublattice s in cell c, where
    cell c is the image of cell 0 under translation c; ``cell_of[i]`` the cell of site i."""
    first = np.nonzero((cluster.cells == cluster.cells[0]).all(axis=1))[0]
    first = first[np.argsort(cluster.sublattice[first])]
    site_of = cluster.translations[:, first]  # (n_cells, n_sub)
    cell_of = np.empty(cluster.n_sites, dtype=np.int64)
    cell_of[site_of] = np.arange(cluster.n_cells)[:, None]
    return site_of, cell_of


def neighbour_table(cluster, radius: float) -> np.ndarray:
    """``table[c, j]``: the cell reached from cell c by the j-th stencil translation."""
    site_of, cell_of = cell_tables(cluster)
    ks = kernel_translations(cluster, radius)
    return cell_of[cluster.translations[ks][:, site_of[:, 0]]].T.copy()  # (n_cells, D)


class PeriodicConv(nn.Module):
    """Convolution over the cells of a periodic cluster, channels last: (B, n_cells, C_in) →
    (B, n_cells, C_out), y[c] = b + Σ_j W_j · x[table[c, j]] (a gather, then one matmul)."""

    def __init__(self, table: np.ndarray, c_in: int, c_out: int):
        super().__init__()
        self.n_cells, self.width = table.shape[0], table.shape[1] * c_in
        self.register_buffer("flat", torch.as_tensor(table.reshape(-1), dtype=torch.long))
        self.linear = nn.Linear(self.width, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # index_select (much faster than advanced indexing): (B, n_cells·D, C_in) → patches
        patches = x.index_select(1, self.flat).view(x.shape[0], self.n_cells, self.width)
        return self.linear(patches)


class LatticeCNN(nn.Module):
    """Two periodic convolutions, global mean pooling over cells, linear → 1 (translation
    invariant).  The input σ (B, N) is regrouped into cells × sublattice channels."""

    inference_batch = 512  # CPU inference batch: the patches stay in cache

    def __init__(self, cluster, channels: int, radius: float, activation=nn.ReLU,
                 dropout: float = 0.0):
        super().__init__()
        site_of, _ = cell_tables(cluster)
        table = neighbour_table(cluster, radius)
        self.shape = site_of.shape
        self.register_buffer("sites", torch.as_tensor(site_of.reshape(-1), dtype=torch.long))
        self.conv1 = PeriodicConv(table, site_of.shape[1], channels)
        self.conv2 = PeriodicConv(table, channels, channels)
        self.act1, self.act2 = activation(), activation()
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.index_select(1, self.sites).view(x.shape[0], *self.shape)  # (B, cells, n_sub)
        h = self.drop(self.act1(self.conv1(h)))
        h = self.drop(self.act2(self.conv2(h)))
        return self.head(h.mean(dim=1)).squeeze(-1)


def build(config, cluster, context=None) -> LatticeCNN:
    return LatticeCNN(cluster, config.channels, config.kernel_radius,
                      ACTIVATIONS[config.activation], config.dropout)


register("cnn", build, "periodic CNN over the lattice (channels, kernel_radius)",
         capacity="channels")
