"""Aggregation of training (and VMC) runs into the tables behind the figures (mean and
standard error over seeds, and the fitted quantities of :mod:`nqsgen.statistics`).

Input: the ``metrics.parquet`` files of one experiment's runs (one row each, written by
:mod:`nqsgen.stages.train`; ``overlap`` is the test overlap) and, for J2 sweeps with VMC, the
``metrics.parquet`` files of the VMC stage (:mod:`nqsgen.stages.vmc`, column ``overlap``).
Output tables (parquet; column types, meanings and units in :mod:`nqsgen.schemas`:
``POINTS``, ``CRITICAL``, ``SCALING``, ``TRANSITIONS``, listed in ``docs/outputs.md``):

``points`` — ``results/tables/{experiment}.parquet``, one row per point of the experiment:
``source`` (``train``, ``vmc``, or a sign baseline: ``marshall``), the point's ``cluster``,
``lattice``, ``n_sites``, ``dimension`` (K), ``j2``, ``target`` (``sign``/``amplitude``;
``state`` for VMC), ``arch`` (``sr`` for VMC), ``eps_train`` (NaN for VMC),
``expressibility``, ``width`` (the hidden width of its networks: the architecture's capacity
setting, ``width`` for dense and ``channels`` for cnn/gcnn, :mod:`nqsgen.architectures`; null
for VMC and baselines; a capacity experiment's points differ in it); then over its runs
(seeds) ``n``, ``mean``, ``se`` (std/√n, ddof 1; NaN for n = 1), ``std``, ``min``, ``max`` of
the overlap; ``overlap_method`` (``exact``,
``monte_carlo`` or ``mixed``), ``mc_se_mean`` (mean Monte-Carlo SE of the runs' own overlap
estimates, 0 when exact), ``train_unique_mean``, ``epochs_mean``, ``wall_time_s_mean``; and
from the ``metadata.json`` of the runs' ground state (the metrics' ``ground_state`` column;
null when it cannot be read) ``ground_state_degenerate`` (its sign structure is not unique, or
the stored state is not the ground state), ``ground_state_degeneracy`` and
``ground_state_sector_complete`` (:mod:`nqsgen.stages.ground_state`), which the figures flag.

``critical`` — ``results/tables/{experiment}.critical.parquet`` (εtrain sweeps), one row per
(cluster, J2, target, arch) (:data:`CRITICAL_COLUMNS`): the logistic fit of
:func:`nqsgen.statistics.critical_fraction` (``eps_c`` with its bootstrap interval
``eps_c_low``/``eps_c_high``, ``log10_eps_c``/``log10_eps_c_se``, ``width``, ``lower``,
``upper``, ``step``, the grid points around the switch ``bracket_low``/``bracket_high``,
``in_range``, ``defined``, ``message``), whether the grid has points on both sides of the
switch (``bracketed``: both ``bracket_low`` and ``bracket_high`` exist — a critical εtrain that
is not bracketed is extrapolated and flagged in the figures), and the critical training-set size
``n_c = eps_c·K`` in draws (the paper's εtrain counts draws, with replacement) with
``n_c_low``/``n_c_high``, and in distinct states ``n_c_unique`` (with ``n_c_unique_low`` /
``n_c_unique_high``): the runs' mean ``train_unique`` interpolated log–log in εtrain at
εc (and at the interval's ends; NaN outside the grid).

``scaling`` — ``results/tables/{experiment}.scaling.parquet`` (scaling experiments), one row per
(J2, target, arch) series (:data:`SCALING_COLUMNS`): the growth exponent b of n_c ∝ K^b
(:func:`nqsgen.statistics.growth_exponent`, over the clusters whose εc is ``defined``) with its
SE and interval and the line's ``intercept`` (log10 n_c at K = 1), the same for ``n_c_unique``
(``unique_exponent``...), the smallest and largest
K of the fit and the growth of n_c between them (``growth`` = n_c(K_max)/n_c(K_min), the
paper's "factor of 10" from 24 to 36 spins, with ``growth_low``/``growth_high`` from the
intervals' ends), ``n_clusters`` (clusters in the series), ``n_defined`` (those fitted) and
``all_bracketed``.

``transitions`` — ``results/tables/{experiment}.transitions.parquet`` (J2 sweeps), one row per
curve (source, cluster, target, arch, εtrain; expressibility runs excluded; a baseline's
curve too: where the Marshall sign stops describing the ground state)
(:data:`TRANSITION_COLUMNS`): :func:`nqsgen.statistics.locate_transition` (``j2_c`` with its
bootstrap interval and grid interval, ``drop``, ``drop_se``, ``slope``, ``agreement``,
``defined``, ``significant`` = drop > 2 drop_se) plus the configured frustrated region of
the lattice and whether ``j2_c`` lies in it (``inside_region``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nqsgen import publish, schemas
from nqsgen.errors import StorageError
from nqsgen.statistics import (
    critical_fraction,
    growth_exponent,
    locate_transition,
    rank_correlation,
    summarize,
)

#: Identifying columns of a point (and of a run, with ``seed``).
KEY_COLUMNS = ("source", "cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch",
               "eps_train", "expressibility")
POINT_COLUMNS = tuple(schemas.POINTS.names)
CRITICAL_COLUMNS = tuple(schemas.CRITICAL.names)
SCALING_COLUMNS = tuple(schemas.SCALING.names)
TRANSITION_COLUMNS = tuple(schemas.TRANSITIONS.names)
CORRELATION_COLUMNS = tuple(schemas.CORRELATION.names)
#: Run columns read from the training metrics (the rest is left in the files).
RUN_COLUMNS = ("cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch",
               "eps_train", "seed", "expressibility", "overlap", "overlap_se",
               "overlap_method", "train_unique", "epochs", "wall_time_s")
#: Run columns read where a metrics file has them (the network's size; null otherwise).
OPTIONAL_RUN_COLUMNS = ("width", "channels")
VMC_COLUMNS = ("cluster", "lattice", "n_sites", "dimension", "j2", "seed", "sampler", "overlap",
               "wall_time_s")


def _read_parquet_files(paths: Iterable[str], columns=None) -> pd.DataFrame:
    tables = []
    for path in paths:
        try:
            table = pq.read_table(path, columns=_with_ground_state(path, columns))
        except (OSError, pa.ArrowInvalid) as exc:
            raise StorageError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        if table.num_rows != 1:
            raise StorageError(f"{path} has {table.num_rows} rows, expected one run")
        tables.append(table.to_pandas())
    if not tables:
        return pd.DataFrame(columns=list(columns or ()))
    return pd.concat(tables, ignore_index=True)


def _with_ground_state(path, columns):
    """``columns`` plus ``ground_state`` (the run's ground-state directory) and the
    :data:`OPTIONAL_RUN_COLUMNS` that the file has."""
    if columns is None:
        return columns
    names = pq.read_schema(path).names
    return [*columns, *(c for c in ("ground_state", *OPTIONAL_RUN_COLUMNS)
                        if c in names and c not in columns)]


#: Point columns taken from the ground state's metadata.json: {column: metadata key}.
GROUND_STATE_FLAGS = {"ground_state_degenerate": "degenerate",
                      "ground_state_degeneracy": "degeneracy",
                      "ground_state_sector_complete": "ground_state_sector_complete"}


def ground_state_flags(directory) -> dict:
    """:data:`GROUND_STATE_FLAGS` of one ground-state directory (None where unreadable)."""
    from nqsgen.errors import StorageError
    from nqsgen.storage.metadata import read_metadata

    try:
        record = read_metadata(str(directory))
    except StorageError:
        return dict.fromkeys(GROUND_STATE_FLAGS)
    return {column: getattr(record, key) for column, key in GROUND_STATE_FLAGS.items()}


def _attach_ground_state_flags(runs: pd.DataFrame) -> pd.DataFrame:
    directories = runs["ground_state"] if "ground_state" in runs else pd.Series(
        [None] * len(runs), index=runs.index)
    cache = {d: ground_state_flags(d) for d in directories.dropna().unique()}
    empty = dict.fromkeys(GROUND_STATE_FLAGS)
    for column in GROUND_STATE_FLAGS:
        runs[column] = [cache.get(d, empty)[column] if isinstance(d, str) else None
                        for d in directories]
    return runs


def _any_flag(values: pd.Series):
    known = [bool(v) for v in values if v is not None and not pd.isna(v)]
    return any(known) if known else None


def _all_flag(values: pd.Series):
    known = [bool(v) for v in values if v is not None and not pd.isna(v)]
    return all(known) if known else None


def _max_count(values: pd.Series):
    known = [int(v) for v in values if v is not None and not pd.isna(v)]
    return max(known) if known else None


def read_train_runs(paths: Iterable[str]) -> pd.DataFrame:
    """The training runs of ``paths`` (metrics.parquet files), one row each, ``source=train``."""
    runs = _read_parquet_files(list(paths), columns=list(RUN_COLUMNS))
    runs["source"] = "train"
    runs["width"] = network_widths(runs)
    return runs.drop(columns="channels", errors="ignore")


def network_widths(runs: pd.DataFrame) -> pd.Series:
    """The hidden width of each run's network: its ``width`` or ``channels`` metrics column,
    whichever its architecture's ``capacity`` is (:mod:`nqsgen.architectures`; ``width`` for
    an architecture not registered in this process)."""
    if runs.empty:
        return pd.Series(dtype="float64")
    for column in OPTIONAL_RUN_COLUMNS:
        if column not in runs:
            runs[column] = math.nan
    from nqsgen import architectures

    def capacity(arch: str) -> str:
        try:
            return architectures.get(arch).capacity
        except Exception:  # noqa: BLE001 - a plug-in not loaded here
            return "width"

    fields = runs["arch"].map({a: capacity(a) for a in runs["arch"].unique()})
    return runs["width"].where(fields == "width", runs["channels"]).astype("float64")


def read_vmc_runs(paths: Iterable[str]) -> pd.DataFrame:
    """VMC runs (metrics.parquet files of the VMC stage), one row each: their cluster, J2,
    seed and ``overlap`` (the overlap with the exact ground state after SR), ``source=vmc``."""
    runs = _read_parquet_files(list(paths), columns=list(VMC_COLUMNS))
    if runs.empty:
        return runs
    runs = runs.drop(columns=[c for c in OPTIONAL_RUN_COLUMNS if c in runs])
    runs["width"] = math.nan  # the SR networks' size is not what the points compare
    runs["source"] = "vmc"
    runs["target"] = "state"
    runs["arch"] = "sr"
    runs["eps_train"] = math.nan
    runs["expressibility"] = False
    runs["overlap_method"] = "exact"
    runs["overlap_se"] = 0.0
    runs["train_unique"] = math.nan
    runs["epochs"] = math.nan
    return runs


BASELINE_COLUMNS = ("cluster", "lattice", "n_sites", "dimension", "j2", "baseline", "overlap",
                    "overlap_se", "overlap_method")


def read_baselines(paths: Iterable[str]) -> pd.DataFrame:
    """Sign baselines (:mod:`nqsgen.baselines`, one row per file) as points of their own:
    ``source`` = the baseline (``marshall``), target ``sign``, arch = the baseline."""
    runs = _read_parquet_files(list(paths), columns=list(BASELINE_COLUMNS))
    if runs.empty:
        return runs
    runs["source"] = runs.pop("baseline")
    runs["target"] = "sign"
    runs["arch"] = runs["source"]
    runs["eps_train"] = math.nan
    runs["expressibility"] = False
    runs["seed"] = 0
    runs["train_unique"] = math.nan
    runs["epochs"] = math.nan
    runs["wall_time_s"] = math.nan
    return runs


def _method(values: pd.Series) -> str:
    unique = set(values.dropna())
    return unique.pop() if len(unique) == 1 else ("mixed" if unique else "")


def points_table(runs: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """Mean, SE (std/√n, ddof 1), std, n, min, max of the overlap per point
    (:data:`POINT_COLUMNS`)."""
    if runs.empty:
        return _empty(POINT_COLUMNS)
    runs = runs.copy()
    runs["eps_key"] = runs["eps_train"].fillna(-1.0)   # NaN (VMC) must group, not vanish
    runs["width_key"] = (runs["width"] if "width" in runs else pd.Series(
        math.nan, index=runs.index)).astype("float64").fillna(-1.0)
    by = [c for c in KEY_COLUMNS if c != "eps_train"] + ["eps_key", "width_key"]
    stats = summarize(runs, by)
    runs = _attach_ground_state_flags(runs)
    extra = runs.groupby(by, sort=True, dropna=False).agg(
        overlap_method=("overlap_method", _method),
        mc_se_mean=("overlap_se", "mean"),
        train_unique_mean=("train_unique", "mean"),
        epochs_mean=("epochs", "mean"),
        wall_time_s_mean=("wall_time_s", "mean"),
        ground_state_degenerate=("ground_state_degenerate", _any_flag),
        ground_state_degeneracy=("ground_state_degeneracy", _max_count),
        ground_state_sector_complete=("ground_state_sector_complete", _all_flag),
    ).reset_index()
    for column in GROUND_STATE_FLAGS:  # as parquet reads them back: bool, or None if unknown
        if column == "ground_state_degeneracy":
            extra[column] = pd.to_numeric(extra[column], errors="coerce").astype(float)
            continue
        values = [None if v is None or pd.isna(v) else bool(v) for v in extra[column]]
        extra[column] = pd.Series(values, index=extra.index,
                                  dtype=object if None in values else bool)
    table = stats.merge(extra, on=by, how="left")
    table["eps_train"] = table.pop("eps_key").replace(-1.0, math.nan)
    width = table.pop("width_key")
    table["width"] = pd.array([None if w < 0 else int(w) for w in width], dtype="Int64")
    table["experiment"] = experiment
    table = table.sort_values(["source", "cluster", "target", "arch", "width",
                               "expressibility", "eps_train", "j2"], kind="stable",
                              ignore_index=True)
    return table[list(POINT_COLUMNS)]


def critical_table(runs: pd.DataFrame, experiment: str, n_boot: int = 1000,
                   ci: float = 0.95, min_step: float = 0.25, seed: int = 0) -> pd.DataFrame:
    """Critical εtrain per (cluster, J2, target, arch) of supervised, non-expressibility runs."""
    sweep = runs[(runs["source"] == "train") & ~runs["expressibility"].astype(bool)]
    rows = []
    keys = ["cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch"]
    for key, group in sweep.groupby(keys, sort=True):
        result = asdict(critical_fraction(group["eps_train"], group["overlap"], n_boot=n_boot,
                                          ci=ci, seed=seed, min_step=min_step))
        row = dict(zip(keys, key, strict=True), experiment=experiment, **result)
        dim = float(row["dimension"])
        row.update(n_c=row["eps_c"] * dim, n_c_low=row["eps_c_low"] * dim,
                   n_c_high=row["eps_c_high"] * dim,
                   bracketed=bool(np.isfinite(row["bracket_low"])
                                  and np.isfinite(row["bracket_high"])))
        unique = group.groupby("eps_train")["train_unique"].mean()
        for suffix in ("", "_low", "_high"):
            row[f"n_c_unique{suffix}"] = _loglog_interp(row[f"eps_c{suffix}"], unique)
        rows.append(row)
    if not rows:
        return _empty(CRITICAL_COLUMNS)
    return pd.DataFrame(rows)[list(CRITICAL_COLUMNS)]


def correlation_table(points: pd.DataFrame, experiment: str, n_boot: int = 1000,
                      ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Supervised test overlap vs SR overlap per J2 point (Fig. 2 a–c against d–f): Spearman's
    ρ with its bootstrap interval per (cluster, target, arch, εtrain) and pooled over the
    clusters (``cluster`` = ``pooled``), from a points table (:func:`points_table`).  Empty
    without VMC points."""
    train = points[(points["source"] == "train") & ~points["expressibility"].astype(bool)]
    sr = points[points["source"] == "vmc"][["cluster", "j2", "mean"]].rename(
        columns={"mean": "sr_overlap"})
    pairs = train.merge(sr, on=["cluster", "j2"], how="inner")
    rows = []
    keys = ["target", "arch", "eps_train"]
    for key, group in pairs.groupby(keys, sort=True):
        series = [(c, g["lattice"].iloc[0], g) for c, g in group.groupby("cluster", sort=True)]
        series.append(("pooled", ",".join(sorted(group["lattice"].unique())), group))
        for cluster, lattice, g in series:
            result = rank_correlation(g["mean"], g["sr_overlap"], n_boot=n_boot, ci=ci,
                                      seed=seed)
            rows.append({"experiment": experiment, "cluster": cluster, "lattice": lattice,
                         **dict(zip(keys, key, strict=True)), **asdict(result)})
    if not rows:
        return _empty(CORRELATION_COLUMNS)
    return pd.DataFrame(rows)[list(CORRELATION_COLUMNS)]


