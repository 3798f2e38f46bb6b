"""Overlaps between the exact ground state and the trial states (paper, "Training procedure").

Definitions (ψ: exact, real, normalised amplitudes; s_i = sign ψ_i with sign 0 := +; T: the
test set, :mod:`nqsgen.datasets`)
-------------------------------------------------------------------------------------------
* **Sign overlap** — trial state with exact amplitudes |ψ_i| and predicted signs ŝ_i
  (ŝ = + iff p ≥ 0.5, i.e. logit ≥ 0):
  O_sign = Σ_T ψ_i² s_i ŝ_i / Σ_T ψ_i²  ∈ [−1, 1].
* **Amplitude overlap** — trial state with exact signs and predicted amplitudes a_i = e^(output)
  (unnormalised; the formula normalises):
  O_amp = Σ_T |ψ_i| a_i / sqrt(Σ_T ψ_i² · Σ_T a_i²)  ∈ [0, 1].
* **Sign accuracy**: plain = fraction of test states with ŝ_i = s_i (each state counts once);
  weighted = Σ_T ψ_i² [ŝ_i = s_i] / Σ_T ψ_i² = (1 + O_sign)/2.
* **Exact** evaluation streams over the basis in chunks of (state, amplitude) rows (for a
  symmetric ground state the amplitudes are looked up per chunk; spins per inference batch;
  never a K×N matrix nor, for a symmetric state, the full vector).  Amplitude sums are
  accumulated with a running shift c (a = e^c·e^(output − c)), so large outputs cannot overflow.
* **Monte-Carlo** estimate (K above a threshold; the paper's choice at 36 spins): independent
  draws s ~ ψ² over the whole basis, with amplitude look-ups; draws that land in train ∪ val
  are discarded (rejection) until n_T are accepted, which are draws from ψ² restricted to T.
  n_T defaults to ⌈1/SE²⌉ for SE = 0.005, a bound on the SE of the sign overlap whatever its
  value.  Then O_sign = E[s ŝ] (SE = std/√n_T), and with r = a/|ψ|,
  O_amp = E[r]/sqrt(E[r²]) (SE by the delta method).  The plain sign accuracy uses n_T uniform
  draws from the basis, again restricted to T.  The MC amplitude estimate cannot see states with
  ψ_i = 0 (they are never drawn) and has heavy tails where a ≫ |ψ|.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from nqsgen.datasets import in_test_set

TARGETS = ("sign", "amplitude")
EXACT_CHUNK = 1 << 16  # basis rows per streaming step


def sign_overlap(psi: np.ndarray, predicted_sign: np.ndarray) -> float:
    """O_sign = Σ ψ² s ŝ / Σ ψ² over the given states (ŝ = ±1)."""
    psi = np.asarray(psi, dtype=np.float64)
    s = np.where(psi >= 0, 1.0, -1.0)
    return float(np.sum(psi**2 * s * predicted_sign) / np.sum(psi**2))


def amplitude_overlap(psi: np.ndarray, log_amplitude: np.ndarray) -> float:
    """O_amp = Σ |ψ| a / sqrt(Σ ψ² Σ a²) over the given states (a = e^log_amplitude)."""
    sums = OverlapSums("amplitude")
    sums.add(np.asarray(psi, np.float64), np.asarray(log_amplitude, np.float64))
    return sums.result()["overlap"]


class OverlapSums:
    """Streaming sums for the exact overlap of one target over chunks of (ψ, network output).

    ``output`` is the sign logit (target ``sign``) or log a (target ``amplitude``).
    """

    def __init__(self, target: str):
        self.target = target
        self.states = 0
        self.norm = 0.0  # Σ ψ²
        self.signed = 0.0  # Σ ψ² s ŝ
        self.correct = 0  # Σ [s = ŝ]
        self.shift = -math.inf  # c: running max of log a
        self.cross = 0.0  # Σ |ψ| e^(log a − c)
        self.square = 0.0  # Σ e^(2 (log a − c))

    def add(self, psi: np.ndarray, output: np.ndarray) -> None:
        self.states += len(psi)
        self.norm += float(np.dot(psi, psi))
        if self.target == "sign":
            agree = (psi >= 0) == (output >= 0)
            self.signed += float(np.dot(psi * psi, np.where(agree, 1.0, -1.0)))
            self.correct += int(np.count_nonzero(agree))
            return
        if len(output) == 0:
            return
        top = float(np.max(output))
        if top > self.shift:
            scale = math.exp(self.shift - top) if math.isfinite(self.shift) else 0.0
            self.cross, self.square, self.shift = self.cross * scale, self.square * scale**2, top
        a = np.exp(output - self.shift)
        self.cross += float(np.dot(np.abs(psi), a))
        self.square += float(np.dot(a, a))

    def result(self) -> dict:
        """``overlap``, ``sign_accuracy``, ``sign_accuracy_weighted`` (NaN where undefined)."""
        nan = math.nan
        if self.target == "sign":
            overlap = self.signed / self.norm if self.norm > 0 else nan
            return {"overlap": overlap,
                    "sign_accuracy": self.correct / self.states if self.states else nan,
                    "sign_accuracy_weighted": (1 + overlap) / 2}
        denominator = math.sqrt(self.norm * self.square)
        overlap = self.cross / denominator if denominator > 0 else nan
        return {"overlap": overlap, "sign_accuracy": nan, "sign_accuracy_weighted": nan}


def mc_overlap(target: str, psi: np.ndarray, output: np.ndarray) -> tuple[float, float]:
    """(estimate, standard error) of the overlap from draws i ~ ψ² (see the module docstring)."""
    n = len(psi)
    if n < 2:
        return math.nan, math.nan
    if target == "sign":
        x = np.where((psi >= 0) == (output >= 0), 1.0, -1.0)
        return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n))
    log_r = output - np.log(np.abs(psi))
    r = np.exp(log_r - np.max(log_r))
    m1, m2 = r.mean(), (r * r).mean()
    cov = np.cov(np.stack([r, r * r]), ddof=1)
    grad = np.array([1 / math.sqrt(m2), -m1 / (2 * m2**1.5)])
    return float(m1 / math.sqrt(m2)), float(math.sqrt(max(grad @ cov @ grad, 0.0) / n))


Predict = Callable[[np.ndarray], np.ndarray]

#: Standard error the Monte-Carlo sign overlap is sized for: SE = sqrt((1 − O²)/n) ≤ 1/√n, so
#: n = ⌈1/SE²⌉ accepted test-set draws guarantee it whatever the overlap.
DEFAULT_MC_SE = 0.005
#: Give up drawing when this many times the wanted number of draws has not been accepted
#: (the training and validation sets then cover almost all of |ψ|²).
MC_MAX_DRAW_FACTOR = 100


def mc_sample_size(target_se: float) -> int:
    """Accepted test-set draws that bound the SE of a sign overlap by ``target_se``."""
    return math.ceil(1.0 / target_se**2)


def exact_test_overlap(predict: Predict, ground_state, excluded: np.ndarray, target: str,
                       chunk: int = EXACT_CHUNK) -> dict:
    """Exact overlap over T = basis \\ excluded (``excluded``: sorted states), streaming over
    the basis in chunks of the ground state's (state, amplitude) rows."""
    sums = OverlapSums(target)
    for _, rows in ground_state.iter_chunks(columns=("state", "amplitude"), batch_rows=chunk):
        keep = in_test_set(excluded, rows["state"])
        sums.add(rows["amplitude"][keep], predict(rows["state"][keep]))
    return {**sums.result(), "overlap_se": 0.0, "overlap_method": "exact",
            "overlap_samples": sums.states, "evaluated": sums.states}


