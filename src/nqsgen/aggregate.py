"""Aggregation of training (and VMC) runs into the tables behind the figures (DESIGN §3.5).

Input: the ``metrics.parquet`` files of one experiment's runs (one row each, written by
:mod:`nqsgen.train`; ``overlap`` is the test overlap) and, for J2 sweeps with VMC, the
``results/vmc/{cluster}/J2={j2}/seed={seed}/metrics.parquet`` files of the VMC stage (column
``overlap``; cluster, J2 and seed are taken from the path).  Output tables (parquet):

``points`` — ``results/tables/{experiment}.parquet``, one row per point of the experiment
(:data:`POINT_COLUMNS`): ``source`` (``train`` or ``vmc``), the point's ``cluster``,
``lattice``, ``n_sites``, ``dimension`` (K), ``j2``, ``target`` (``sign``/``amplitude``;
``state`` for VMC), ``arch`` (``sr`` for VMC), ``eps_train`` (NaN for VMC),
``expressibility``; then over its runs (seeds) ``n``, ``mean``, ``se`` (std/√n, ddof 1; NaN for
n = 1), ``std``, ``min``, ``max`` of the overlap; ``overlap_method`` (``exact``,
``monte_carlo`` or ``mixed``), ``mc_se_mean`` (mean Monte-Carlo SE of the runs' own overlap
estimates, 0 when exact), ``train_unique_mean``, ``epochs_mean``, ``wall_time_s_mean``.

``critical`` — ``results/tables/{experiment}.critical.parquet`` (εtrain sweeps), one row per
(cluster, J2, target, arch) (:data:`CRITICAL_COLUMNS`): the logistic fit of
:func:`nqsgen.statistics.critical_fraction` (``eps_c`` with its bootstrap interval
``eps_c_low``/``eps_c_high``, ``log10_eps_c``/``log10_eps_c_se``, ``width``, ``lower``,
``upper``, ``step``, the grid points around the switch ``bracket_low``/``bracket_high``,
``in_range``, ``defined``, ``message``), and the critical training-set size
``n_c = eps_c·K`` (draws) with ``n_c_low``/``n_c_high``.

``transitions`` — ``results/tables/{experiment}.transitions.parquet`` (J2 sweeps), one row per
curve (source, cluster, target, arch, εtrain; expressibility runs excluded)
(:data:`TRANSITION_COLUMNS`): :func:`nqsgen.statistics.locate_transition` (``j2_c`` with its
bootstrap interval and grid interval, ``drop``, ``drop_se``, ``slope``, ``agreement``,
``defined``, ``significant`` = drop > 2 drop_se) plus the configured frustrated region of
the lattice and whether ``j2_c`` lies in it (``inside_region``).
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nqsgen.errors import StorageError
from nqsgen.statistics import SUMMARY_COLUMNS, critical_fraction, locate_transition, summarize

#: Identifying columns of a point (and of a run, with ``seed``).
KEY_COLUMNS = ("source", "cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch",
               "eps_train", "expressibility")
POINT_COLUMNS = ("experiment", *KEY_COLUMNS, *SUMMARY_COLUMNS, "overlap_method", "mc_se_mean",
                 "train_unique_mean", "epochs_mean", "wall_time_s_mean")
CRITICAL_COLUMNS = ("experiment", "cluster", "lattice", "n_sites", "dimension", "j2", "target",
                    "arch", "eps_c", "eps_c_low", "eps_c_high", "log10_eps_c",
                    "log10_eps_c_se", "width", "lower", "upper", "step", "bracket_low",
                    "bracket_high", "in_range", "defined",
                    "n_c", "n_c_low", "n_c_high", "n_points", "n_runs", "n_boot",
                    "boot_success", "message")
TRANSITION_COLUMNS = ("experiment", "source", "cluster", "lattice", "target", "arch",
                      "eps_train", "j2_c", "j2_c_low", "j2_c_high", "j2_left", "j2_right",
                      "drop", "drop_se", "slope", "agreement", "n_points", "n_runs", "defined",
                      "significant", "message", "region_low", "region_high", "inside_region")
#: Run columns read from the training metrics (the rest is left in the files).
RUN_COLUMNS = ("cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch",
               "eps_train", "seed", "expressibility", "overlap", "overlap_se",
               "overlap_method", "train_unique", "epochs", "wall_time_s")
_VMC_PATH = re.compile(r"(?:^|/)vmc/(?P<cluster>[^/]+)/J2=(?P<j2>[^/]+)/seed=(?P<seed>\d+)/")


def _read_parquet_files(paths: Iterable[str], columns=None) -> pd.DataFrame:
    tables = []
    for path in paths:
        try:
            table = pq.read_table(path, columns=columns)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StorageError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        if table.num_rows != 1:
            raise StorageError(f"{path} has {table.num_rows} rows, expected one run")
        tables.append(table.to_pandas())
    if not tables:
        return pd.DataFrame(columns=list(columns or ()))
    return pd.concat(tables, ignore_index=True)


def read_train_runs(paths: Iterable[str]) -> pd.DataFrame:
    """The training runs of ``paths`` (metrics.parquet files), one row each, ``source=train``."""
    runs = _read_parquet_files(list(paths), columns=list(RUN_COLUMNS))
    runs["source"] = "train"
    return runs


def read_vmc_runs(paths: Iterable[str], clusters: Mapping[str, Mapping] | None = None
                  ) -> pd.DataFrame:
    """VMC runs: column ``overlap`` of each file; cluster, J2 and seed from the path
    ``.../vmc/{cluster}/J2={j2}/seed={seed}/metrics.parquet``.  ``clusters`` maps a cluster
    name to its ``lattice``, ``n_sites`` and ``dimension`` (filled in when the file lacks
    them)."""
    rows = []
    for path in paths:
        match = _VMC_PATH.search(str(path).replace(os.sep, "/"))
        if match is None:
            raise StorageError(f"{path} is not a results/vmc/{{cluster}}/J2={{j2}}/"
                               "seed={seed}/metrics.parquet file")
        frame = _read_parquet_files([path])
        if "overlap" not in frame.columns:
            raise StorageError(f"{path} has no column 'overlap'")
        info = dict((clusters or {}).get(match["cluster"], {}))
        row = {"cluster": match["cluster"], "j2": float(match["j2"]),
               "seed": int(match["seed"]), "overlap": float(frame["overlap"].iloc[0])}
        for key in ("lattice", "n_sites", "dimension"):
            row[key] = frame[key].iloc[0] if key in frame.columns else info.get(key)
        for key in ("overlap_se", "wall_time_s", "epochs"):
            row[key] = float(frame[key].iloc[0]) if key in frame.columns else math.nan
        rows.append(row)
    runs = pd.DataFrame(rows)
    if runs.empty:
        return runs
    runs["source"] = "vmc"
    runs["target"] = "state"
    runs["arch"] = "sr"
    runs["eps_train"] = math.nan
    runs["expressibility"] = False
    runs["overlap_method"] = "exact"
    runs["train_unique"] = math.nan
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
    by = [c for c in KEY_COLUMNS if c != "eps_train"] + ["eps_key"]
    stats = summarize(runs, by)
    extra = runs.groupby(by, sort=True, dropna=False).agg(
        overlap_method=("overlap_method", _method),
        mc_se_mean=("overlap_se", "mean"),
        train_unique_mean=("train_unique", "mean"),
        epochs_mean=("epochs", "mean"),
        wall_time_s_mean=("wall_time_s", "mean"),
    ).reset_index()
    table = stats.merge(extra, on=by, how="left")
    table["eps_train"] = table.pop("eps_key").replace(-1.0, math.nan)
    table["experiment"] = experiment
    table = table.sort_values(["source", "cluster", "target", "arch", "expressibility",
                               "eps_train", "j2"], kind="stable", ignore_index=True)
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
                   n_c_high=row["eps_c_high"] * dim)
        rows.append(row)
    if not rows:
        return _empty(CRITICAL_COLUMNS)
    return pd.DataFrame(rows)[list(CRITICAL_COLUMNS)]


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


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` as parquet to ``path`` atomically (temporary sibling, then rename)."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
