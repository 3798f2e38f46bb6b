"""The paper's figures from the aggregated tables (:mod:`nqsgen.aggregate`), as vector PDFs.

One function per kind of experiment, each returning a matplotlib ``Figure`` (object-oriented
API only: no pyplot, no display), drawn in the style of :mod:`nqsgen.plotting.style`:

* :func:`clusters_figure` — Fig. 1: the clusters (J1 solid, J2 dashed);
* :func:`j2_sweep_figure` — Figs. 2 and 4 (and their 30-site versions): overlap vs J2/J1, one
  panel per cluster, one curve per (target, architecture), expressibility (εtrain = 1) dashed,
  the Marshall-sign baseline grey dotted,
  frustrated regions shaded, the located transition marked (▼ with its grid/bootstrap
  interval), points whose ground state is degenerate (or not the ground state) ringed; a
  second row of panels with the VMC (SR) overlap when the table has VMC points
  (Fig. 2 d–f);
* :func:`eps_sweep_figure` — Fig. 3: overlap vs εtrain (log axis), one curve per J2, the fitted
  logistic as a thin line and the critical εtrain marked (▼ with its bootstrap interval),
  degenerate ground states ringed as in Fig. 2;
* :func:`capacity_figure` — beyond the paper: overlap vs the networks' hidden width (log
  axis), one panel per (cluster, target), one curve per (J2, architecture), learned
  (εtrain) solid and expressibility (εtrain = 1) dashed, degenerate ground states ringed;
* :func:`scaling_figure` — Fig. 5: critical training-set size vs K (log–log), in draws εc·K
  and in distinct states, with the bootstrap intervals, unbracketed εc flagged (open markers)
  and the fitted power law n_c ∝ K^b; works with a single cluster.

Every point is the mean over seeds with its standard error as error bar.  :func:`save_pdf`
writes a figure atomically (no creation date, so reruns give identical files).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from nqsgen.plotting import style as S

__all__ = ["clusters_figure", "j2_sweep_figure", "eps_sweep_figure", "scaling_figure",
           "capacity_figure", "save_pdf", "panel_label"]


@contextmanager
def _styled():
    import matplotlib

    with matplotlib.rc_context(S.RC):
        yield


def _figure(n_rows: int, n_cols: int, width: float = S.PANEL_WIDTH,
            height: float = S.PANEL_HEIGHT, legend: float = 0.0, **kwargs):
    """Figure of n_rows × n_cols panels of width × height inches, plus ``legend`` inches on
    the right for a figure legend."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_cols + legend, height * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, **kwargs)
    return fig, axes


def panel_label(ax, index: int) -> None:
    """Bold panel letter a, b, c, ... as the axes' left-aligned title."""
    ax.set_title("abcdefghijklmnopqrstuvwxyz"[index % 26], loc="left", fontweight="bold",
                 fontsize=9)


def _shade(ax, region: Sequence[float] | None) -> None:
    if region is not None and len(region) == 2:
        ax.axvspan(float(region[0]), float(region[1]), **S.REGION)


def _errorbar(ax, x, y, se, style: dict, **kwargs):
    se = np.where(np.isfinite(se), se, 0.0)
    return ax.errorbar(x, y, yerr=se, color=style["color"], marker=style.get("marker", "o"),
                       label=style.get("label"), **kwargs)


DEGENERATE_COLOR = "crimson"
DEGENERATE_LABEL = "degenerate ground state\n(sign structure not unique)"


def _flag_degenerate(ax, points: pd.DataFrame, x: str) -> None:
    """Ring the points whose ground state is degenerate or not the ground state
    (``ground_state_degenerate`` of the points table, :mod:`nqsgen.tables`)."""
    if "ground_state_degenerate" not in points or points.empty:
        return
    flagged = points[[v is not None and not pd.isna(v) and bool(v)
                      for v in points["ground_state_degenerate"]]]
    if not flagged.empty:
        ax.plot(flagged[x], flagged["mean"], linestyle="none", marker="o", ms=8, mfc="none",
                mec=DEGENERATE_COLOR, mew=1.0, zorder=5, label=DEGENERATE_LABEL)


