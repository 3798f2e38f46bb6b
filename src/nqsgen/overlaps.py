"""Overlaps between the exact ground state and the trial states of DESIGN §4.

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
* **Exact** evaluation streams over the basis in chunks (states generated from their row
  range, spins per inference batch; never a K×N matrix).  Amplitude sums are accumulated with a
  running shift c (a = e^c·e^(output − c)), so large outputs cannot overflow.
* **Monte-Carlo** estimate (K above a threshold): n independent draws i ~ ψ² over the whole
  basis; draws that land in train ∪ val are discarded (rejection), the remaining n_T are draws
  from ψ² restricted to T.  Then O_sign = E[s ŝ] (SE = std/√n_T), and with r = a/|ψ|,
  O_amp = E[r]/sqrt(E[r²]) (SE by the delta method).  The plain sign accuracy uses n uniform
  draws from the basis, again restricted to T.  The MC amplitude estimate cannot see states with
  ψ_i = 0 (they are never drawn) and has heavy tails where a ≫ |ψ|.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from nqsgen.datasets import excluded_mask, in_test_set, states_at

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


def exact_test_overlap(predict: Predict, psi: np.ndarray, basis, excluded: np.ndarray,
                       target: str, chunk: int = EXACT_CHUNK) -> dict:
    """Exact overlap over T = basis \\ excluded, streaming over row chunks."""
    sums = OverlapSums(target)
    for lo in range(0, basis.dimension, chunk):
        hi = min(lo + chunk, basis.dimension)
        mask = excluded_mask(excluded, lo, hi)
        states = basis.states(lo, hi)[mask]
        sums.add(psi[lo:hi][mask], predict(states))
    return {**sums.result(), "overlap_se": 0.0, "overlap_method": "exact",
            "overlap_samples": sums.states, "evaluated": sums.states}


def mc_test_overlap(predict: Predict, ground_state, excluded: np.ndarray, target: str,
                    n_samples: int, rng: np.random.Generator) -> dict:
    """Monte-Carlo overlap over T from ``n_samples`` draws from ψ² (and uniform draws for the
    plain sign accuracy), rejecting draws in ``excluded``."""
    psi, basis = ground_state.vector(), ground_state.basis
    idx = ground_state.sample(n_samples, rng)
    idx = idx[in_test_set(excluded, idx)]
    output = predict(states_at(basis, idx))
    overlap, se = mc_overlap(target, psi[idx], output)
    accuracy, evaluated = math.nan, len(idx)
    weighted = (1 + overlap) / 2 if target == "sign" else math.nan
    if target == "sign":
        uniform = rng.integers(0, basis.dimension, n_samples)
        uniform = uniform[in_test_set(excluded, uniform)]
        agree = (psi[uniform] >= 0) == (predict(states_at(basis, uniform)) >= 0)
        accuracy = float(agree.mean()) if len(agree) else math.nan
        evaluated += len(uniform)
    return {"overlap": overlap, "sign_accuracy": accuracy, "sign_accuracy_weighted": weighted,
            "overlap_se": se, "overlap_method": "monte_carlo", "overlap_samples": len(idx),
            "evaluated": evaluated}


def test_overlap(predict: Predict, ground_state, excluded: np.ndarray, target: str, *,
                 exact_max_states: int, mc_samples: int, rng: np.random.Generator) -> dict:
    """Overlap on the test set: exact when K ≤ ``exact_max_states``, else Monte Carlo.

    Returns ``overlap``, ``overlap_se`` (0 when exact), ``overlap_method`` ("exact" or
    "monte_carlo"), ``overlap_samples`` (test states summed, or accepted MC draws),
    ``sign_accuracy``, ``sign_accuracy_weighted``, ``eval_time_s`` and
    ``inference_states_per_s`` (all states the network evaluated, per second of evaluation).
    """
    t0 = time.perf_counter()
    if ground_state.dimension <= exact_max_states:
        out = exact_test_overlap(predict, ground_state.vector(), ground_state.basis, excluded,
                                 target)
    else:
        out = mc_test_overlap(predict, ground_state, excluded, target, mc_samples, rng)
    wall = time.perf_counter() - t0
    evaluated = out.pop("evaluated")
    out["eval_time_s"] = wall
    out["inference_states_per_s"] = evaluated / wall if wall > 0 else math.nan
    return out


test_overlap.__test__ = False  # not a pytest test despite its name
