"""Aggregated tables (nqsgen.tables) and the figures drawn from them
(nqsgen.plotting.figures), on synthetic runs whose answers are known."""

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
from nqsgen.plotting import figures as F
from nqsgen.statistics import logistic
from nqsgen.tables import (
    CRITICAL_COLUMNS,
    POINT_COLUMNS,
    SCALING_COLUMNS,
    TRANSITION_COLUMNS,
    critical_table,
    points_table,
    read_train_runs,
    read_vmc_runs,
    scaling_table,
    transitions_table,
    write_table,
)

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


# ----------------------------------------------------------------------------- tables
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


# ----------------------------------------------------------------------------- figures
def _axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_j2_sweep_figure_panels_errorbars_regions_markers(j2_runs):
    points = points_table(j2_runs, "fig2")
    transitions = transitions_table(j2_runs, "fig2", REGIONS, n_boot=50)
    fig = F.j2_sweep_figure(points, transitions, REGIONS, clusters=["square_24", "kagome_24"])
    axes = _axes(fig)
    assert len(axes) == 2                                  # one row: no VMC points
    for ax, lattice in zip(axes, ("square", "kagome"), strict=True):
        assert ax.get_title(loc="left") in ("a", "b")
        assert lattice in ax.get_title()
        # one error-bar container per curve: 2 archs × (εtrain 0.01 + expressibility)
        assert len(ax.containers) == 4
        spans = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.88,) * 3)]
        assert len(spans) == 1
        span = spans[0]
        x0 = span.get_x() if hasattr(span, "get_x") else span.get_xy()[0][0]
        assert x0 == pytest.approx(REGIONS[lattice][0])
        markers = [ln for ln in ax.lines if ln.get_marker() == "v"]
        assert len(markers) == 2 and all(ln.get_xdata()[0] == pytest.approx(0.55)
                                         for ln in markers)
        assert ax.get_xlim()[1] < 1.1                       # shading does not widen the axis
    assert fig.legends and "expressibility" in " ".join(
        t.get_text() for t in fig.legends[0].get_texts())


def test_j2_sweep_figure_adds_vmc_row(j2_runs):
    vmc = j2_runs[~j2_runs["expressibility"] & (j2_runs["arch"] == "cnn")].copy()
    vmc["source"], vmc["target"], vmc["arch"], vmc["eps_train"] = "vmc", "state", "sr", math.nan
    points = points_table(pd.concat([j2_runs, vmc], ignore_index=True), "fig2")
    fig = F.j2_sweep_figure(points, None, REGIONS)
    axes = _axes(fig)
    assert len(axes) == 4
    assert [ax.get_title(loc="left") for ax in axes] == ["a", "b", "c", "d"]
    assert axes[2].get_ylabel() == "overlap after SR"


def test_eps_sweep_figure_log_axis_fits_and_critical_markers(eps_runs):
    runs, truth = eps_runs
    runs = runs[runs["cluster"] == "square_24"]
    points = points_table(runs, "fig3")
    critical = critical_table(runs, "fig3", n_boot=50)
    fig = F.eps_sweep_figure(points, critical, REGIONS)
    (ax,) = _axes(fig)
    assert ax.get_xscale() == "log"
    assert len(ax.containers) == 2                         # J2 = 0 and 0.5
    markers = [ln for ln in ax.lines if ln.get_marker() == "v"]
    assert sorted(round(math.log10(ln.get_xdata()[0]), 1) for ln in markers) == [-2.5, -2.0]
    fits = [ln for ln in ax.lines if len(ln.get_xdata()) == 200]
    assert len(fits) == 2
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "0.5 (frustrated)" in labels and "0" in labels


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
    caption = CaptionTable(str(path))
    assert caption.scaling() == "" and repr(caption) == f"CaptionTable({str(path)!r})"
    write_table(scaling_table(critical_table(scaling_runs(0.3), "fig5", n_boot=30), "fig5"),
                path, schemas.SCALING)
    text = caption.scaling()
    assert text.startswith("J2/J1 = 0.5 (sign, dense2): n_c ∝ K^b with b = 0.")
    assert "in distinct states" in text and "while K grows ×1.21e+04" in text


@pytest.mark.parametrize("clusters", [["square_16", "square_24"], ["square_24"], []])
def test_scaling_figure_with_several_one_or_no_clusters(eps_runs, clusters):
    runs, _ = eps_runs
    critical = critical_table(runs[runs["cluster"].isin(clusters)], "fig5", n_boot=30)
    fig = F.scaling_figure(critical, scaling_table(critical, "fig5"))
    axes = _axes(fig)
    assert len(axes) == 2  # draws and distinct states
    for ax in axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        plotted = sum(len(c[0].get_xdata()) for c in ax.containers)
        assert plotted == len(critical[critical["defined"]]) if clusters else plotted == 0
        if not clusters:
            assert any("no critical" in t.get_text() for t in ax.texts)
    if len(clusters) == 2:
        labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
        assert any("$b$ =" in label for label in labels)  # the fitted exponent


def test_scaling_figure_marks_unbracketed_points_open():
    critical = critical_table(scaling_runs(0.3), "fig5", n_boot=30)
    critical.loc[critical["cluster"] == "square_30", "bracketed"] = False
    fig = F.scaling_figure(critical, scaling_table(critical, "fig5"))
    ax = _axes(fig)[0]
    open_markers = [ln for ln in ax.lines if ln.get_markerfacecolor() == "white"]
    assert len(open_markers) == 1 and len(open_markers[0].get_xdata()) == 1
    assert "not bracketed" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


def test_clusters_figure_and_save_pdf_are_reproducible(tmp_path):
    from nqsgen.clusters import get_cluster

    fig = F.clusters_figure([get_cluster("square_10"), get_cluster("kagome_12")])
    assert len(_axes(fig)) == 2
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    F.save_pdf(fig, first)
    F.save_pdf(F.clusters_figure([get_cluster("square_10"), get_cluster("kagome_12")]), second)
    data = first.read_bytes()
    assert data.startswith(b"%PDF") and b"/Subtype /Image" not in data
    assert data == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "b.pdf"]
