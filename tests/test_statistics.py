"""nqsgen.statistics: standard errors, the logistic critical-εtrain fit with its bootstrap
interval, and the phase-transition locator, on data whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nqsgen.statistics import (
    critical_fraction,
    fit_logistic,
    locate_transition,
    logistic,
    standard_error,
    summarize,
)


def test_standard_error_is_sample_std_over_sqrt_n():
    # std([1, 2, 3, 4], ddof=1) = sqrt(5/3) = 1.2909944; / sqrt(4)
    assert standard_error([1, 2, 3, 4]) == pytest.approx(math.sqrt(5 / 3) / 2, rel=1e-12)
    assert standard_error([1, 2, 3, 4]) == pytest.approx(0.6454972243679028, rel=1e-12)
    assert standard_error([0.5, 0.5, 0.5]) == 0.0
    assert math.isnan(standard_error([0.7]))            # one seed: undefined, not 0
    assert standard_error([1, 2, np.nan, 3]) == pytest.approx(1 / math.sqrt(3))


def test_summarize_groups_with_n_mean_se():
    frame = pd.DataFrame({
        "j2": [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0],
        "overlap": [1.0, 2.0, 3.0, 4.0, 0.2, 0.4, 0.9],
    })
    out = summarize(frame, ["j2"]).set_index("j2")
    assert list(out.columns) == ["n", "mean", "se", "std", "min", "max"]
    assert out.loc[0.0, "n"] == 4 and out.loc[0.0, "mean"] == 2.5
    assert out.loc[0.0, "se"] == pytest.approx(0.6454972243679028)
    assert out.loc[0.5, "se"] == pytest.approx(0.1)  # std √0.02 = 0.1414, / √2
    assert out.loc[0.5, "std"] == pytest.approx(math.sqrt(0.02))
    assert out.loc[1.0, "n"] == 1 and math.isnan(out.loc[1.0, "se"])
    assert (out.loc[0.0, "min"], out.loc[0.0, "max"]) == (1.0, 4.0)


def _sweep(x0=-2.5, width=0.15, noise=0.04, seeds=5, seed=1):
    rng = np.random.default_rng(seed)
    eps = np.repeat(np.logspace(-4, -1, 10), seeds)
    y = logistic(np.log10(eps), 0.02, 0.95, x0, width) + rng.normal(0, noise, eps.size)
    return eps, y


def test_logistic_fit_recovers_known_parameters():
    eps, y = _sweep()
    fit = fit_logistic(np.log10(eps), y)
    assert fit.success
    assert fit.x0 == pytest.approx(-2.5, abs=0.05)
    assert fit.lower == pytest.approx(0.02, abs=0.05)
    assert fit.upper == pytest.approx(0.97, abs=0.05)
    assert fit.width == pytest.approx(0.15, abs=0.06)


def test_critical_fraction_midpoint_and_bootstrap_interval_cover_the_truth():
    eps, y = _sweep()
    result = critical_fraction(eps, y, n_boot=300, seed=0)
    truth = 10**-2.5
    assert result.defined and result.in_range and result.message == ""
    assert result.eps_c == pytest.approx(truth, rel=0.12)
    assert result.eps_c_low < truth < result.eps_c_high
    assert result.eps_c_low < result.eps_c < result.eps_c_high
    assert 0 < result.log10_eps_c_se < 0.1
    assert result.n_points == 10 and result.n_runs == 50 and result.boot_success == 1.0
    # grid εtrain = 10^(-4 + k/3): the switch at 10^-2.5 lies between k = 4 and k = 5
    assert result.bracket_low == pytest.approx(10 ** (-4 + 4 / 3))
    assert result.bracket_high == pytest.approx(10 ** (-4 + 5 / 3))
    # deterministic given the seed
    assert critical_fraction(eps, y, n_boot=300, seed=0) == result


def test_critical_fraction_coverage_over_repeated_experiments():
    # the 95 % interval covers the true midpoint in most of 20 independent experiments
    truth = -2.5
    covered = 0
    for s in range(20):
        eps, y = _sweep(seed=100 + s, noise=0.08)
        r = critical_fraction(eps, y, n_boot=80, seed=s)
        covered += r.eps_c_low <= 10**truth <= r.eps_c_high
    assert covered >= 16


def test_critical_fraction_flags_missing_switch_and_too_few_points():
    rng = np.random.default_rng(3)
    eps = np.repeat(np.logspace(-4, -1, 8), 4)
    flat = 0.99 + rng.normal(0, 0.003, eps.size)
    r = critical_fraction(eps, flat, n_boot=50)
    assert not r.defined and r.message.startswith("no switch")
    # a switch beyond the largest εtrain is reported but not 'defined'
    late = logistic(np.log10(eps), 0.0, 1.0, 0.5, 0.1) + rng.normal(0, 0.01, eps.size)
    r = critical_fraction(eps, late, n_boot=50)
    assert not r.defined
    r = critical_fraction([0.01, 0.1], [0.1, 0.9], n_boot=10)
    assert not r.defined and math.isnan(r.eps_c) and "fewer than" in r.message


def test_locator_finds_a_known_step_with_its_uncertainty():
    rng = np.random.default_rng(7)
    j2 = np.repeat(np.round(np.arange(0.0, 2.01, 0.1), 2), 5)
    # ordered phase generalises (0.95), frustrated phase beyond J2 = 0.55 does not (0.1),
    # with a gentle slope elsewhere that must not be mistaken for the transition
    y = np.where(j2 < 0.55, 0.95 - 0.02 * j2, 0.1) + rng.normal(0, 0.03, j2.size)
    t = locate_transition(j2, y, n_boot=300)
    assert t.defined
    assert t.j2_c == pytest.approx(0.55)
    assert (t.j2_left, t.j2_right) == (pytest.approx(0.5), pytest.approx(0.6))
    assert t.j2_c_low <= 0.55 <= t.j2_c_high
    assert t.agreement > 0.95
    assert t.drop == pytest.approx(0.84, abs=0.05) and t.drop_se > 0
    assert t.slope == pytest.approx(t.drop / 0.1)
    assert t.significant
    assert t.n_points == 21 and t.n_runs == 105


def test_locator_on_an_increasing_curve_reports_no_loss():
    j2 = np.repeat([0.0, 0.5, 1.0], 3)
    t = locate_transition(j2, 0.1 + 0.5 * j2, n_boot=20)
    assert not t.defined and "never decreases" in t.message
    t = locate_transition([0.5, 0.5], [0.9, 0.8], n_boot=20)
    assert not t.defined and "fewer than 2" in t.message


def test_locator_flags_a_loss_within_the_noise_as_not_significant():
    rng = np.random.default_rng(11)
    j2 = np.repeat([0.0, 0.5, 1.0], 4)
    t = locate_transition(j2, 0.5 + rng.normal(0, 0.2, j2.size), n_boot=50)
    assert t.defined and not t.significant
    assert t.drop < 2 * t.drop_se


def test_growth_exponent_of_an_exact_power_law_and_its_error():
    from nqsgen.statistics import growth_exponent

    k = np.array([2.7e6, 1.55e8, 9.1e9])
    n = 1e3 * (k / k[0]) ** 0.25
    half = 0.1  # every interval ±0.1 in log10 n_c
    r = growth_exponent(k, n, n / 10**half, n * 10**half, ci=0.95)
    assert r.exponent == pytest.approx(0.25, abs=1e-12) and r.chi2 == pytest.approx(0, abs=1e-20)
    # weighted least squares with σ = 0.1/1.96 on every point: se(b) = σ / sqrt(Σ (x - x̄)²)
    x = np.log10(k)
    expected_se = (half / 1.959963984540054) / math.sqrt(np.sum((x - x.mean()) ** 2))
    assert r.exponent_se == pytest.approx(expected_se, rel=1e-9)
    assert r.exponent_low == pytest.approx(0.25 - 1.959963984540054 * expected_se, rel=1e-9)
    assert r.intercept == pytest.approx(3 - 0.25 * x[0], rel=1e-12)
    single = growth_exponent(k[:1], n[:1], n[:1] / 2, n[:1] * 2)
    assert math.isnan(single.exponent) and "fewer than two" in single.message