def _empty_note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=7,
            color="0.4", wrap=True)


def _mark(ax, x: float, lo: float, hi: float, color: str) -> None:
    """▼ at the top of the axes at x, with a horizontal bar from lo to hi."""
    from matplotlib.transforms import blended_transform_factory

    if not math.isfinite(x):
        return
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    lo = x if not math.isfinite(lo) else min(lo, x)
    hi = x if not math.isfinite(hi) else max(hi, x)
    ax.plot([lo, hi], [0.955, 0.955], color=color, lw=0.9, transform=trans, clip_on=False,
            solid_capstyle="butt")
    ax.plot([x], [0.955], marker="v", ms=4.5, color=color, transform=trans, clip_on=False,
            linestyle="none")


def _cluster_title(points: pd.DataFrame, cluster: str) -> str:
    """'kagome, N = 24' (plus the cluster's name when it is not simply kagome_24)."""
    row = points[points["cluster"] == cluster].iloc[0]
    title = f"{row['lattice']}, N = {int(row['n_sites'])}"
    if cluster != f"{row['lattice']}_{int(row['n_sites'])}":
        title += f" ({cluster})"
    return title


def _overlap_limits(ax, values) -> None:
    """Overlap axis from just below the lowest point to 1, with a band above 1 for the ▼
    markers of :func:`_mark`."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    low = min(-0.05, float(values.min()) - 0.05) if values.size else -0.05
    low = max(low, -1.05)
    ax.set_ylim(low, 1.0 + 0.14 * (1.0 - low))
    ticks = [t for t in (-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0) if t >= low]
    ax.set_yticks(ticks)


def _j2_limits(ax, j2) -> None:
    """J2 axis over the data (± 4 %), so that a shaded region beyond it does not widen it."""
    lo, hi = float(np.min(j2)), float(np.max(j2))
    pad = 0.04 * (hi - lo) if hi > lo else 0.1
    ax.set_xlim(lo - pad, hi + pad)


def _legend(fig, axes, title=None, extra=()) -> None:
    """One legend for the whole figure, outside on the right: the labelled artists of
    ``axes`` (first occurrence of each label) plus ``extra`` (handle, label) pairs."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    for handle, label in extra:
        seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside right upper", title=title,
                   title_fontsize=6.5)


# ----------------------------------------------------------------------------- Fig. 1
def clusters_figure(clusters: Sequence) -> object:
    """One panel per :class:`nqsgen.clusters.Cluster` (Fig. 1)."""
    from nqsgen.plotting.clusters import cluster_title, plot_cluster

    with _styled():
        n = len(clusters)
        fig, axes = _figure(1, n, width=3.0, height=3.2)
        for i, (ax, cluster) in enumerate(zip(axes[0], clusters, strict=True)):
            plot_cluster(ax, cluster, labels=cluster.n_sites <= 36, legend=(i == n - 1),
                         title=False)
            # the panel letter leads the (two-line, centred) title: a separate left-aligned
            # letter would collide with it above these narrow equal-aspect panels
            letter = "abcdefghijklmnopqrstuvwxyz"[i % 26]
            ax.set_title(rf"$\mathbf{{{letter}}}$   " + cluster_title(cluster), fontsize=6.5)
    return fig


