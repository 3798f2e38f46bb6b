"""Supervised training of a sign or amplitude network with early stopping (paper, "Training
procedure").

Losses (per example i; a batch's loss is the mean over its examples, times the example weights
w_i of :class:`~nqsgen.datasets.Sample` when present)
--------------------------------------------------------------------------------------------
* ``sign``: binary cross-entropy −[(1+s_i)/2 · log p_i + (1−s_i)/2 · log(1−p_i)] with
  p_i = sigmoid(logit_i), computed from the logit (``binary_cross_entropy_with_logits``).
* ``amplitude``: squared error (log a_i − log|ψ_i|)², natural logarithms.

The paper writes both losses as sums over the training set; we minimise the mean over each
batch, which differs by a constant factor absorbed into the learning rate.

Procedure
---------
Adam (lr 1e-3, optional L2 weight decay), batches of 128 (64 selectable) drawn by a fresh
random permutation of the training examples each epoch (the last batch may be smaller).  After
every epoch the validation loss (mean over the validation draws, eval mode: dropout off) and the
validation overlap (Monte-Carlo estimate from the validation draws, :func:`nqsgen.overlaps
.mc_overlap`) are computed.  Early stopping: training ends after ``patience`` epochs without a
validation-loss improvement, or after ``max_epochs``; the parameters of the best epoch are
restored.  ``train_loss`` of an epoch is the mean of its batch losses (in train mode).

Reproducibility: parameters are initialised and batches shuffled from the run's ``torch``
seed stream; on CPU with a fixed thread count every number is reproducible.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nqsgen.basis import spins
from nqsgen.datasets import Sample
from nqsgen.errors import ConfigError
from nqsgen.models import CPU_INFERENCE_BATCH, GPU_INFERENCE_BATCH
from nqsgen.overlaps import TARGETS, mc_overlap

log = logging.getLogger("nqsgen.training")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation hyper-parameters (see the module docstring)."""

    target: str = "sign"
    lr: float = 1e-3
    batch_size: int = 128
    max_epochs: int = 500
    patience: int = 20
    weight_decay: float = 0.0
    log_interval_s: float = 1.0  # at most one log line per interval (first and last always)

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r} (known: {', '.join(TARGETS)})")
        if not 0 < self.lr < math.inf:
            raise ConfigError(f"learning rate must be > 0, got {self.lr}")
        if self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ConfigError("batch size, max epochs and patience must be ≥ 1, got "
                              f"{self.batch_size}, {self.max_epochs}, {self.patience}")
        if not 0 <= self.weight_decay < math.inf:
            raise ConfigError(f"weight decay must be ≥ 0, got {self.weight_decay}")


@dataclass
class TrainResult:
    """Outcome of :func:`fit`: values at the restored best epoch, and per-epoch curves.

    ``train_time_s`` is the wall time of the whole fit (validation included);
    ``samples_per_s`` counts training examples per second of optimisation steps only.
    """

    best_epoch: int
    epochs: int
    train_loss: float
    val_loss: float
    val_overlap: float
    stopped_early: bool
    train_time_s: float
    samples_per_s: float
    curves: list[dict] = field(default_factory=list)


def example_losses(target: str, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss: BCE from logits (sign) or squared log-amplitude error (amplitude)."""
    if target == "sign":
        return F.binary_cross_entropy_with_logits(output, y, reduction="none")
    return (output - y) ** 2


class _Tensors:
    """A sample's spins, targets and weights on the training device."""

    def __init__(self, sample: Sample, target: str, n_sites: int, device: torch.device):
        self.x = torch.from_numpy(spins(sample.states, n_sites, np.float32)).to(device)
        self.y = torch.from_numpy(sample.targets(target)).to(device)
        w = sample.weights
        self.w = None if w is None else torch.from_numpy(w).to(device)
        self.n = len(sample)


def _make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device):
    kwargs = {"lr": config.lr, "weight_decay": config.weight_decay}
    try:
        return torch.optim.Adam(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):  # fused kernels unavailable for this device/build
        return torch.optim.Adam(model.parameters(), **kwargs)