def _loglog_interp(x: float, values: pd.Series) -> float:
    """``values`` (indexed by εtrain) interpolated linearly in log–log at ``x``; NaN outside
    the grid or where undefined."""
    values = values[(values.index > 0) & (values > 0)].sort_index()
    if not np.isfinite(x) or x <= 0 or values.empty:
        return math.nan
    grid = np.log10(values.index.to_numpy(dtype=float))
    if not grid[0] <= math.log10(x) <= grid[-1]:
        return math.nan
    return float(10 ** np.interp(math.log10(x), grid, np.log10(values.to_numpy(dtype=float))))


def scaling_table(critical: pd.DataFrame, experiment: str, ci: float = 0.95) -> pd.DataFrame:
    """Growth exponent of the critical training-set size per (J2, target, arch) series
    (:data:`SCALING_COLUMNS`) from the ``critical`` table of a scaling experiment."""
    rows = []
    for (j2, target, arch), series in critical.groupby(["j2", "target", "arch"], sort=True):
        ok = series[series["defined"].astype(bool)].sort_values("dimension")
        draws = growth_exponent(ok["dimension"], ok["n_c"], ok["n_c_low"], ok["n_c_high"], ci)
        unique = growth_exponent(ok["dimension"], ok["n_c_unique"], ok["n_c_unique_low"],
                                 ok["n_c_unique_high"], ci)
        first, last = (ok.iloc[0], ok.iloc[-1]) if len(ok) else (None, None)
        nan = math.nan
        rows.append({
            "experiment": experiment, "j2": j2, "target": target, "arch": arch,
            "exponent": draws.exponent, "exponent_se": draws.exponent_se,
            "exponent_low": draws.exponent_low, "exponent_high": draws.exponent_high,
            "intercept": draws.intercept, "chi2": draws.chi2,
            "unique_exponent": unique.exponent, "unique_intercept": unique.intercept,
            "unique_exponent_se": unique.exponent_se,
            "unique_exponent_low": unique.exponent_low,
            "unique_exponent_high": unique.exponent_high,
            "dimension_min": first["dimension"] if len(ok) else nan,
            "dimension_max": last["dimension"] if len(ok) else nan,
            "n_c_min": first["n_c"] if len(ok) else nan,
            "n_c_max": last["n_c"] if len(ok) else nan,
            "growth": last["n_c"] / first["n_c"] if len(ok) > 1 else nan,
            "growth_low": last["n_c_low"] / first["n_c_high"] if len(ok) > 1 else nan,
            "growth_high": last["n_c_high"] / first["n_c_low"] if len(ok) > 1 else nan,
            "unique_growth": (last["n_c_unique"] / first["n_c_unique"] if len(ok) > 1
                              else nan),
            "n_clusters": int(series["cluster"].nunique()), "n_defined": int(len(ok)),
            "all_bracketed": bool(series["bracketed"].astype(bool).all()),
            "message": draws.message,
        })
    if not rows:
        return _empty(SCALING_COLUMNS)
    return pd.DataFrame(rows)[list(SCALING_COLUMNS)]