# ----------------------------------------------------------------------------- Figs. 2, 4
def j2_sweep_figure(points: pd.DataFrame, transitions: pd.DataFrame | None = None,
                    regions: Mapping[str, Sequence[float]] | None = None,
                    clusters: Sequence[str] | None = None,
                    correlation: pd.DataFrame | None = None) -> object:
    """Overlap vs J2/J1 per cluster (columns); with VMC points a second row (Fig. 2 d–f) and
    a third: the supervised overlap against the SR overlap per J2 point, with Spearman's ρ of
    the ``correlation`` table."""
    regions = regions or {}
    transitions = transitions if transitions is not None else pd.DataFrame()
    train = points[points["source"] == "train"]
    vmc = points[points["source"] == "vmc"]
    clusters = list(clusters or dict.fromkeys(points["cluster"]))
    n_rows = 3 if not vmc.empty else 1
    with _styled():
        fig, axes = _figure(n_rows, max(len(clusters), 1), legend=S.LEGEND_WIDTH, sharex="col")
        curves = train[~train["expressibility"].astype(bool)]
        several_targets = curves["target"].nunique() > 1
        several_archs = curves["arch"].nunique() > 1
        for col, cluster in enumerate(clusters):
            ax = axes[0][col]
            sel = train[train["cluster"] == cluster]
            lattice = sel["lattice"].iloc[0] if not sel.empty else None
            _shade(ax, regions.get(lattice))
            plotted = []
            for (target, arch), curve in sel.groupby(["target", "arch"], sort=False):
                st = S.curve_style(target, arch, several_targets, several_archs)
                fit = curve[~curve["expressibility"].astype(bool)].sort_values("j2")
                expr = curve[curve["expressibility"].astype(bool)].sort_values("j2")
                if not fit.empty:
                    _errorbar(ax, fit["j2"], fit["mean"], fit["se"], st, zorder=3)
                    plotted.extend(fit["mean"])
                if not expr.empty:
                    _errorbar(ax, expr["j2"], expr["mean"], expr["se"],
                              {**st, "label": None, "marker": None}, linestyle="--",
                              lw=0.9, zorder=2)
                    plotted.extend(expr["mean"])
                _flag_degenerate(ax, curve, "j2")
                if not transitions.empty:
                    tr = transitions[(transitions["source"] == "train")
                                     & (transitions["cluster"] == cluster)
                                     & (transitions["target"] == target)
                                     & (transitions["arch"] == arch)
                                     & transitions["defined"].astype(bool)
                                     & transitions["significant"].astype(bool)]
                    for _, t in tr.iterrows():
                        _mark(ax, t["j2_c"], np.nanmin([t["j2_left"], t["j2_c_low"]]),
                              np.nanmax([t["j2_right"], t["j2_c_high"]]), st["color"])
            plotted.extend(_baselines(ax, points, cluster))
            if sel.empty:
                _empty_note(ax, f"no runs for {cluster}")
            else:
                ax.set_title(_cluster_title(sel, cluster))
                _j2_limits(ax, sel["j2"])
            _overlap_limits(ax, plotted)
            ax.set_ylabel(S.OVERLAP_LABEL if col == 0 else "")
            panel_label(ax, col)
            if n_rows == 1:
                ax.set_xlabel(S.J2_LABEL)
        if n_rows == 3:
            st = S.arch_style("sr")
            for col, cluster in enumerate(clusters):
                ax = axes[1][col]
                sel = vmc[vmc["cluster"] == cluster].sort_values("j2")
                lattice = (points.loc[points["cluster"] == cluster, "lattice"].iloc[0]
                           if (points["cluster"] == cluster).any() else None)
                _shade(ax, regions.get(lattice))
                if sel.empty:
                    _empty_note(ax, f"no VMC runs for {cluster}")
                else:
                    _errorbar(ax, sel["j2"], sel["mean"], sel["se"], st, zorder=3)
                    _flag_degenerate(ax, sel, "j2")
                    _j2_limits(ax, sel["j2"])
                _overlap_limits(ax, sel["mean"])
                ax.set_xlabel(S.J2_LABEL)
                ax.set_ylabel("overlap after SR" if col == 0 else "")
                panel_label(ax, len(clusters) + col)
                _correlation_panel(axes[2][col], curves, vmc, cluster, correlation,
                                   several_targets, several_archs)
                panel_label(axes[2][col], 2 * len(clusters) + col)
        _legend(fig, axes.ravel(), title=_eps_title(train), extra=_j2_legend_extra(train))
    return fig


BASELINE_STYLE = {"marshall": {"color": "0.45", "marker": "s", "label": "Marshall sign rule",
                                 "linestyle": ":"}}