def _train_epoch(model, opt, data: _Tensors, config: TrainConfig, generator) -> float:
    model.train()
    perm = torch.randperm(data.n, generator=generator).to(data.x.device)
    total = torch.zeros((), device=data.x.device)
    for lo in range(0, data.n, config.batch_size):
        idx = perm[lo:lo + config.batch_size]
        losses = example_losses(config.target, model(data.x[idx]), data.y[idx])
        loss = (losses * data.w[idx]).mean() if data.w is not None else losses.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach() * len(idx)
    return float(total) / data.n


def _validate(model, val: Sample, data: _Tensors, target: str, batch: int):
    """Mean validation loss and the Monte-Carlo overlap estimate from the validation draws."""
    model.eval()
    with torch.inference_mode():
        output = torch.cat([model(data.x[lo:lo + batch]) for lo in range(0, data.n, batch)])
        loss = float(example_losses(target, output, data.y).mean())
    overlap, _ = mc_overlap(target, val.amplitudes, output.double().cpu().numpy())
    return loss, overlap


class EarlyStopping:
    """Tracks the best validation loss; keeps a copy of the best parameters."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best = {"epoch": 0, "val_loss": math.inf, "train_loss": math.nan,
                     "val_overlap": math.nan}
        self._state = None

    def update(self, model: nn.Module, row: dict) -> None:
        if row["val_loss"] < self.best["val_loss"]:
            self.best = {k: row[k] for k in ("epoch", "val_loss", "train_loss", "val_overlap")}
            self._state = copy.deepcopy(model.state_dict())

    def should_stop(self, epoch: int) -> bool:
        return epoch - self.best["epoch"] >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self._state is not None:
            model.load_state_dict(self._state)


def fit(model: nn.Module, train: Sample, val: Sample, config: TrainConfig, n_sites: int,
        device: torch.device, generator: torch.Generator) -> TrainResult:
    """Train ``model`` in place (best epoch restored); ``generator`` (CPU) shuffles batches."""
    config.validate()
    train_t = _Tensors(train, config.target, n_sites, device)
    val_t = _Tensors(val, config.target, n_sites, device)
    batch = (GPU_INFERENCE_BATCH if device.type == "cuda"
             else getattr(model, "inference_batch", CPU_INFERENCE_BATCH))
    opt = _make_optimizer(model, config, device)
    stopping = EarlyStopping(config.patience)
    curves, t0, last_log, step_time = [], time.perf_counter(), -math.inf, 0.0
    for epoch in range(1, config.max_epochs + 1):
        t_epoch = time.perf_counter()
        train_loss = _train_epoch(model, opt, train_t, config, generator)
        step_time += time.perf_counter() - t_epoch
        val_loss, val_overlap = _validate(model, val, val_t, config.target, batch)
        curves.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                       "val_overlap": val_overlap, "time_s": time.perf_counter() - t0})
        stopping.update(model, curves[-1])
        done = stopping.should_stop(epoch) or epoch == config.max_epochs
        if done or epoch == 1 or curves[-1]["time_s"] - last_log >= config.log_interval_s:
            last_log = curves[-1]["time_s"]
            log_epoch(curves[-1], stopping.best["epoch"], config)
        if done:
            break
    stopping.restore(model)
    best = stopping.best
    return TrainResult(best_epoch=best["epoch"], epochs=len(curves),
                       train_loss=best["train_loss"], val_loss=best["val_loss"],
                       val_overlap=best["val_overlap"],
                       stopped_early=stopping.should_stop(len(curves)),
                       train_time_s=time.perf_counter() - t0,
                       samples_per_s=len(curves) * train_t.n / step_time if step_time else math.nan,
                       curves=curves)


def log_epoch(row: dict, best_epoch: int, config: TrainConfig,
              per_epoch: float | None = None) -> None:
    """One line: epoch, losses, validation overlap, and the ETA (expected if the validation
    loss does not improve again, and the bound set by max_epochs)."""
    epoch = row["epoch"]
    per_epoch = row["time_s"] / epoch if per_epoch is None else per_epoch
    expected = min(config.max_epochs, best_epoch + config.patience) - epoch
    log.info("epoch %4d  train_loss %.5f  val_loss %.5f  val_overlap %.4f  best %d  "
             "%.2f s/epoch  eta %.1f s (≤ %.1f s)", epoch, row["train_loss"], row["val_loss"],
             row["val_overlap"], best_epoch, per_epoch, expected * per_epoch,
             (config.max_epochs - epoch) * per_epoch)
