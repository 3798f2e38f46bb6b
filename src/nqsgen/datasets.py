"""Training, validation and test sets of the supervised protocol (DESIGN §4, paper "Training
procedure").

Definitions
-----------
* ψ is the stored ground state: real, normalised (Σ_i ψ_i² = 1), aligned with the Sz = 0 basis
  of K = C(N, N/2) states (:mod:`nqsgen.storage`).  P(i) = ψ_i² / Σ_j ψ_j².
* **Training set**: n_train = round(εtrain·K) (at least 1) basis indices drawn from P **with
  replacement** (Monte-Carlo-like); every draw is one training example, repeats included.
  **Validation set**: n_val = round(εval·K) further draws, independent of the training draws.
  For each set we record the number of distinct states (``unique``) and the |ψ|² mass they
  cover (``mass`` = Σ ψ_i² over the distinct states).
* **Test set** T: every basis state in neither the training nor the validation set.  Its size
  is K − |train ∪ val| and its mass 1 − mass(train ∪ val).  The overlaps on T are computed in
  :mod:`nqsgen.overlaps`.
* **Expressibility mode** (εtrain = 1): train on the whole basis and measure on the whole basis
  (T = all K states).  ``sampled`` (default): K draws from P as above; ``weighted``: each basis
  state with ψ_i ≠ 0 exactly once with loss weight K·ψ_i² (the weights average to 1 over the
  basis, so the mean weighted loss is the P-expectation of the loss).  The validation set is
  drawn as usual and only used for early stopping.
* Random numbers: one :class:`numpy.random.SeedSequence` per run; its spawned children drive
  the training draws, the validation draws, the test Monte-Carlo sample and torch
  (:func:`seed_streams`), so each consumer is independent of the others' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nqsgen.basis import SzBasis
from nqsgen.errors import ConfigError

EXPRESSIBILITY_MODES = ("sampled", "weighted")
DEFAULT_MAX_EPS_VAL = 0.05  # default εval = min(εtrain, 0.05)
STREAMS = ("train", "val", "test", "torch")


def seed_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators ``train``, ``val``, ``test``, ``torch`` derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children,
                                                                       strict=True)}


def default_eps_val(eps_train: float) -> float:
    """εval when none is given: min(εtrain, 0.05)."""
    return min(eps_train, DEFAULT_MAX_EPS_VAL)


def check_fractions(eps_train: float, eps_val: float) -> None:
    """Raise :class:`ConfigError` unless 0 < εtrain ≤ 1 and 0 < εval ≤ 1."""
    for name, eps in (("eps (εtrain)", eps_train), ("eps-val (εval)", eps_val)):
        if not 0 < eps <= 1:
            raise ConfigError(f"{name} must be in (0, 1], got {eps}")


def sample_size(eps: float, dimension: int) -> int:
    """round(ε·K), at least 1."""
    return max(1, round(eps * dimension))


def states_at(basis: SzBasis, indices: np.ndarray) -> np.ndarray:
    """The uint64 basis states of the given indices (see :meth:`SzBasis.states_at`)."""
    return basis.states_at(indices)


@dataclass(frozen=True)
class Sample:
    """Configurations and their exact amplitudes.

    ``indices`` (int64), ``states`` (uint64) and ``amplitudes`` (float64, signed ψ_i) have one
    entry per example (repeats included); ``weights`` are per-example loss weights (None: 1);
    ``unique`` counts distinct states and ``mass`` is Σ ψ_i² over them.
    """

    indices: np.ndarray
    states: np.ndarray
    amplitudes: np.ndarray
    unique: int
    mass: float
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.indices)

    def targets(self, target: str) -> np.ndarray:
        """Training targets (float32): sign → (1 + s)/2 ∈ {0, 1} (ψ_i = 0 counts as +);
        amplitude → log|ψ| (−inf for ψ_i = 0, a state that is never drawn from ψ²)."""
        if target == "sign":
            return (self.amplitudes >= 0).astype(np.float32)
        with np.errstate(divide="ignore"):
            return np.log(np.abs(self.amplitudes)).astype(np.float32)


def draw(psi: np.ndarray, basis: SzBasis, indices: np.ndarray) -> Sample:
    """A :class:`Sample` of the given (drawn) indices."""
    distinct = np.unique(indices)
    return Sample(indices=indices, states=states_at(basis, indices), amplitudes=psi[indices],
                  unique=len(distinct), mass=float(np.sum(psi[distinct] ** 2)))


def whole_basis(psi: np.ndarray, basis: SzBasis) -> Sample:
    """Every basis state with ψ_i ≠ 0 once, weighted by K·ψ_i² (expressibility mode
    ``weighted``; states with ψ_i = 0 would have weight 0 and are left out)."""
    k = basis.dimension
    idx = np.flatnonzero(psi)
    return Sample(indices=idx, states=states_at(basis, idx), amplitudes=psi[idx],
                  unique=len(idx), mass=float(np.sum(psi**2)),
                  weights=(k * psi[idx] ** 2).astype(np.float32))


@dataclass(frozen=True)
class Split:
    """Training and validation samples and the test set T they define.

    ``excluded``: sorted distinct indices of train ∪ val (empty in expressibility mode, where T
    is the whole basis); ``test_states`` = K − len(excluded); ``test_mass`` = Σ_T ψ_i².
    """

    train: Sample
    val: Sample
    excluded: np.ndarray
    test_states: int
    test_mass: float
    expressibility: bool


def make_split(ground_state, eps_train: float, eps_val: float,
               streams: dict[str, np.random.Generator],
               expressibility_mode: str = "sampled") -> Split:
    """Draw the training and validation sets from ``ground_state`` (DESIGN §4)."""
    check_fractions(eps_train, eps_val)
    if expressibility_mode not in EXPRESSIBILITY_MODES:
        raise ConfigError(f"unknown expressibility mode {expressibility_mode!r} "
                          f"(known: {', '.join(EXPRESSIBILITY_MODES)})")
    psi, basis, k = ground_state.vector(), ground_state.basis, ground_state.dimension
    expressibility = eps_train == 1
    if expressibility and expressibility_mode == "weighted":
        train = whole_basis(psi, basis)
    else:
        train = draw(psi, basis, ground_state.sample(sample_size(eps_train, k), streams["train"]))
    val = draw(psi, basis, ground_state.sample(sample_size(eps_val, k), streams["val"]))
    if expressibility:
        excluded = np.zeros(0, dtype=np.int64)
    else:
        excluded = np.union1d(train.indices, val.indices)
    total = float(np.sum(psi**2))
    return Split(train=train, val=val, excluded=excluded, test_states=k - len(excluded),
                 test_mass=total - float(np.sum(psi[excluded] ** 2)),
                 expressibility=expressibility)


def excluded_mask(excluded: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Boolean mask over rows [lo, hi): True where the row is in the test set."""
    mask = np.ones(hi - lo, dtype=bool)
    a, b = np.searchsorted(excluded, [lo, hi])
    mask[excluded[a:b] - lo] = False
    return mask


def in_test_set(excluded: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Boolean: which of ``indices`` belong to the test set (are not in ``excluded``)."""
    if len(excluded) == 0:
        return np.ones(len(indices), dtype=bool)
    pos = np.minimum(np.searchsorted(excluded, indices), len(excluded) - 1)
    return excluded[pos] != indices