def _baselines(ax, points: pd.DataFrame, cluster: str) -> list:
    """The sign baselines of ``cluster`` (grey dotted), returning their values."""
    values = []
    for name, st in BASELINE_STYLE.items():
        sel = points[(points["source"] == name) & (points["cluster"] == cluster)]
        sel = sel.sort_values("j2")
        if sel.empty:
            continue
        ax.plot(sel["j2"], sel["mean"], color=st["color"], marker=st["marker"], ms=2.5,
                lw=0.8, linestyle=st["linestyle"], label=st["label"], zorder=2)
        values.extend(sel["mean"])
    return values


def _correlation_panel(ax, curves, vmc, cluster, correlation, several_targets,
                       several_archs) -> None:
    """Supervised test overlap (y) against the SR overlap (x) at each J2 of ``cluster``."""
    sr = vmc[vmc["cluster"] == cluster][["j2", "mean", "se"]]
    sel = curves[curves["cluster"] == cluster].merge(sr, on="j2", suffixes=("", "_sr"))
    for (target, arch), pairs in sel.groupby(["target", "arch"], sort=False):
        st = S.curve_style(target, arch, several_targets, several_archs)
        ax.errorbar(pairs["mean_sr"], pairs["mean"], xerr=pairs["se_sr"].fillna(0),
                    yerr=pairs["se"].fillna(0), color=st["color"], marker=st["marker"],
                    linestyle="none", zorder=3)
        rho = _rho(correlation, cluster, target, arch)
        if rho is not None:
            ax.plot([], [], color=st["color"], marker=st["marker"], linestyle="none",
                    label=rf"$\rho$ = {rho[0]:.2f} [{rho[1]:.2f}, {rho[2]:.2f}]")
    if sel.empty:
        _empty_note(ax, "no supervised and SR points at the same J2")
    else:
        ax.legend(loc="lower right", fontsize=5.5)
    ax.set_xlabel("overlap after SR")
    ax.set_ylabel("supervised test overlap" if ax.get_subplotspec().colspan.start == 0
                  else "")


def _rho(correlation, cluster, target, arch):
    if correlation is None or correlation.empty:
        return None
    sel = correlation[(correlation["cluster"] == cluster) & (correlation["target"] == target)
                      & (correlation["arch"] == arch)]
    if sel.empty or not np.isfinite(sel["rho"].iloc[0]):
        return None
    row = sel.iloc[0]
    return row["rho"], row["rho_low"], row["rho_high"]


def _j2_legend_extra(train: pd.DataFrame) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    extra = []
    if train["expressibility"].astype(bool).any():
        extra.append((Line2D([], [], color="0.3", linestyle="--", lw=0.9),
                      r"expressibility ($\varepsilon_\mathrm{train}$ = 1)"))
    extra.append((Patch(**{k: v for k, v in S.REGION.items() if k != "zorder"}),
                  "frustrated region"))
    extra.append((Line2D([], [], color="0.3", marker="v", linestyle="-", lw=0.9, ms=4.5),
                  "steepest loss (interval)"))
    return extra


def _eps_title(train: pd.DataFrame) -> str | None:
    eps = train.loc[~train["expressibility"].astype(bool), "eps_train"].dropna().unique()
    return (r"$\varepsilon_\mathrm{train}$ = " + f"{eps[0]:g}") if len(eps) == 1 else None


