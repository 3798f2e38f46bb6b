"""Aggregated tables (nqsgen.tables) on synthetic runs whose answers are known."""

from __future__ import annotations

import math
from math import comb

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nqsgen import schemas
from nqsgen.errors import StorageError
from nqsgen.tables import (
    CRITICAL_COLUMNS,
    POINT_COLUMNS,
    SCALING_COLUMNS,
    TRANSITION_COLUMNS,
    correlation_table,
    critical_table,
    points_table,
    read_train_runs,
    read_vmc_runs,
    scaling_table,
    transitions_table,
    write_table,
)
from tests.synthetic_runs import K24, REGIONS, scaling_runs


def test_points_table_mean_se_n(j2_runs):
    table = points_table(j2_runs, "fig2")
    assert tuple(table.columns) == POINT_COLUMNS
    # 2 clusters × 11 J2 × 2 archs × (εtrain 0.01 and expressibility)
    assert len(table) == 88 and (table["n"] == 3).all()
    row = table[(table["cluster"] == "kagome_24") & (table["j2"] == 0.3)
                & (table["arch"] == "cnn") & ~table["expressibility"]].iloc[0]
    values = j2_runs[(j2_runs["cluster"] == "kagome_24") & (j2_runs["j2"] == 0.3)
                     & (j2_runs["arch"] == "cnn") & ~j2_runs["expressibility"]]["overlap"]
    assert row["mean"] == pytest.approx(values.mean())
    assert row["se"] == pytest.approx(values.std(ddof=1) / math.sqrt(3))
    assert row["std"] == pytest.approx(values.std(ddof=1))
    assert row["dimension"] == K24 and row["overlap_method"] == "exact"
    assert (table["experiment"] == "fig2").all()


def test_transitions_table_finds_the_collapse_and_region(j2_runs):
    table = transitions_table(j2_runs, "fig2", REGIONS, n_boot=100)
    assert tuple(table.columns) == TRANSITION_COLUMNS
    assert len(table) == 4                       # 2 clusters × 2 archs, expressibility excluded
    assert np.allclose(table["j2_c"], 0.55)
    assert (table["j2_left"] == 0.5).all() and (table["j2_right"] == 0.6).all()
    assert table["defined"].all() and table["significant"].all()
    kagome = table[table["cluster"] == "kagome_24"]
    assert (kagome["region_low"] == 0.51).all() and kagome["inside_region"].all()
    square = table[table["cluster"] == "square_24"]
    assert square["inside_region"].all()         # 0.55 in [0.4, 0.6]


def test_critical_table_recovers_the_switches(eps_runs):
    runs, truth = eps_runs
    table = critical_table(runs, "fig5", n_boot=100)
    assert tuple(table.columns) == CRITICAL_COLUMNS
    assert len(table) == 3 and table["defined"].all()
    for row in table.itertuples():
        x0 = truth[(row.cluster, row.j2)]
        assert row.log10_eps_c == pytest.approx(x0, abs=0.1)
        assert row.eps_c_low < 10**x0 < row.eps_c_high
        assert row.n_c == pytest.approx(row.eps_c * row.dimension)


def test_read_runs_from_files_and_vmc_paths(tmp_path, j2_runs):
    paths = []
    for i, (_, r) in enumerate(j2_runs.head(3).iterrows()):
        path = tmp_path / f"train/run{i}/metrics.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(pd.DataFrame([r.drop("source")]),
                                            preserve_index=False), path)
        paths.append(str(path))
    runs = read_train_runs(paths)
    assert len(runs) == 3 and (runs["source"] == "train").all()
    assert runs["overlap"].tolist() == pytest.approx(j2_runs.head(3)["overlap"].tolist())

    vmc_paths = []
    for seed, overlap in enumerate((0.9, 0.8)):  # the columns the VMC stage writes
        path = tmp_path / f"anywhere/seed{seed}/metrics.parquet"
        path.parent.mkdir(parents=True)
        row = {"cluster": "kagome_24", "lattice": "kagome", "n_sites": 24, "dimension": K24,
               "j2": 0.5, "seed": seed, "sampler": "metropolis", "overlap": overlap,
               "wall_time_s": 1.0}
        pq.write_table(schemas.table([row], schemas.VMC_METRICS), path)
        vmc_paths.append(str(path))
    vmc = read_vmc_runs(vmc_paths)
    assert list(vmc["seed"]) == [0, 1] and (vmc["j2"] == 0.5).all()
    assert (vmc["source"] == "vmc").all() and (vmc["lattice"] == "kagome").all()
    points = points_table(vmc, "fig2")
    assert len(points) == 1 and points["mean"].iloc[0] == pytest.approx(0.85)
    assert math.isnan(points["eps_train"].iloc[0]) and points["arch"].iloc[0] == "sr"
    with pytest.raises(StorageError, match=f"cannot read {paths[0]}"):
        read_vmc_runs([paths[0]])  # a training file: no VMC columns


