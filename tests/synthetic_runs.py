"""Synthetic training runs whose answers are known (for the tables and figures tests)."""

from __future__ import annotations

import math
from math import comb

import numpy as np
import pandas as pd
import pytest

from nqsgen.statistics import logistic

REGIONS = {"square": [0.4, 0.6], "triangular": [1.25, 1.5], "kagome": [0.51, 1.82]}


K24 = comb(24, 12)


def run(cluster, j2, target, arch, eps, seed, overlap, expressibility=False, unique=100):
    lattice = cluster.split("_")[0]
    n = int(cluster.split("_")[1])
    return dict(source="train", cluster=cluster, lattice=lattice, n_sites=n,
                dimension=comb(n, n // 2), j2=j2, target=target, arch=arch, eps_train=eps,
                seed=seed, expressibility=expressibility, overlap=overlap, overlap_se=0.0,
                overlap_method="exact", train_unique=unique, epochs=30, wall_time_s=4.0)


def unique_of(eps, dimension):
    """A made-up distinct-state count: half of the draws (a power law in log-log)."""
    return 0.5 * eps * dimension


@pytest.fixture(scope="module")
def j2_runs():
    """Fig. 2-like runs: generalisation collapses at J2 = 0.55 for every architecture."""
    rng = np.random.default_rng(0)
    rows = []
    for cluster in ("square_24", "kagome_24"):
        for j2 in np.round(np.arange(0, 1.01, 0.1), 2):
            for arch in ("dense1", "cnn"):
                for seed in range(3):
                    ordered = j2 < 0.55
                    rows.append(run(cluster, j2, "sign", arch, 0.01, seed,
                                    (0.95 if ordered else 0.2) + rng.normal(0, 0.02)))
                    rows.append(run(cluster, j2, "sign", arch, 1.0, seed,
                                    0.97 + rng.normal(0, 0.01), expressibility=True))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def eps_runs():
    """Fig. 3/5-like sweeps with known switches (log10 εc) per cluster and J2."""
    rng = np.random.default_rng(1)
    truth = {("square_16", 0.0): -1.5, ("square_24", 0.0): -2.5, ("square_24", 0.5): -2.0}
    rows = []
    for (cluster, j2), x0 in truth.items():
        for eps in np.logspace(-4, -0.5, 8):
            for seed in range(4):
                y = logistic(np.log10(eps), 0.0, 0.95, x0, 0.1) + rng.normal(0, 0.02)
                n = int(cluster.split("_")[1])
                rows.append(run(cluster, j2, "sign", "dense2", float(eps), seed, y,
                                unique=unique_of(eps, comb(n, n // 2))))
    return pd.DataFrame(rows), truth


def scaling_runs(exponent, seed=0):
    """εtrain sweeps on three cluster sizes whose critical training-set size grows as
    n_c = 30·(K / K_16)^exponent."""
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in ("square_16", "square_24", "square_30"):
        n = int(cluster.split("_")[1])
        k = comb(n, n // 2)
        x0 = math.log10(30 * (k / comb(16, 8)) ** exponent / k)
        for eps in np.logspace(x0 - 1.5, x0 + 1.5, 9):
            for seed_ in range(4):
                y = logistic(math.log10(eps), 0.0, 0.95, x0, 0.08) + rng.normal(0, 0.01)
                rows.append(run(cluster, 0.5, "sign", "dense2", float(eps), seed_, y,
                                unique=unique_of(eps, k)))
    return pd.DataFrame(rows)