def scaling_caption(path: str | os.PathLike) -> str:
    """One sentence per series of a scaling table (for the report caption): the fitted exponent
    and the growth of n_c; empty when the table does not exist yet."""
    if not os.path.exists(path):
        return ""
    parts = []
    for row in pd.read_parquet(path).itertuples():
        if not np.isfinite(row.exponent):
            parts.append(f"J2/J1 = {row.j2:g}: no exponent ({row.message}).")
            continue
        flag = "" if row.all_bracketed else " (not every εc is bracketed by the grid)"
        parts.append(
            f"J2/J1 = {row.j2:g} ({row.target}, {row.arch}): n_c ∝ K^b with "
            f"b = {row.exponent:.2f} ± {row.exponent_se:.2f} in draws and "
            f"{row.unique_exponent:.2f} ± {row.unique_exponent_se:.2f} in distinct states; "
            f"n_c grows ×{row.growth:.3g} [{row.growth_low:.3g}, {row.growth_high:.3g}] "
            f"while K grows ×{row.dimension_max / row.dimension_min:.3g}{flag}.")
    return " ".join(parts)


def capacity_caption(path: str | os.PathLike) -> str:
    """One sentence per (cluster, J2, target, arch) curve of a capacity experiment's points
    (for the report caption): the learned overlap at the smallest and the largest width, the
    best one, and the expressibility at the largest width; empty before the table exists."""
    if not os.path.exists(path):
        return ""
    table = pd.read_parquet(path)
    train = table[(table["source"] == "train") & table["width"].notna()]
    parts = []
    for (cluster, j2, target, arch), curve in train.groupby(
            ["cluster", "j2", "target", "arch"], sort=True):
        learned = curve[~curve["expressibility"].astype(bool)].sort_values("width")
        express = curve[curve["expressibility"].astype(bool)].sort_values("width")
        if learned.empty:
            continue
        first, last = learned.iloc[0], learned.iloc[-1]
        best = learned.loc[learned["mean"].idxmax()]
        text = (f"{cluster}, J2/J1 = {j2:g} ({target}, {arch}): learned overlap "
                f"{first['mean']:.3f} ± {_se(first['se'])} at width {int(first['width'])}, "
                f"{last['mean']:.3f} ± {_se(last['se'])} at {int(last['width'])} (best "
                f"{best['mean']:.3f} at {int(best['width'])})")
        if not express.empty:
            top = express.iloc[-1]
            text += (f"; expressibility {top['mean']:.3f} ± {_se(top['se'])} at width "
                     f"{int(top['width'])}")
        parts.append(text + ".")
    return " ".join(parts)


