"""Many independent training runs in one process: an *ensemble* of members that share a ground
state's cluster, a target and an architecture (paper, "Training procedure", run M times).

What a member keeps of its own
------------------------------
Its training and validation draws (:mod:`nqsgen.datasets`; members may differ in seed, εtrain
and J2, so in dataset size and epoch length), its initialisation (its :func:`init_member`
network: the same parameters as a separate run with that seed), its shuffling generator, its
Adam moments, its early stopping with restore-best, and its learning curve.  Nothing is shared
between members but the computation: no batch statistics, no data.

How they are trained together (:func:`fit_ensemble`)
----------------------------------------------------
The parameters of the M members are stacked (:class:`nqsgen.models.StackedNetwork`).  Every
*step* takes one batch for every active member at once — member m the next batch of its own
current epoch, in the order of its own random permutation — and one Adam update of the
stacked parameters, which is member-wise exactly Adam because Adam is elementwise and all
active members take a step at every step.  The loss that is back-propagated is the sum of the
members' batch losses, so each member's gradient is that of its own loss.  A member with
n_m examples runs ⌈n_m/B⌉ steps per epoch: member m's step t (all members start at step 0)
is batch t mod ⌈n_m/B⌉ of its epoch ⌊t/⌈n_m/B⌉⌋ + 1, the last batch of an epoch may be
smaller (padded and masked: padded examples have weight 0 and the mean is over the real
ones).  After its last batch a member is validated (its own validation draws, eval mode) and
its early stopping updated exactly as in :func:`nqsgen.training.fit`; a member that stops has
its best parameters restored, and is removed from the stacked tensors (compaction), so that
stopped members cost nothing.

Devices: the examples are stored once on the training device (spins as int8, targets,
weights, and every member's current permutation), batches are gathered there; the host
learns only the validation results, once per epoch end (a host synchronisation per group of
members ending an epoch together; members of equal εtrain end their epochs together).  On the
CPU with a fixed thread count every number is reproducible for a given ensemble composition
(its members and their order); floating-point summation order differs between compositions,
so a member's numbers agree with a separate run's to rounding, not bit for bit.

Test overlaps (:func:`ensemble_test_overlaps`)
----------------------------------------------
Exact: one streaming pass over the basis (:meth:`~nqsgen.storage.GroundState.iter_chunks`)
per ground state; each chunk's spins are expanded once and every member of that J2 is
evaluated on them, its sums taken over its own test set (states outside its train ∪ val),
with the definitions and streaming sums of :mod:`nqsgen.overlaps`.  Monte Carlo (K above
``exact_max_states``): each member draws its own test sample from its own ``test`` stream
(:func:`nqsgen.overlaps.mc_test_overlap`), as a separate run would.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from nqsgen.basis import spins
from nqsgen.datasets import Sample
from nqsgen.models import GPU_INFERENCE_BATCH, StackedNetwork, build_model
from nqsgen.overlaps import EXACT_CHUNK, mc_overlap
from nqsgen.training import TrainConfig, TrainResult, example_losses, log_epoch

log = logging.getLogger("nqsgen.ensemble")


def init_member(streams: dict, model_config, cluster, *, target: str = "sign",
                ground_state=None):
    """A member's network and shuffling generator from its seed streams, drawn exactly as a
    separate run draws them (:mod:`nqsgen.stages.train`): torch's global generator seeded from
    the ``torch`` stream, the network built, then the batch generator seeded from it.
    ``target`` and ``ground_state`` are the build context (:func:`nqsgen.models.build_model`;
    they draw nothing from the streams)."""
    torch.manual_seed(int(streams["torch"].integers(2**62)))
    model = build_model(model_config, cluster, target=target, ground_state=ground_state)
    generator = torch.Generator().manual_seed(int(streams["torch"].integers(2**62)))
    return model, generator


class _Store:
    """The examples of every member, concatenated on the device: spins ``x`` (int8, one row per
    example), ``y`` targets, ``w`` loss weights (None when no member has any); member m owns
    rows ``offsets[m] : offsets[m] + sizes[m]``."""

    def __init__(self, samples: list[Sample], target: str, n_sites: int, device):
        self.sizes = np.array([len(s) for s in samples], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        states = np.concatenate([s.states for s in samples])
        self.x = torch.from_numpy(spins(states, n_sites, np.int8)).to(device)
        self.y = torch.from_numpy(np.concatenate([s.targets(target) for s in samples])).to(device)
        self.w = None
        if any(s.weights is not None for s in samples):
            w = [s.weights if s.weights is not None else np.ones(len(s), np.float32)
                 for s in samples]
            self.w = torch.from_numpy(np.concatenate(w)).to(device)


@dataclass
class _Member:
    """Host-side state of one member: epochs run, early stopping, curve, timing."""

    index: int
    n: int
    steps_per_epoch: int
    generator: torch.Generator
    epoch: int = 0
    best_epoch: int = 0
    best_val_loss: float = math.inf
    best_train_loss: float = math.nan
    best_val_overlap: float = math.nan
    has_best: bool = False
    result: TrainResult | None = None
    curves: list[dict] = field(default_factory=list)


class _Active:
    """The device tensors of the members still training (rows; ``members[r]`` is the member
    index of row r): parameters, best parameters, Adam state, example offsets and sizes."""

    def __init__(self, net: StackedNetwork, members: list[_Member], store: _Store, config,
                 device):
        self.members = list(members)
        self.params = net.params
        self.best = [p.detach().clone() for p in self.params]
        self.optimizer = _adam(self.params, config)
        self.epoch_loss = torch.zeros(len(members), device=device)
        self._device_vectors(store, device)

    def _device_vectors(self, store, device):
        index = [m.index for m in self.members]
        as_tensor = lambda a: torch.as_tensor(a[index], dtype=torch.int64, device=device)  # noqa: E731
        self.offset, self.size = as_tensor(store.offsets), as_tensor(store.sizes)
        self.steps = np.array([m.steps_per_epoch for m in self.members], dtype=np.int64)
        self.steps_dev = torch.as_tensor(self.steps, device=device)
        sizes = {m.n for m in self.members}
        self.common_size = sizes.pop() if len(sizes) == 1 else None
        self.positions: dict[int, tuple] = {}  # batch j of an epoch -> its index tensors

    def batch(self, step: int, arange: torch.Tensor):
        """(example positions clamped into each member's epoch, weights 1/0 of the real
        ones, their count) of every row's batch at ``step``.  When all members have the same
        number of examples their batches coincide: the tensors of batch j are cached."""
        b = arange.numel()
        if self.common_size is None:
            within = ((step % self.steps_dev) * b).unsqueeze(1) + arange
            size = self.size.unsqueeze(1)
            valid = within < size
            return torch.minimum(within, size - 1), valid, valid.sum(dim=1)
        j = step % int(self.steps[0])
        if j not in self.positions:
            within = (j * b + arange).unsqueeze(0)
            valid = within < self.common_size
            self.positions[j] = (torch.clamp(within, max=self.common_size - 1), valid,
                                 valid.sum(dim=1))
        return self.positions[j]

    def keep(self, rows: list[int], store, device) -> None:
        """Compact: keep only ``rows`` (their order)."""
        keep = torch.as_tensor(rows, dtype=torch.int64, device=device)
        old = self.optimizer.state
        params = [p.detach().index_select(0, keep).requires_grad_() for p in self.params]
        optimizer = _adam(params, self.optimizer.defaults)
        for new, p in zip(params, self.params, strict=True):
            if p in old and old[p]:
                optimizer.state[new] = {k: (v.index_select(0, keep) if v.dim() else v.clone())
                                        for k, v in old[p].items()}
        self.params, self.optimizer = params, optimizer
        self.best = [b.index_select(0, keep) for b in self.best]
        self.epoch_loss = self.epoch_loss.index_select(0, keep)
        self.members = [self.members[r] for r in rows]
        self._device_vectors(store, device)


def _adam(params, config) -> torch.optim.Adam:
    """Adam on the stacked tensors (elementwise, so member-wise exactly Adam); the fused kernel
    where the build has one for the device, as :func:`nqsgen.training.fit` uses."""
    get = config.get if isinstance(config, dict) else lambda k: getattr(config, k)
    kwargs = {"lr": get("lr"), "weight_decay": get("weight_decay")}
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, **kwargs)


def fit_ensemble(net: StackedNetwork, train: list[Sample], val: list[Sample],
                 generators: list[torch.Generator], config: TrainConfig, n_sites: int,
                 device: torch.device, labels: list[str] | None = None,
                 on_finish=None) -> list[TrainResult]:
    """Train the members of ``net`` (module docstring); afterwards ``net.params`` hold every
    member's restored best parameters (in member order).  Returns one
    :class:`~nqsgen.training.TrainResult` per member.  ``labels`` name the members in the
    log (progress lines at most every ``config.log_interval_s``, one line per member that
    stops).  ``on_finish(m, result, params)``, if given, is called when member m stops, with
    its restored parameters (one tensor per parameter)."""
    config.validate()
    device = torch.device(device)
    store, vstore = (_Store(s, config.target, n_sites, device) for s in (train, val))
    members = [_Member(i, len(s), math.ceil(len(s) / config.batch_size), g)
               for i, (s, g) in enumerate(zip(train, generators, strict=True))]
    final = [p.detach().clone() for p in net.params]
    perm = torch.empty(len(store.y), dtype=torch.int64, device=device)
    for m in members:
        _shuffle(perm, store, m, device)
    active = _Active(net, members, store, config, device)
    clock = _Clock(config, labels or [f"member {m.index}" for m in members])
    arange = torch.arange(config.batch_size, device=device)
    step = 0
    while active.members:
        t0 = time.perf_counter()
        _step(net, active, store, perm, step, arange, config)
        step += 1
        clock.step_time += time.perf_counter() - t0
        ended = np.flatnonzero(step % active.steps == 0)
        if len(ended):
            done = _end_epochs(net, active, ended, store, vstore, val, perm, config, clock,
                               device)
            for r in done:
                m = active.members[r]
                for f, b, p in zip(final, active.best, active.params, strict=True):
                    f[m.index] = (b[r] if m.has_best else p[r].detach())
                clock.finished(m)
                if on_finish is not None:
                    on_finish(m.index, m.result, [f[m.index] for f in final])
            if done:
                active.keep([r for r in range(len(active.members)) if r not in set(done)],
                            store, device)
            clock.maybe_log(active.members, members, step)
    net.params = [f.requires_grad_() for f in final]
    return [m.result for m in members]


def _shuffle(perm: torch.Tensor, store: _Store, m: _Member, device) -> None:
    """Member m's permutation of its examples for its next epoch (its own generator, on the
    CPU as in a separate run), as global example rows."""
    lo = int(store.offsets[m.index])
    order = torch.randperm(m.n, generator=m.generator).to(device) + lo
    perm[lo:lo + m.n] = order


def _step(net, active: _Active, store: _Store, perm, step: int, arange, config) -> None:
    """One optimisation step of every active member (module docstring)."""
    position, valid, count = active.batch(step, arange)     # (M or 1, B) in the epoch
    rows = perm[active.offset.unsqueeze(1) + position]       # (M, B) example rows
    x = store.x[rows].to(torch.float32)
    losses = example_losses(config.target, net(x, active.params, training=True), store.y[rows])
    weights = valid.to(losses.dtype) if store.w is None else store.w[rows] * valid
    count = count.to(losses.dtype)
    loss = (losses * weights).sum(dim=1) / count
    active.optimizer.zero_grad(set_to_none=True)
    loss.sum().backward()
    active.optimizer.step()
    active.epoch_loss += loss.detach() * count


def _end_epochs(net, active: _Active, ended, store, vstore, val, perm, config, clock,
                device) -> list[int]:
    """Validation and early stopping of the rows that finished an epoch; new permutations for
    those that go on.  Returns the rows that stop."""
    idx = torch.as_tensor(ended, dtype=torch.int64, device=device)
    train_loss = (active.epoch_loss.index_select(0, idx) /
                  active.size.index_select(0, idx)).cpu().tolist()
    active.epoch_loss.index_fill_(0, idx, 0.0)
    results = _validate(net, active, ended, vstore, val, config, device)
    improved, done = [], []
    now = clock.elapsed()
    for r, tl, (vl, vo) in zip(ended, train_loss, results, strict=True):
        m = active.members[r]
        m.epoch += 1
        m.curves.append({"epoch": m.epoch, "train_loss": tl, "val_loss": vl,
                         "val_overlap": vo, "time_s": now})
        if vl < m.best_val_loss:
            m.best_epoch, m.best_val_loss, m.best_train_loss = m.epoch, vl, tl
            m.best_val_overlap, m.has_best = vo, True
            improved.append(int(r))
        stop = m.epoch - m.best_epoch >= config.patience
        if stop or m.epoch == config.max_epochs:
            done.append(int(r))
            m.result = clock.result(m, stop)
        else:
            _shuffle(perm, store, m, device)
    if improved:
        rows = torch.as_tensor(improved, dtype=torch.int64, device=device)
        for b, p in zip(active.best, active.params, strict=True):
            b.index_copy_(0, rows, p.detach().index_select(0, rows))
    return done


def _validate(net, active: _Active, rows, vstore: _Store, val: list[Sample], config,
              device) -> list[tuple[float, float]]:
    """(validation loss, validation overlap) of ``rows``: each member's outputs on its own
    validation draws (eval mode), its mean loss over them and the Monte-Carlo overlap estimate
    :func:`nqsgen.overlaps.mc_overlap` — both per member, as :func:`nqsgen.training.fit`."""
    idx = torch.as_tensor(rows, dtype=torch.int64, device=device)
    params = [p.detach().index_select(0, idx) for p in active.params]
    index = [active.members[r].index for r in rows]
    sizes, offsets = vstore.sizes[index], vstore.offsets[index]
    chunk = _inference_batch(net, len(rows), device)
    off_t = torch.as_tensor(offsets, device=device).unsqueeze(1)
    size_t = torch.as_tensor(sizes, device=device).unsqueeze(1)
    outputs = []
    with torch.inference_mode():
        for lo in range(0, int(sizes.max()), chunk):
            within = torch.arange(lo, lo + chunk, device=device).unsqueeze(0)
            x = vstore.x[off_t + torch.minimum(within, size_t - 1)].to(torch.float32)
            outputs.append(net(x, params))
    output = torch.cat(outputs, dim=1)
    out = []
    for i, (m_index, off, n) in enumerate(zip(index, offsets, sizes, strict=True)):
        o = output[i, :n]
        loss = float(example_losses(config.target, o, vstore.y[off:off + n]).mean())
        overlap, _ = mc_overlap(config.target, val[m_index].amplitudes,
                                o.double().cpu().numpy())
        out.append((loss, overlap))
    return out


def _inference_batch(net: StackedNetwork, members: int, device) -> int:
    """Configurations per member in one evaluation: the network's CPU inference batch shared
    out over the members (activations stay in cache), or a large batch on a GPU."""
    if torch.device(device).type == "cuda":
        return max(1024, GPU_INFERENCE_BATCH // max(members, 1))
    return max(128, net.inference_batch // max(members, 1))


class _Clock:
    """Timing of the fit (wall, optimisation steps) and the progress log with an ETA."""

    def __init__(self, config: TrainConfig, labels: list[str]):
        self.config, self.labels = config, labels
        self.t0, self.step_time, self.last_log = time.perf_counter(), 0.0, -math.inf

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def result(self, m: _Member, stopped: bool) -> TrainResult:
        """Member m's result; its step time is the ensemble's so far (it trained in every
        step until now)."""
        return TrainResult(best_epoch=m.best_epoch, epochs=m.epoch,
                           train_loss=m.best_train_loss, val_loss=m.best_val_loss,
                           val_overlap=m.best_val_overlap, stopped_early=stopped,
                           train_time_s=self.elapsed(),
                           samples_per_s=(m.epoch * m.n / self.step_time if self.step_time
                                          else math.nan), curves=m.curves)

    def finished(self, m: _Member) -> None:
        if len(self.labels) > 1:
            log.info("%s: %s after epoch %d (best %d), val_loss %.5f, val_overlap %.4f",
                     self.labels[m.index], "stopped" if m.result.stopped_early else
                     "reached max_epochs", m.epoch, m.best_epoch, m.best_val_loss,
                     m.best_val_overlap)

    def maybe_log(self, active: list[_Member], members: list[_Member], step: int) -> None:
        """A progress line when the interval has passed (and the first and last time)."""
        now = self.elapsed()
        if active and now - self.last_log < self.config.log_interval_s:
            return
        self.last_log = now
        per_step = self.step_time / step
        if len(members) == 1:
            m = members[0]
            log_epoch(m.curves[-1], m.best_epoch, self.config, per_epoch=now / m.epoch)
            return
        c = self.config
        expected = max([(min(c.max_epochs, m.best_epoch + c.patience) - m.epoch)
                        * m.steps_per_epoch for m in active] or [0])
        bound = max([(c.max_epochs - m.epoch) * m.steps_per_epoch for m in active] or [0])
        epochs = [m.epoch for m in active] or [0]
        overlaps = [m.best_val_overlap for m in members if m.has_best] or [math.nan]
        log.info("step %d: %d/%d members training (epoch %d-%d), best val_overlap "
                 "%.4f-%.4f; %.0f examples/s; eta %.1f s (≤ %.1f s)", step, len(active),
                 len(members), min(epochs), max(epochs), min(overlaps), max(overlaps),
                 sum(m.epoch * m.n for m in members) / self.step_time, expected * per_step,
                 bound * per_step)


# ----------------------------------------------------------------------------- test overlaps
class _Spins:
    """Network inputs (B, N) float32 for uint64 states on the device: on the CPU written by
    the compiled kernel into a reused buffer (consume before the next call), on CUDA expanded
    from the bits on the device."""

    def __init__(self, n_sites: int, device, batch: int):
        self.n_sites, self.device = n_sites, torch.device(device)
        if self.device.type == "cuda":
            self.bits = torch.arange(n_sites, device=self.device, dtype=torch.int64)
        else:
            self.buffer = np.empty((batch, n_sites), dtype=np.float32)

    def __call__(self, states: np.ndarray) -> torch.Tensor:
        from nqsgen.models import fill_spins

        states = np.ascontiguousarray(states, dtype=np.uint64)
        if self.device.type == "cuda":
            s = torch.from_numpy(states.view(np.int64).copy()).to(self.device)
            return (((s[:, None] >> self.bits) & 1) * 2 - 1).to(torch.float32)
        x = self.buffer[:len(states)]
        fill_spins(states, self.n_sites, x)
        return torch.from_numpy(x)


def _outputs(net: StackedNetwork, params, spins: _Spins, states: np.ndarray,
             batch: int) -> torch.Tensor:
    """Outputs (M', len(states)) float64 of the members of ``params`` on shared states."""
    parts = []
    with torch.inference_mode():
        for lo in range(0, len(states), batch):
            parts.append(net.forward_shared(spins(states[lo:lo + batch]), params).double())
    return torch.cat(parts, dim=1) if parts else torch.zeros(len(params[0]), 0,
                                                             dtype=torch.float64)


class _ExactSums:
    """:class:`nqsgen.overlaps.OverlapSums` for M members at once (float64 tensors), each over
    its own test set: ``keep`` (M, C) marks the chunk's states in a member's test set."""

    def __init__(self, target: str, members: int, device):
        z = lambda: torch.zeros(members, dtype=torch.float64, device=device)  # noqa: E731
        self.target = target
        self.states, self.norm, self.signed, self.correct = z(), z(), z(), z()
        self.shift = torch.full((members,), -math.inf, dtype=torch.float64, device=device)
        self.cross, self.square = z(), z()

    def add(self, psi: torch.Tensor, output: torch.Tensor, keep: torch.Tensor) -> None:
        k = keep.to(torch.float64)
        w = psi * psi
        self.states += k.sum(1)
        self.norm += k @ w
        if self.target == "sign":
            agree = ((psi >= 0) == (output >= 0)).to(torch.float64)
            self.signed += (k * (2 * agree - 1)) @ w
            self.correct += (k * agree).sum(1)
            return
        top = torch.where(keep, output, -math.inf).amax(dim=1)
        shift = torch.maximum(self.shift, top)
        finite = torch.isfinite(self.shift)
        scale = torch.where(finite, torch.exp(torch.where(finite, self.shift - shift, 0.0)),
                            0.0)
        self.cross, self.square, self.shift = self.cross * scale, self.square * scale**2, shift
        a = torch.where(keep, torch.exp(output - torch.where(torch.isfinite(shift), shift,
                                                             0.0).unsqueeze(1)), 0.0)
        self.cross += a @ psi.abs()
        self.square += (a * a).sum(1)

    def results(self) -> list[dict]:
        """Per member: ``overlap``, ``sign_accuracy``, ``sign_accuracy_weighted``."""
        out = []
        for states, norm, signed, correct, cross, square in zip(
                *(t.cpu().tolist() for t in (self.states, self.norm, self.signed,
                                             self.correct, self.cross, self.square)),
                strict=True):
            if self.target == "sign":
                overlap = signed / norm if norm > 0 else math.nan
                out.append({"overlap": overlap,
                            "sign_accuracy": correct / states if states else math.nan,
                            "sign_accuracy_weighted": (1 + overlap) / 2})
            else:
                den = math.sqrt(norm * square)
                out.append({"overlap": cross / den if den > 0 else math.nan,
                            "sign_accuracy": math.nan, "sign_accuracy_weighted": math.nan})
        return out


def _excluded_matrix(excluded: list[np.ndarray], device) -> torch.Tensor:
    """The members' sorted excluded states (train ∪ val) as rows of one int64 matrix, padded
    with the largest int64 (no basis state: N ≤ 62)."""
    width = max(1, max(len(e) for e in excluded))
    matrix = np.full((len(excluded), width), np.iinfo(np.int64).max, dtype=np.int64)
    for row, e in zip(matrix, excluded, strict=True):
        row[:len(e)] = e.view(np.int64)
    return torch.from_numpy(matrix).to(device)


def exact_ensemble_overlaps(net: StackedNetwork, rows: list[int], ground_state,
                            excluded: list[np.ndarray], target: str, device) -> list[dict]:
    """Exact test overlaps of members ``rows`` of ``net`` (all of one ground state) in one
    streaming pass over its basis; ``excluded[i]``: member rows[i]'s sorted train ∪ val
    states.  Returns, per member, the keys of :func:`nqsgen.overlaps.test_overlap`."""
    t0 = time.perf_counter()
    device = torch.device(device)
    index = torch.as_tensor(rows, dtype=torch.int64, device=device)
    params = net.select(index)
    batch = _inference_batch(net, len(rows), device)
    spins = _Spins(net_sites(net), device, batch)
    table = _excluded_matrix(excluded, device)
    sums, evaluated = _ExactSums(target, len(rows), device), 0
    progress = _PassProgress(ground_state.dimension, len(rows))
    for _, chunk in ground_state.iter_chunks(columns=("state", "amplitude"),
                                             batch_rows=EXACT_CHUNK):
        states = chunk["state"]
        output = _outputs(net, params, spins, states, batch)
        s = torch.from_numpy(states.view(np.int64).copy()).to(device)
        probe = s.expand(len(rows), -1).contiguous()
        pos = torch.searchsorted(table, probe).clamp_(max=table.shape[1] - 1)
        keep = table.gather(1, pos) != probe
        sums.add(torch.from_numpy(np.array(chunk["amplitude"])).to(device), output, keep)
        evaluated += len(states)
        progress.update(evaluated)
    wall = time.perf_counter() - t0
    results = sums.results()
    counts = sums.states.cpu().tolist()
    for r, n in zip(results, counts, strict=True):
        r.update(overlap_se=0.0, overlap_method="exact", overlap_samples=int(n),
                 overlap_draws=int(n), eval_time_s=wall,
                 inference_states_per_s=evaluated / wall if wall > 0 else math.nan)
    return results


class _PassProgress:
    """Logs the exact test pass every ``every`` seconds: states done, rate and ETA."""

    def __init__(self, total: int, members: int, every: float = 30.0):
        self.total, self.members, self.every = total, members, every
        self.t0 = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every or done >= self.total:
            return
        self.last = now
        rate = done / (now - self.t0)
        log.info("exact test pass: %.1f%% of %d states for %d members, %.3g states/s, "
                 "eta %.0f s", 100 * done / self.total, self.total, self.members, rate,
                 (self.total - done) / rate)


def net_sites(net: StackedNetwork) -> int:
    """N, the number of input spins of the members."""
    return net.n_sites


def member_predictor(net: StackedNetwork, row: int, device):
    """``predict(states) -> float64 outputs`` of member ``row`` alone (for
    :func:`nqsgen.overlaps.test_overlap`)."""
    params = net.select(torch.as_tensor([row], dtype=torch.int64, device=device))
    batch = _inference_batch(net, 1, device)
    spins = _Spins(net_sites(net), device, batch)

    def predict(states: np.ndarray) -> np.ndarray:
        states = np.ascontiguousarray(states, dtype=np.uint64)
        return _outputs(net, params, spins, states, batch)[0].cpu().numpy()

    return predict


def ensemble_test_overlaps(net: StackedNetwork, ground_states: list, splits: list,
                           target: str, *, exact_max_states: int, mc_samples: int,
                           rngs: list[np.random.Generator], device) -> list[dict]:
    """Every member's test overlap (module docstring): member m learnt from
    ``ground_states[m]`` with split ``splits[m]``; members of one ground state (the same
    object) share its exact pass; Monte-Carlo members draw from ``rngs[m]``."""
    from nqsgen.overlaps import test_overlap

    out: list[dict | None] = [None] * len(splits)
    groups: dict[int, list[int]] = {}
    for m, state in enumerate(ground_states):
        groups.setdefault(id(state), []).append(m)
    for rows in groups.values():
        state = ground_states[rows[0]]
        if state.dimension <= exact_max_states:
            results = exact_ensemble_overlaps(net, rows, state,
                                              [splits[m].excluded for m in rows], target,
                                              device)
        else:
            results = [test_overlap(member_predictor(net, m, device), state,
                                    splits[m].excluded, target,
                                    exact_max_states=exact_max_states, mc_samples=mc_samples,
                                    rng=rngs[m],
                                    test_mass=splits[m].test_mass / state.norm_squared)
                       for m in rows]
        for m, r in zip(rows, results, strict=True):
            out[m] = r
    return out