# ----------------------------------------------------------------------------- Fig. 3
def eps_sweep_figure(points: pd.DataFrame, critical: pd.DataFrame | None = None,
                     regions: Mapping[str, Sequence[float]] | None = None) -> object:
    """Overlap vs εtrain (log axis), one panel per (cluster, target, arch), one curve per J2."""
    regions = regions or {}
    critical = critical if critical is not None else pd.DataFrame()
    train = points[(points["source"] == "train") & ~points["expressibility"].astype(bool)]
    panels = list(dict.fromkeys(zip(train["cluster"], train["target"], train["arch"],
                                    strict=True)))
    with _styled():
        fig, axes = _figure(1, max(len(panels), 1), width=2.6, height=2.3,
                            legend=S.LEGEND_WIDTH)
        if not panels:
            _empty_note(axes[0][0], "no runs")
        for col, (cluster, target, arch) in enumerate(panels):
            ax = axes[0][col]
            sel = train[(train["cluster"] == cluster) & (train["target"] == target)
                        & (train["arch"] == arch)]
            lattice = sel["lattice"].iloc[0]
            region = regions.get(lattice)
            for k, (j2, curve) in enumerate(sel.groupby("j2", sort=True)):
                curve = curve.sort_values("eps_train")
                color = S.SEQUENCE[k % len(S.SEQUENCE)]
                frustrated = region is not None and region[0] <= j2 <= region[1]
                label = f"{j2:g}" + (" (frustrated)" if frustrated else "")
                _errorbar(ax, curve["eps_train"], curve["mean"], curve["se"],
                          {"color": color, "marker": "o", "label": label}, zorder=3)
                _flag_degenerate(ax, curve, "eps_train")
                fit = _critical_row(critical, cluster, j2, target, arch)
                if fit is not None and math.isfinite(fit["log10_eps_c"]):
                    x = np.linspace(np.log10(curve["eps_train"].min()),
                                    np.log10(curve["eps_train"].max()), 200)
                    y = fit["lower"] + fit["step"] / (
                        1 + np.exp(-np.clip((x - fit["log10_eps_c"]) / fit["width"], -500,
                                            500)))
                    ax.plot(10**x, y, color=color, lw=0.6, alpha=0.7, zorder=2)
                    if bool(fit["defined"]):
                        _mark(ax, fit["eps_c"], fit["eps_c_low"], fit["eps_c_high"], color)
            ax.set_xscale("log")
            ax.set_xlabel(S.EPS_LABEL)
            ax.set_ylabel(S.OVERLAP_LABEL if col == 0 else "")
            ax.set_title(f"{_cluster_title(sel, cluster)}\n{target}, "
                         f"{S.arch_style(arch)['label']}")
            _overlap_limits(ax, sel["mean"])
            panel_label(ax, col)
        from matplotlib.lines import Line2D

        _legend(fig, axes[0], title=r"$J_2/J_1$", extra=[
            (Line2D([], [], color="0.3", lw=0.6), "logistic fit"),
            (Line2D([], [], color="0.3", marker="v", lw=0.9, ms=4.5),
             r"$\varepsilon_c$ (95 % CI)")])
    return fig


# ----------------------------------------------------------------------------- capacity
ARCH_MARKERS = ("o", "s", "^", "D", "v", "P")