def _se(value) -> str:
    return f"{value:.3f}" if np.isfinite(value) else "n/a"


def correlation_caption(path: str | os.PathLike) -> str:
    """One sentence per pooled and per-cluster correlation (for the report caption)."""
    if not os.path.exists(path):
        return ""
    table = pd.read_parquet(path)
    parts = []
    for row in table.itertuples():
        if np.isfinite(row.rho):
            parts.append(f"{row.cluster} ({row.target}, {row.arch}): ρ = {row.rho:.2f} "
                         f"[{row.rho_low:.2f}, {row.rho_high:.2f}] over {row.n_points} "
                         "points")
    return ("Spearman's ρ of the supervised and SR overlaps: " + "; ".join(parts) + "."
            if parts else "")


class CaptionTable:
    """An experiment's tables (``prefix`` = results/tables/{experiment}) as a report caption
    reads them: when the report is rendered (``snakemake --report``), not when the workflow
    is planned — a params value of this type is no rerun trigger (Snakemake records only
    built-in values), and its text is read from the finished tables."""

    def __init__(self, prefix: str):
        self.prefix = str(prefix)

    def __repr__(self) -> str:
        return f"CaptionTable({self.prefix!r})"

    def scaling(self) -> str:
        return scaling_caption(f"{self.prefix}.scaling.parquet")

    def correlation(self) -> str:
        return correlation_caption(f"{self.prefix}.correlation.parquet")

    def capacity(self) -> str:
        return capacity_caption(f"{self.prefix}.parquet")