def draw_test_states(draw: Callable[[int], np.ndarray], excluded: np.ndarray, n: int,
                     acceptance: float) -> tuple[np.ndarray, int]:
    """``n`` draws of ``draw`` outside ``excluded`` (rejection), and the draws made.

    ``acceptance`` (the expected accepted fraction, e.g. the test set's share of |ψ|²) sizes the
    rounds; drawing stops after ``MC_MAX_DRAW_FACTOR·n`` draws, returning fewer states.
    """
    accepted, drawn, parts = 0, 0, []
    while accepted < n and drawn < MC_MAX_DRAW_FACTOR * n:
        want = math.ceil((n - accepted) / max(acceptance, 1.0 / MC_MAX_DRAW_FACTOR) * 1.05) + 64
        states = draw(min(want, MC_MAX_DRAW_FACTOR * n - drawn))
        drawn += len(states)
        states = states[in_test_set(excluded, states)][:n - accepted]
        accepted += len(states)
        parts.append(states)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64), drawn


def mc_test_overlap(predict: Predict, ground_state, excluded: np.ndarray, target: str,
                    n_samples: int, rng: np.random.Generator, test_mass: float = 1.0) -> dict:
    """Monte-Carlo overlap over T from ``n_samples`` accepted draws from ψ² restricted to T
    (draws in ``excluded`` are rejected), and the plain sign accuracy from as many uniform
    draws from T.  ``test_mass`` (Σ_T ψ² / Σ ψ²) sizes the drawing rounds only."""
    states, drawn = draw_test_states(lambda m: ground_state.sample_states(m, rng), excluded,
                                     n_samples, test_mass)
    overlap, se = mc_overlap(target, ground_state.amplitude(states), predict(states))
    accuracy, evaluated = math.nan, len(states)
    weighted = (1 + overlap) / 2 if target == "sign" else math.nan
    if target == "sign":
        basis = ground_state.basis
        test_share = 1.0 - len(excluded) / basis.dimension
        uniform, _ = draw_test_states(
            lambda m: basis.states_at(rng.integers(0, basis.dimension, m)), excluded,
            n_samples, test_share)
        agree = (ground_state.amplitude(uniform) >= 0) == (predict(uniform) >= 0)
        accuracy = float(agree.mean()) if len(agree) else math.nan
        evaluated += len(uniform)
    return {"overlap": overlap, "sign_accuracy": accuracy, "sign_accuracy_weighted": weighted,
            "overlap_se": se, "overlap_method": "monte_carlo", "overlap_samples": len(states),
            "overlap_draws": drawn, "evaluated": evaluated}


