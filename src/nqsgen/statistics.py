"""Statistics of repeated training runs: standard errors, the critical training fraction, its
growth with the Hilbert-space dimension, and the phase-transition locator.

Conventions (used by every table and figure of the workflow):

* **Standard error** of a point = sample standard deviation over its runs (seeds) with
  ``ddof = 1``, divided by √n.  With one run it is NaN (undefined), never 0.
* **Critical εtrain** (the paper's Figs. 3 and 5, "the training fraction where generalisation
  switches on"): a four-parameter logistic in x = log10 εtrain,

      O(x) = lower + step / (1 + exp(-(x - x0) / width)),   step ≥ 0,

  is least-squares fitted to every run of one (cluster, J2, target, architecture) sweep (each
  run is one observation); εc = 10^x0 is the midpoint of the switch.  Its confidence interval
  is a percentile bootstrap: runs are resampled with replacement *within* each εtrain point
  (the design of the experiment: a fixed grid, seeds repeated at every point), the fit repeated,
  and the 2.5 / 97.5 % quantiles of x0 taken.  A fit counts as ``defined`` when it converged,
  the switch is at least ``min_step`` high and x0 lies inside the swept range; otherwise εc is
  reported but flagged (no switch seen, or the switch lies outside the grid).  The bootstrap
  interval is the seed-to-seed spread under the logistic model; for a switch sharper than
  the grid, the grid points around it (``bracket_low``, ``bracket_high``: the last εtrain
  whose mean overlap is below the fitted mid-level and the next one) are the model-free
  bounds.
* **Growth exponent** (Fig. 5, "the critical size of the training dataset ... seems to scale
  relatively slowly with the system size"): a weighted least-squares line
  log10 n_c = a + b·log10 K through the critical training-set sizes n_c = εc·K of the clusters
  of one series (J2, target, architecture); b = d log n_c / d log K (1: a fixed fraction of the
  basis, 0: a fixed number of draws).  Each point's weight is 1/σ², σ the log10 half-width of its
  bootstrap interval divided by the normal quantile of the confidence level (the interval as a
  Gaussian error on log10 n_c).  ``exponent_se`` is the standard error of b from these σ (not
  rescaled by the residuals: with three clusters there is one degree of freedom), the interval
  is b ± z·se, and ``chi2`` of the residuals says whether the straight line is adequate.
* **Rank correlation** (Fig. 2, "a correlation between generalization quality and accuracy of
  the SR method is evident"): Spearman's ρ between two quantities measured at the same points
  (here: the supervised test overlap and the SR overlap, each the mean over seeds at one J2),
  with a percentile bootstrap interval that resamples the points with replacement.  ρ is
  undefined (NaN) with fewer than three points or when either quantity is constant.
* **Phase-transition locator** (Figs. 2 and 4): the J2 of the steepest *loss* of
  generalisation, i.e. of the most negative slope (mean(i+1) − mean(i)) / (J2(i+1) − J2(i))
  of the mean-overlap curve between neighbouring grid points; J2c is the midpoint of that
  interval.  Its uncertainty has two parts, both reported: the grid (the interval's ends) and
  the seeds (a percentile bootstrap resampling runs within each J2 point and locating again;
  ``agreement`` is the fraction of replicas that pick the same interval).  The loss is
  ``significant`` when it exceeds twice its standard error.

Everything is deterministic given ``seed``.  Only numpy, scipy and pandas are used.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = [
    "standard_error",
    "summarize",
    "logistic",
    "fit_logistic",
    "LogisticFit",
    "critical_fraction",
    "CriticalFraction",
    "locate_transition",
    "Transition",
    "growth_exponent",
    "GrowthExponent",
    "rank_correlation",
    "RankCorrelation",
]

#: Quantities :func:`summarize` reports per group, in column order.
SUMMARY_COLUMNS = ("n", "mean", "se", "std", "min", "max")


# ----------------------------------------------------------------------------- SE
def standard_error(values) -> float:
    """std(values, ddof=1) / sqrt(n); NaN for fewer than two finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