def transitions_table(runs: pd.DataFrame, experiment: str,
                      regions: Mapping[str, Iterable[float]] | None = None,
                      n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Steepest loss of generalisation along J2 per curve (expressibility runs excluded)."""
    curves = runs[~runs["expressibility"].astype(bool)].copy()
    curves["eps_key"] = curves["eps_train"].fillna(-1.0)
    rows = []
    keys = ["source", "cluster", "lattice", "target", "arch", "eps_key"]
    for key, group in curves.groupby(keys, sort=True, dropna=False):
        result = asdict(locate_transition(group["j2"], group["overlap"], n_boot=n_boot, ci=ci,
                                          seed=seed))
        row = dict(zip(keys, key, strict=True), experiment=experiment, **result)
        eps = row.pop("eps_key")
        row["eps_train"] = math.nan if eps == -1.0 else eps
        lo, hi = (regions or {}).get(row["lattice"], (math.nan, math.nan))
        row.update(region_low=float(lo), region_high=float(hi),
                   inside_region=bool(lo <= row["j2_c"] <= hi))
        rows.append(row)
    if not rows:
        return _empty(TRANSITION_COLUMNS)
    return pd.DataFrame(rows)[list(TRANSITION_COLUMNS)]


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


def write_table(frame: pd.DataFrame, path: str | os.PathLike, schema) -> None:
    """Write ``frame`` as parquet with ``schema`` (:mod:`nqsgen.schemas`) to ``path``
    atomically (:mod:`nqsgen.publish`)."""
    with publish.atomic_path(path) as tmp:
        pq.write_table(schemas.frame_table(frame, schema), tmp)