def capacity_figure(points: pd.DataFrame,
                    regions: Mapping[str, Sequence[float]] | None = None) -> object:
    """Overlap vs hidden width (log axis), one panel per (cluster, target), one curve per
    (J2, arch): learned at εtrain solid, expressibility (εtrain = 1) dashed, mean ± SE over
    seeds.  Where the dashed curve is high and the solid one low, the network of that width can
    express the sign structure but does not generalise to it from the sample."""
    from matplotlib.lines import Line2D

    regions = regions or {}
    train = points[(points["source"] == "train") & points["width"].notna()]
    panels = list(dict.fromkeys(zip(train["cluster"], train["target"], strict=True)))
    archs = list(dict.fromkeys(train["arch"]))
    with _styled():
        fig, axes = _figure(1, max(len(panels), 1), width=2.6, height=2.3,
                            legend=S.LEGEND_WIDTH)
        if not panels:
            _empty_note(axes[0][0], "no runs")
        for col, (cluster, target) in enumerate(panels):
            ax = axes[0][col]
            sel = train[(train["cluster"] == cluster) & (train["target"] == target)]
            region = regions.get(sel["lattice"].iloc[0])
            for k, (j2, by_j2) in enumerate(sel.groupby("j2", sort=True)):
                color = S.SEQUENCE[k % len(S.SEQUENCE)]
                frustrated = region is not None and region[0] <= j2 <= region[1]
                for arch, curve in by_j2.groupby("arch", sort=False):
                    marker = ARCH_MARKERS[archs.index(arch) % len(ARCH_MARKERS)]
                    for express, line in curve.groupby("expressibility", sort=True):
                        line = line.sort_values("width")
                        label = None if express else (
                            f"{j2:g}" + (" (frustrated)" if frustrated else "")
                            + (f", {S.arch_style(arch)['label']}" if len(archs) > 1 else ""))
                        _errorbar(ax, line["width"].astype(float), line["mean"], line["se"],
                                  {"color": color, "marker": marker, "label": label},
                                  linestyle="--" if express else "-",
                                  mfc="none" if express else color, zorder=3)
                        _flag_degenerate(ax, line, "width")
            ax.set_xscale("log", base=2)
            ax.set_xlabel("hidden width")
            ax.set_ylabel(S.OVERLAP_LABEL if col == 0 else "")
            eps = sel.loc[~sel["expressibility"].astype(bool), "eps_train"].dropna().unique()
            ax.set_title(f"{_cluster_title(sel, cluster)}\n{target}"
                         + (r", $\varepsilon_\mathrm{train}$ = " + f"{eps[0]:g}"
                            if len(eps) == 1 else ""))
            _overlap_limits(ax, sel["mean"])
            panel_label(ax, col)
        _legend(fig, axes[0], title=r"$J_2/J_1$", extra=[
            (Line2D([], [], color="0.3", lw=1.0), r"learned ($\varepsilon_\mathrm{train}$)"),
            (Line2D([], [], color="0.3", lw=1.0, ls="--", marker="o", mfc="none"),
             r"expressibility ($\varepsilon_\mathrm{train}$ = 1)")])
    return fig


def _critical_row(critical: pd.DataFrame, cluster, j2, target, arch):
    if critical.empty:
        return None
    sel = critical[(critical["cluster"] == cluster) & np.isclose(critical["j2"], j2)
                   & (critical["target"] == target) & (critical["arch"] == arch)]
    return None if sel.empty else sel.iloc[0]


# ----------------------------------------------------------------------------- Fig. 5
SCALING_PANELS = (("n_c", "draws", r"critical training-set size $\varepsilon_c K$ (draws)"),
                  ("n_c_unique", "unique", r"critical size in distinct states"))


def scaling_figure(critical: pd.DataFrame, scaling: pd.DataFrame | None = None) -> object:
    """Critical training-set size vs the Hilbert-space dimension K (log–log), one series per
    (J2, target, arch): (a) in draws, εc·K; (b) in distinct states.  Error bars are the
    bootstrap intervals; open markers flag a critical εtrain the grid does not bracket; the
    fitted power law n_c ∝ K^b of the ``scaling`` table is drawn with b in the legend."""
    with _styled():
        fig, axes = _figure(1, 2, width=3.0, height=2.6)
        ok = critical[critical["defined"].astype(bool)] if not critical.empty else critical
        for index, (ax, (column, kind, ylabel)) in enumerate(zip(axes[0], SCALING_PANELS,
                                                                 strict=True)):
            panel_label(ax, index)
            _scaling_panel(ax, ok, scaling, column, kind)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(r"Hilbert-space dimension $K$")
            ax.set_ylabel(ylabel)
            if ok.empty or not np.isfinite(ok[column].astype(float)).any():
                _empty_note(ax, "no critical εtrain could be determined\n(see the .critical "
                            "table)")
            else:
                _scaling_reference(ax, ok, column)
                ax.legend(loc="upper left", fontsize=5.5)
    return fig