def test_overlap(predict: Predict, ground_state, excluded: np.ndarray, target: str, *,
                 exact_max_states: int, mc_samples: int, rng: np.random.Generator,
                 test_mass: float = 1.0) -> dict:
    """Overlap on the test set: exact when K ≤ ``exact_max_states``, else Monte Carlo.

    Returns ``overlap``, ``overlap_se`` (0 when exact), ``overlap_method`` ("exact" or
    "monte_carlo"), ``overlap_samples`` (test states summed, or accepted MC draws),
    ``overlap_draws`` (MC draws made, rejected ones included; the test states when exact),
    ``sign_accuracy``, ``sign_accuracy_weighted``, ``eval_time_s`` and
    ``inference_states_per_s`` (all states the network evaluated, per second of evaluation).
    """
    t0 = time.perf_counter()
    if ground_state.dimension <= exact_max_states:
        out = exact_test_overlap(predict, ground_state, excluded, target)
        out["overlap_draws"] = out["overlap_samples"]
    else:
        out = mc_test_overlap(predict, ground_state, excluded, target, mc_samples, rng,
                              test_mass)
    wall = time.perf_counter() - t0
    evaluated = out.pop("evaluated")
    out["eval_time_s"] = wall
    out["inference_states_per_s"] = evaluated / wall if wall > 0 else math.nan
    return out


test_overlap.__test__ = False  # not a pytest test despite its name
