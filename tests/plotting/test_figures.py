"""The figures (nqsgen.plotting.figures) drawn from tables of synthetic runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nqsgen.plotting import figures as F
from nqsgen.tables import (
    correlation_table,
    critical_table,
    points_table,
    scaling_table,
    transitions_table,
)
from tests.synthetic_runs import REGIONS, scaling_runs


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


def test_j2_sweep_figure_adds_vmc_and_correlation_rows(j2_runs):
    vmc = j2_runs[~j2_runs["expressibility"] & (j2_runs["arch"] == "cnn")].copy()
    vmc["source"], vmc["target"], vmc["arch"], vmc["eps_train"] = "vmc", "state", "sr", math.nan
    points = points_table(pd.concat([j2_runs, vmc], ignore_index=True), "fig2")
    correlation = correlation_table(points, "fig2", n_boot=50)
    fig = F.j2_sweep_figure(points, None, REGIONS, correlation=correlation)
    axes = _axes(fig)
    assert len(axes) == 6  # 2 clusters × (supervised, SR, supervised vs SR)
    assert [ax.get_title(loc="left") for ax in axes] == ["a", "b", "c", "d", "e", "f"]
    assert axes[2].get_ylabel() == "overlap after SR"
    assert axes[4].get_xlabel() == "overlap after SR"
    labels = [t.get_text() for t in axes[4].get_legend().get_texts()]
    assert len(labels) == 2 and all(label.startswith("$\\rho$ = ") for label in labels)


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


def test_j2_sweep_figure_draws_the_marshall_baseline(j2_runs):
    base = j2_runs[(j2_runs["arch"] == "dense1") & (j2_runs["seed"] == 0)
                   & ~j2_runs["expressibility"]].copy()
    base["source"] = base["arch"] = "marshall"
    base["overlap"] = 1.0 - base["j2"]
    points = points_table(pd.concat([j2_runs, base], ignore_index=True), "fig2")
    fig = F.j2_sweep_figure(points, None, REGIONS, clusters=["square_24", "kagome_24"])
    for ax in _axes(fig):
        (line,) = [ln for ln in ax.lines if ln.get_label() == "Marshall sign rule"]
        assert line.get_ydata()[0] == pytest.approx(1.0) and line.get_linestyle() == ":"
    assert "Marshall sign rule" in [t.get_text() for t in fig.legends[0].get_texts()]