def _scaling_panel(ax, ok: pd.DataFrame, scaling, column: str, kind: str) -> None:
    several = (not ok.empty) and (ok["target"].nunique() > 1 or ok["arch"].nunique() > 1)
    groups = ok.groupby(["j2", "target", "arch"], sort=True) if not ok.empty else []
    for k, ((j2, target, arch), series) in enumerate(groups):
        series = series.sort_values("dimension")
        color = S.SEQUENCE[k % len(S.SEQUENCE)]
        label = r"$J_2/J_1$ = " + f"{j2:g}"
        if several:
            label += f" ({target}, {S.arch_style(arch)['label']})"
        fit = _scaling_fit(scaling, j2, target, arch, kind)
        if fit is not None:
            label += f": $b$ = {fit[0]:.2f} ± {fit[1]:.2f}"
        y = series[column].astype(float)
        lo, hi = series[f"{column}_low"].astype(float), series[f"{column}_high"].astype(float)
        yerr = np.vstack([y - lo, hi - y])
        bracketed = series["bracketed"].astype(bool).to_numpy()
        ax.errorbar(series["dimension"], y, yerr=np.where(np.isfinite(yerr),
                                                          np.maximum(yerr, 0), 0),
                    color=color, marker="none", linestyle="none", zorder=3)
        ax.plot(series["dimension"][bracketed], y[bracketed], "o", color=color, label=label,
                zorder=4)
        if (~bracketed).any():
            ax.plot(series["dimension"][~bracketed], y[~bracketed], "o", mfc="white",
                    color=color, zorder=4, label="εc not bracketed by the grid")
        if fit is not None:
            xs = np.geomspace(series["dimension"].min(), series["dimension"].max(), 20)
            ax.plot(xs, 10 ** (fit[2] + fit[0] * np.log10(xs)), color=color, lw=0.7,
                    zorder=2)
        largest = series["dimension"].max()
        for _, row in series.iterrows():
            last = row["dimension"] == largest and len(series) > 1
            ax.annotate(f"N = {int(row['n_sites'])}", (row["dimension"], row[column]),
                        xytext=(-4 if last else 4, -8), textcoords="offset points",
                        fontsize=5.5, color="0.35", ha="right" if last else "left")


def _scaling_fit(scaling, j2, target, arch, kind: str):
    """(b, se, intercept) of the series in the ``scaling`` table, or None."""
    if scaling is None or scaling.empty:
        return None
    sel = scaling[np.isclose(scaling["j2"], j2) & (scaling["target"] == target)
                  & (scaling["arch"] == arch)]
    if sel.empty:
        return None
    row = sel.iloc[0]
    prefix = "" if kind == "draws" else "unique_"
    b, se = float(row[f"{prefix}exponent"]), float(row[f"{prefix}exponent_se"])
    return (b, se, float(row[f"{prefix}intercept"])) if math.isfinite(b) else None


def _scaling_reference(ax, ok: pd.DataFrame, column: str) -> None:
    """A fixed fraction of the basis (n_c ∝ K) through the smallest cluster's points."""
    k = ok["dimension"].astype(float)
    n = ok[column].astype(float)
    lo_k, hi_k = k.min() / 3, k.max() * 3
    ax.set_xlim(lo_k, hi_k)
    first = ok[(ok["dimension"] == k.min()) & np.isfinite(n)]
    if first.empty:
        return
    ref = float(np.exp(np.mean(np.log(first[column].astype(float)))))
    xs = np.array([lo_k, hi_k])
    ax.plot(xs, ref * xs / float(k.min()), color="0.5", lw=0.7, linestyle=":",
            label=r"$\propto K$ (fixed $\varepsilon_c$)", zorder=1)
    finite = n[np.isfinite(n)]
    ax.set_ylim(max(finite.min() / 10, 0.5), max(finite.max(), ref * hi_k / k.min()) * 3)


# ----------------------------------------------------------------------------- output
def save_pdf(fig, path: str | os.PathLike) -> None:
    """Write ``fig`` as a vector PDF to ``path`` atomically (:mod:`nqsgen.publish`), without a
    creation date (reruns give identical files)."""
    from nqsgen.publish import atomic_path

    with atomic_path(path) as tmp, _styled():
        fig.savefig(tmp, format="pdf", metadata={"CreationDate": None})