def summarize(frame: pd.DataFrame, by: list[str], value: str = "overlap") -> pd.DataFrame:
    """One row per group of ``by``: n, mean, se (std/√n, ddof 1), std (ddof 1), min, max of
    the finite values of column ``value``.  Groups keep the order of their first appearance
    sorted by ``by``."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, *SUMMARY_COLUMNS])
    finite = frame[np.isfinite(frame[value].astype(float))]
    grouped = finite.groupby(by, sort=True, dropna=False)[value]
    out = grouped.agg(n="count", mean="mean", std=lambda s: s.std(ddof=1), min="min",
                      max="max").reset_index()
    out["n"] = out["n"].astype("int64")
    out["se"] = out["std"] / np.sqrt(out["n"])
    out.loc[out["n"] < 2, ["std", "se"]] = math.nan
    return out[[*by, *SUMMARY_COLUMNS]]


# ----------------------------------------------------------------------------- logistic
def logistic(x, lower, step, x0, width):
    """lower + step / (1 + exp(-(x - x0) / width)) (numerically safe for steep switches)."""
    z = np.clip((np.asarray(x, dtype=float) - x0) / width, -500.0, 500.0)
    return lower + step / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class LogisticFit:
    lower: float
    step: float
    x0: float
    width: float
    success: bool
    rss: float
    message: str = ""

    @property
    def upper(self) -> float:
        return self.lower + self.step


def _initial_x0(x_points: np.ndarray, y_points: np.ndarray) -> float:
    """Where the point means first cross the middle between their extremes (or the middle)."""
    lo, hi = float(np.min(y_points)), float(np.max(y_points))
    mid = 0.5 * (lo + hi)
    for i in range(len(x_points) - 1):
        a, b = y_points[i], y_points[i + 1]
        if (a - mid) * (b - mid) <= 0 and a != b:
            return float(x_points[i] + (mid - a) / (b - a) * (x_points[i + 1] - x_points[i]))
    return float(0.5 * (x_points[0] + x_points[-1]))


def fit_logistic(x, y, min_width: float = 0.02, max_width: float = 5.0,
                 x_margin: float = 2.0) -> LogisticFit:
    """Least-squares fit of :func:`logistic` to (x, y) (one entry per observation).

    Bounds: lower ∈ [-1.5, 1.5], step ∈ [0, 3] (the curve can only rise), width ∈
    [min_width, max_width] (in units of x: decades of εtrain) and x0 within ``x_margin`` of the
    data's range.  Needs at least 4 observations at ≥ 3 distinct x; otherwise, or when the
    optimiser fails, ``success`` is False and the parameters are NaN.
    """
    from scipy.optimize import curve_fit

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    nan = LogisticFit(math.nan, math.nan, math.nan, math.nan, False, math.nan)
    xs = np.unique(x)
    if x.size < 4 or xs.size < 3:
        return LogisticFit(**{**asdict(nan), "message": "fewer than 4 runs at 3 εtrain values"})
    y_means = np.array([y[x == v].mean() for v in xs])
    lo0, hi0 = float(y_means.min()), float(y_means.max())
    span = float(xs[-1] - xs[0])
    p0 = [
        min(max(lo0, -1.5), 1.5),
        min(max(hi0 - lo0, 0.0), 3.0),
        _initial_x0(xs, y_means),
        min(max(0.1 * span, min_width), max_width),
    ]
    lower_b = [-1.5, 0.0, xs[0] - x_margin, min_width]
    upper_b = [1.5, 3.0, xs[-1] + x_margin, max_width]
    p0 = [min(max(p, lb + 1e-9), ub - 1e-9) for p, lb, ub in zip(p0, lower_b, upper_b,
                                                                 strict=True)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(logistic, x, y, p0=p0, bounds=(lower_b, upper_b),
                                  method="trf", maxfev=5000)
    except (RuntimeError, ValueError) as exc:
        return LogisticFit(**{**asdict(nan), "message": f"fit failed: {exc}"})
    rss = float(np.sum((logistic(x, *params) - y) ** 2))
    return LogisticFit(*map(float, params), success=True, rss=rss)


@dataclass(frozen=True)
class CriticalFraction:
    """Critical εtrain of one sweep; x = log10 εtrain."""

    eps_c: float              # 10**x0
    eps_c_low: float          # bootstrap CI (level ``ci``)
    eps_c_high: float
    log10_eps_c: float
    log10_eps_c_se: float     # bootstrap standard deviation of x0
    width: float              # logistic width in decades
    lower: float              # plateau below the switch
    upper: float              # plateau above the switch
    step: float               # upper - lower
    bracket_low: float        # grid εtrain values around the switch: the largest whose mean
    bracket_high: float       # overlap is below the fitted mid-level, the next one above it
    in_range: bool            # eps_c within [min εtrain, max εtrain] of the sweep
    defined: bool             # success and step >= min_step and in_range
    n_points: int             # distinct εtrain values
    n_runs: int
    n_boot: int               # bootstrap replicas requested
    boot_success: float       # fraction of replicas whose fit converged
    message: str


def critical_fraction(eps, overlap, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                      min_step: float = 0.25) -> CriticalFraction:
    """Critical training fraction of one sweep from its runs (εtrain and overlap per run)."""
    eps = np.asarray(eps, dtype=float)
    y = np.asarray(overlap, dtype=float)
    keep = np.isfinite(eps) & (eps > 0) & np.isfinite(y)
    x, y = np.log10(eps[keep]), y[keep]
    xs = np.unique(x)
    fit = fit_logistic(x, y)
    base = dict(n_points=int(xs.size), n_runs=int(x.size), n_boot=int(n_boot))
    if not fit.success:
        return CriticalFraction(
            eps_c=math.nan, eps_c_low=math.nan, eps_c_high=math.nan, log10_eps_c=math.nan,
            log10_eps_c_se=math.nan, width=math.nan, lower=math.nan, upper=math.nan,
            step=math.nan, bracket_low=math.nan, bracket_high=math.nan, in_range=False,
            defined=False, boot_success=0.0, message=fit.message, **base)

    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(x == v) for v in xs]
    x0s = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        replica = fit_logistic(x[idx], y[idx])
        if replica.success:
            x0s.append(replica.x0)
    x0s = np.asarray(x0s)
    alpha = (1.0 - ci) / 2.0
    if x0s.size >= 2:
        lo_x, hi_x = np.quantile(x0s, [alpha, 1.0 - alpha])
        se_x = float(np.std(x0s, ddof=1))
    else:
        lo_x = hi_x = se_x = math.nan
    in_range = bool(xs[0] <= fit.x0 <= xs[-1])
    bracket_low, bracket_high = _bracket(xs, np.array([y[g].mean() for g in groups]),
                                         fit.lower + fit.step / 2)
    defined = bool(fit.step >= min_step and in_range)
    if fit.step < min_step:
        message = f"no switch: fitted step {fit.step:.3f} < {min_step}"
    elif not in_range:
        message = "switch outside the swept εtrain range"
    else:
        message = ""
    return CriticalFraction(
        eps_c=float(10.0**fit.x0), eps_c_low=float(10.0**lo_x), eps_c_high=float(10.0**hi_x),
        log10_eps_c=fit.x0, log10_eps_c_se=se_x, width=fit.width, lower=fit.lower,
        upper=fit.upper, step=fit.step, bracket_low=bracket_low, bracket_high=bracket_high,
        in_range=in_range, defined=defined,
        boot_success=float(x0s.size / n_boot) if n_boot else 0.0, message=message, **base)


def _bracket(xs: np.ndarray, means: np.ndarray, level: float) -> tuple[float, float]:
    """εtrain of the grid points around the first crossing of ``level`` by the point means
    (NaN where the means never cross it)."""
    above = np.flatnonzero(means >= level)
    if above.size == 0 or above[0] == 0:
        return math.nan, math.nan
    i = int(above[0])
    return float(10.0 ** xs[i - 1]), float(10.0 ** xs[i])


# ----------------------------------------------------------------------------- locator
@dataclass(frozen=True)
class Transition:
    """Steepest loss of generalisation along J2 for one curve."""

    j2_c: float            # midpoint of the steepest-loss interval
    j2_c_low: float        # bootstrap CI (level ``ci``) of the midpoint over seeds
    j2_c_high: float
    j2_left: float         # the interval's ends: the grid resolution
    j2_right: float
    drop: float            # mean(left) - mean(right) > 0
    drop_se: float         # sqrt(se_left² + se_right²)
    slope: float           # drop / (j2_right - j2_left)
    agreement: float       # fraction of bootstrap replicas choosing the same interval
    n_points: int
    n_runs: int
    defined: bool          # a loss exists (drop > 0) on at least two points
    significant: bool      # drop > 2 drop_se (needs ≥ 2 runs at both ends)
    message: str


def _steepest_drop(xs: np.ndarray, means: np.ndarray) -> int:
    """Index i of the interval [xs[i], xs[i+1]] with the most negative slope (-1 if none)."""
    slopes = np.diff(means) / np.diff(xs)
    if slopes.size == 0 or not np.any(np.isfinite(slopes)):
        return -1
    i = int(np.nanargmin(slopes))
    return i if slopes[i] < 0 else -1


def locate_transition(j2, overlap, n_boot: int = 1000, ci: float = 0.95,
                      seed: int = 0) -> Transition:
    """J2 of the steepest loss of generalisation (the overlap's most negative slope)."""
    j2 = np.asarray(j2, dtype=float)
    y = np.asarray(overlap, dtype=float)
    keep = np.isfinite(j2) & np.isfinite(y)
    j2, y = j2[keep], y[keep]
    xs = np.unique(j2)
    groups = [np.flatnonzero(j2 == v) for v in xs]
    means = np.array([y[g].mean() for g in groups])
    nan = math.nan
    i = _steepest_drop(xs, means) if xs.size >= 2 else -1
    if i < 0:
        return Transition(nan, nan, nan, nan, nan, nan, nan, nan, 0.0, int(xs.size),
                          int(y.size), False, False,
                          "fewer than 2 J2 values" if xs.size < 2 else "no loss: overlap "
                          "never decreases with J2")
    ses = np.array([standard_error(y[g]) for g in groups])
    mids = 0.5 * (xs[:-1] + xs[1:])
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(n_boot):
        boot_means = np.array([y[rng.choice(g, size=g.size, replace=True)].mean()
                               for g in groups])
        k = _steepest_drop(xs, boot_means)
        if k >= 0:
            picks.append(k)
    picks = np.asarray(picks, dtype=int)
    alpha = (1.0 - ci) / 2.0
    if picks.size:
        lo, hi = np.quantile(mids[picks], [alpha, 1.0 - alpha], method="inverted_cdf")
        agreement = float(np.mean(picks == i)) * picks.size / n_boot
    else:
        lo = hi = nan
        agreement = 0.0
    drop = float(means[i] - means[i + 1])
    drop_se = float(math.hypot(ses[i], ses[i + 1]))
    return Transition(
        j2_c=float(mids[i]), j2_c_low=float(lo), j2_c_high=float(hi),
        j2_left=float(xs[i]), j2_right=float(xs[i + 1]), drop=drop,
        drop_se=drop_se, slope=float(drop / (xs[i + 1] - xs[i])), agreement=agreement,
        n_points=int(xs.size), n_runs=int(y.size), defined=True,
        significant=bool(drop > 2.0 * drop_se), message="")


# ----------------------------------------------------------------------------- Fig. 5
@dataclass(frozen=True)
class GrowthExponent:
    """The fitted exponent b of n_c ∝ K^b (see the module docstring)."""

    exponent: float
    exponent_se: float
    exponent_low: float
    exponent_high: float
    intercept: float          # a of log10 n_c = a + b log10 K
    chi2: float               # Σ (residual/σ)² of the fit
    n_points: int
    message: str


def growth_exponent(dimension, n_c, n_c_low, n_c_high, ci: float = 0.95) -> GrowthExponent:
    """Weighted least-squares exponent of n_c ∝ K^b from points (K, n_c) with intervals
    [n_c_low, n_c_high]; points with a missing or non-positive value or interval are left out,
    and a zero-width interval counts as the narrowest finite one."""
    from scipy.stats import norm

    k, n, lo, hi = (np.asarray(v, dtype=float) for v in (dimension, n_c, n_c_low, n_c_high))
    ok = np.isfinite(k) & np.isfinite(n) & np.isfinite(lo) & np.isfinite(hi)
    ok &= (k > 0) & (n > 0) & (lo > 0) & (hi > 0)
    x, y = np.log10(k[ok]), np.log10(n[ok])
    z = float(norm.ppf(0.5 + ci / 2))
    sigma = (np.log10(hi[ok]) - np.log10(lo[ok])) / (2 * z)
    nan = math.nan
    if x.size < 2 or np.unique(x).size < 2:
        return GrowthExponent(nan, nan, nan, nan, nan, nan, int(x.size),
                              "fewer than two clusters with a critical εtrain")
    positive = sigma[sigma > 0]
    sigma = np.where(sigma > 0, sigma, positive.min() if positive.size else 1.0)
    w = 1.0 / sigma**2
    design = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    a, b = cov @ (design.T @ (w * y))
    se = float(math.sqrt(cov[1, 1]))
    chi2 = float(np.sum(w * (y - a - b * x) ** 2))
    return GrowthExponent(float(b), se, float(b - z * se), float(b + z * se), float(a), chi2,
                          int(x.size), "")


# ----------------------------------------------------------------------------- Fig. 2
@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's ρ of paired values with its bootstrap interval (module docstring)."""

    rho: float
    rho_low: float
    rho_high: float
    pearson: float
    n_points: int
    boot_success: float


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(spearmanr(x, y).statistic)


def rank_correlation(x, y, n_boot: int = 1000, ci: float = 0.95,
                     seed: int = 0) -> RankCorrelation:
    """Spearman's ρ of the finite pairs (x, y), a percentile bootstrap interval over pairs,
    and Pearson's r for reference."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    rho = _spearman(x, y)
    pearson = (float(np.corrcoef(x, y)[0, 1]) if math.isfinite(rho) else math.nan)
    rng = np.random.default_rng(seed)
    replicas = []
    for _ in range(n_boot if math.isfinite(rho) else 0):
        idx = rng.integers(0, x.size, x.size)
        value = _spearman(x[idx], y[idx])
        if math.isfinite(value):
            replicas.append(value)
    alpha = (1.0 - ci) / 2.0
    lo, hi = (np.quantile(replicas, [alpha, 1 - alpha]) if len(replicas) >= 2
              else (math.nan, math.nan))
    return RankCorrelation(rho, float(lo), float(hi), pearson, int(x.size),
                           len(replicas) / n_boot if n_boot else 0.0)