def test_write_table_is_atomic_and_round_trips(tmp_path, j2_runs):
    table = points_table(j2_runs, "fig2")
    path = tmp_path / "tables/fig2.parquet"
    write_table(table, path, schemas.POINTS)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, table)
    assert [p.name for p in path.parent.iterdir()] == ["fig2.parquet"]   # no temporaries


def test_critical_table_counts_unique_states_and_flags_unbracketed_switches(eps_runs):
    runs, truth = eps_runs
    table = critical_table(runs, "fig5", n_boot=50)
    assert tuple(table.columns) == CRITICAL_COLUMNS
    assert table["bracketed"].all()
    for row in table.itertuples():
        # unique = eps·K/2 exactly, a straight line in log-log: the interpolation is exact
        assert row.n_c_unique == pytest.approx(0.5 * row.n_c, rel=1e-9)
        assert row.n_c_unique_low == pytest.approx(0.5 * row.n_c_low, rel=1e-9)
    # a grid that stops below the switch: the switch is not bracketed by grid points
    early = runs[(runs["cluster"] == "square_24") & (runs["j2"] == 0.0)
                 & (runs["eps_train"] < 10 ** -2.6)]
    (row,) = critical_table(early, "fig5", n_boot=20).itertuples()
    assert not row.bracketed


def test_scaling_table_recovers_the_growth_exponent():
    critical = critical_table(scaling_runs(0.3), "fig5", n_boot=60)
    (row,) = scaling_table(critical, "fig5").itertuples()
    assert tuple(scaling_table(critical, "fig5").columns) == SCALING_COLUMNS
    assert row.n_defined == row.n_clusters == 3 and row.all_bracketed
    assert 0 < row.exponent_se < 0.05
    assert abs(row.exponent - 0.3) < 3 * row.exponent_se
    assert row.unique_exponent == pytest.approx(row.exponent, abs=1e-6)  # unique ∝ draws
    k_ratio = comb(30, 15) / comb(16, 8)
    assert row.growth == pytest.approx(k_ratio**0.3, rel=0.15)
    assert row.growth_low < row.growth < row.growth_high


def test_scaling_caption_reads_the_finished_table(tmp_path):
    from nqsgen.tables import CaptionTable

    path = tmp_path / "fig5.scaling.parquet"
    caption = CaptionTable(str(tmp_path / "fig5"))
    assert caption.scaling() == "" and repr(caption) == f"CaptionTable({str(tmp_path / 'fig5')!r})"
    write_table(scaling_table(critical_table(scaling_runs(0.3), "fig5", n_boot=30), "fig5"),
                path, schemas.SCALING)
    text = caption.scaling()
    assert text.startswith("J2/J1 = 0.5 (sign, dense2): n_c ∝ K^b with b = 0.")
    assert "in distinct states" in text and "while K grows ×1.21e+04" in text


def test_correlation_of_supervised_and_sr_overlaps(j2_runs):
    """SR overlaps that follow the supervised ones (ρ = 1 by construction for dense1 of
    square_24: the same curve shifted) and a pooled row over both clusters."""
    sup = j2_runs[~j2_runs["expressibility"]]
    vmc = sup[sup["arch"] == "dense1"].copy()
    vmc["overlap"] = 0.5 * vmc["overlap"] + 0.3
    vmc["source"], vmc["target"], vmc["arch"], vmc["eps_train"] = "vmc", "state", "sr", math.nan
    points = points_table(pd.concat([j2_runs, vmc], ignore_index=True), "fig2")
    table = correlation_table(points, "fig2", n_boot=200)
    assert list(table.columns) == schemas.CORRELATION.names
    assert set(table["cluster"]) == {"square_24", "kagome_24", "pooled"}
    assert len(table) == 6 and (table["n_points"][table["cluster"] != "pooled"] == 11).all()
    row = table[(table["cluster"] == "square_24") & (table["arch"] == "dense1")].iloc[0]
    assert row.rho == pytest.approx(1.0) and row.rho_low == pytest.approx(1.0)
    pooled = table[(table["cluster"] == "pooled") & (table["arch"] == "dense1")].iloc[0]
    assert pooled.n_points == 22 and 0.9 < pooled.rho <= 1.0
    assert correlation_table(points_table(j2_runs, "fig2"), "fig2").empty  # no SR points


def test_rank_correlation_of_known_pairs():
    from nqsgen.statistics import rank_correlation

    x = np.arange(10.0)
    assert rank_correlation(x, x**3).rho == pytest.approx(1.0)
    assert rank_correlation(x, -x).rho == pytest.approx(-1.0)
    # Spearman's ρ of [1, 2, 3, 4] vs [1, 3, 2, 4]: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8
    assert rank_correlation([1, 2, 3, 4], [1, 3, 2, 4], n_boot=0).rho == pytest.approx(0.8)
    assert math.isnan(rank_correlation([1, 2], [2, 1]).rho)  # fewer than three points
