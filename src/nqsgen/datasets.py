"""Training, validation and test sets of the supervised protocol (paper, "Training procedure").

Definitions
-----------
* ψ is the stored ground state: real, normalised (Σ_s ψ(s)² = 1) over the Sz = 0 basis of
  K = C(N, N/2) states (:mod:`nqsgen.storage`).  P(s) = ψ(s)² / Σ_t ψ(t)².
* Examples are identified by their **states** (uint64 bit patterns), never by full-basis
  indices: the draws come from the ground state's own sampler
  (:meth:`~nqsgen.storage.GroundState.sample_states`; for a symmetric ground state a
  representative r with probability c_r², then a uniform element of its orbit) and the labels
  from amplitude look-ups (:meth:`~nqsgen.storage.GroundState.amplitude`).  The same code runs
  for full and symmetric ground states, and its memory is O(number of draws), never O(K)
  (except in expressibility mode, which trains on the whole basis: see :func:`check_memory`).
* **Training set**: n_train = round(εtrain·K) (at least 1) states drawn from P **with
  replacement** (Monte-Carlo-like); every draw is one training example, repeats included.
  **Validation set**: n_val = round(εval·K) further draws, independent of the training draws.
  For each set we record the number of distinct states (``unique``) and the |ψ|² mass they
  cover (``mass`` = Σ ψ(s)² over the distinct states).
* **Test set** T: every basis state in neither the training nor the validation set.  Its size
  is K − |train ∪ val| and its mass Σψ² − mass(train ∪ val).  The overlaps on T are computed
  in :mod:`nqsgen.overlaps`.
* **Expressibility mode** (εtrain = 1): train on the whole basis and measure on the whole basis
  (T = all K states).  ``sampled`` (default): K draws from P as above; ``weighted``: each basis
  state with ψ(s) ≠ 0 exactly once with loss weight K·P(s) (the weights average to 1 over the
  basis, so the mean weighted loss is the P-expectation of the loss).  The validation set is
  drawn as usual and only used for early stopping.
* Random numbers: one :class:`numpy.random.SeedSequence` per run; its spawned children drive
  the training draws, the validation draws, the test Monte-Carlo sample and torch
  (:func:`seed_streams`), so each consumer is independent of the others' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nqsgen.errors import ConfigError

EXPRESSIBILITY_MODES = ("sampled", "weighted")
DEFAULT_MAX_EPS_VAL = 0.05  # default εval = min(εtrain, 0.05)
STREAMS = ("train", "val", "test", "torch")
#: Bytes held per training or validation example while a run trains, besides its spins:
#: state and amplitude (8 + 8), the np.unique work arrays (8 + 8 + 8), target and weight (4 + 4).
EXAMPLE_BYTES = 48


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


def memory_needed(eps_train: float, eps_val: float, dimension: int, n_sites: int) -> int:
    """Bytes the training and validation examples of one run hold: per example
    :data:`EXAMPLE_BYTES` plus its network input (N float32 spins)."""
    examples = sample_size(eps_train, dimension) + sample_size(eps_val, dimension)
    return examples * (EXAMPLE_BYTES + 4 * n_sites)


def check_memory(what: str, eps_train: float, eps_val: float, dimension: int, n_sites: int,
                 available: float) -> None:
    """Refuse (one line naming ``what`` and the memory) when the examples cannot fit.

    Expressibility mode (εtrain = 1) trains on all K states, which at 30 sites and more does not
    fit a workstation; ordinary runs need O(εtrain·K) memory.
    """
    need = memory_needed(eps_train, eps_val, dimension, n_sites)
    if need > available:
        mode = ("expressibility (εtrain = 1) trains on the whole basis"
                if eps_train == 1 else f"εtrain = {eps_train:g} draws")
        raise ConfigError(f"{what}: {mode}, K = {dimension:,}: the examples need "
                          f"{need / 1e9:.1f} GB, only {available / 1e9:.1f} GB are available")


@dataclass(frozen=True)
class Sample:
    """Configurations and their exact amplitudes.

    ``states`` (uint64) and ``amplitudes`` (float64, signed ψ(s)) have one entry per example
    (repeats included); ``weights`` are per-example loss weights (None: 1); ``distinct`` are
    the sorted distinct states with their amplitudes ``distinct_amplitudes``; ``unique`` is
    their number and ``mass`` Σ ψ(s)² over them.
    """

    states: np.ndarray
    amplitudes: np.ndarray
    distinct: np.ndarray
    distinct_amplitudes: np.ndarray
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.states)

    @property
    def unique(self) -> int:
        return len(self.distinct)

    @property
    def mass(self) -> float:
        return float(np.dot(self.distinct_amplitudes, self.distinct_amplitudes))

    def targets(self, target: str) -> np.ndarray:
        """Training targets (float32): sign → (1 + s)/2 ∈ {0, 1} (ψ = 0 counts as +);
        amplitude → log|ψ| (−inf for ψ = 0, a state that is never drawn from ψ²)."""
        if target == "sign":
            return (self.amplitudes >= 0).astype(np.float32)
        with np.errstate(divide="ignore"):
            return np.log(np.abs(self.amplitudes)).astype(np.float32)


def labelled(ground_state, states: np.ndarray) -> Sample:
    """A :class:`Sample` of the given (drawn) states, labelled by amplitude look-ups.

    Each distinct state is looked up once (sorted, which is also the cache-friendly order).
    """
    distinct, inverse = np.unique(states, return_inverse=True)
    amplitudes = np.asarray(ground_state.amplitude(distinct), dtype=np.float64)
    return Sample(states=states, amplitudes=amplitudes[inverse], distinct=distinct,
                  distinct_amplitudes=amplitudes)


def draw(ground_state, n: int, rng: np.random.Generator) -> Sample:
    """``n`` states drawn from ψ² with replacement, with their amplitudes."""
    return labelled(ground_state, ground_state.sample_states(n, rng))


def whole_basis(ground_state) -> Sample:
    """Every basis state with ψ(s) ≠ 0 once, weighted by K·P(s) (expressibility mode
    ``weighted``; states with ψ(s) = 0 would have weight 0 and are left out)."""
    states, amplitudes = [], []
    for _, chunk in ground_state.iter_chunks(columns=("state", "amplitude")):
        keep = chunk["amplitude"] != 0
        states.append(chunk["state"][keep])
        amplitudes.append(chunk["amplitude"][keep])
    states, amplitudes = np.concatenate(states), np.concatenate(amplitudes)
    weights = ground_state.dimension * amplitudes**2 / float(np.dot(amplitudes, amplitudes))
    return Sample(states=states, amplitudes=amplitudes, distinct=states,
                  distinct_amplitudes=amplitudes, weights=weights.astype(np.float32))


@dataclass(frozen=True)
class Split:
    """Training and validation samples and the test set T they define.

    ``excluded``: sorted distinct states of train ∪ val (empty in expressibility mode, where T
    is the whole basis); ``test_states`` = K − len(excluded); ``test_mass`` = Σ_T ψ(s)².
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
    """Draw the training and validation sets from ``ground_state`` (module docstring)."""
    check_fractions(eps_train, eps_val)
    if expressibility_mode not in EXPRESSIBILITY_MODES:
        raise ConfigError(f"unknown expressibility mode {expressibility_mode!r} "
                          f"(known: {', '.join(EXPRESSIBILITY_MODES)})")
    k = ground_state.dimension
    expressibility = eps_train == 1
    if expressibility and expressibility_mode == "weighted":
        train = whole_basis(ground_state)
    else:
        train = draw(ground_state, sample_size(eps_train, k), streams["train"])
    val = draw(ground_state, sample_size(eps_val, k), streams["val"])
    total = ground_state.norm_squared
    if expressibility:
        return Split(train=train, val=val, excluded=np.zeros(0, dtype=np.uint64),
                     test_states=k, test_mass=total, expressibility=True)
    excluded, excluded_mass = union(train, val)
    return Split(train=train, val=val, excluded=excluded, test_states=k - len(excluded),
                 test_mass=total - excluded_mass, expressibility=False)


def union(a: Sample, b: Sample) -> tuple[np.ndarray, float]:
    """Sorted distinct states of two samples and the ψ² mass they cover together."""
    states = np.concatenate([a.distinct, b.distinct])
    amplitudes = np.concatenate([a.distinct_amplitudes, b.distinct_amplitudes])
    distinct, first = np.unique(states, return_index=True)
    return distinct, float(np.sum(amplitudes[first] ** 2))


def in_sorted(sorted_states: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Boolean: which of ``states`` occur in the ascending array ``sorted_states``."""
    if len(sorted_states) == 0:
        return np.zeros(len(states), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_states, states), len(sorted_states) - 1)
    return sorted_states[pos] == states


def in_test_set(excluded: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Boolean: which of ``states`` belong to the test set (are not in ``excluded``)."""
    return ~in_sorted(excluded, states)
