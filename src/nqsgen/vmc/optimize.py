"""The SR loop: sample, local energies, one SR update — and one trajectory row — per iteration.

Iteration t (t = 0, 1, …) measures the energy of the parameters it starts from, then updates
them (:func:`nqsgen.vmc.sr.sr_step` with the schedules at t).  Its trajectory row
(:data:`TRAJECTORY_COLUMNS`) holds what it measured (``energy``, ``energy_error``,
``variance``, ``acceptance``, ``autocorrelation_time``; σ units), what it did (``lr``,
``shift``, ``cg_iterations``, ``cg_residual``, ``force_norm``, ``update_norm``), optionally the
exact ``overlap`` of the parameters it starts from (every ``overlap_every`` iterations, else
NaN) and its wall time ``time_s``.  Everything but ``time_s`` is reproducible.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from nqsgen.vmc.sr import SRConfig, sr_step
from nqsgen.vmc.wavefunction import WaveFunction

log = logging.getLogger("nqsgen.vmc")

TRAJECTORY_COLUMNS = ("iteration", "energy", "energy_imag", "energy_error", "variance",
                      "acceptance", "autocorrelation_time", "lr", "shift", "cg_iterations",
                      "cg_residual", "force_norm", "update_norm", "overlap", "time_s")


@dataclass(frozen=True)
class LoopConfig:
    """How long to run and what to do on the side."""

    iterations: int
    overlap_every: int = 0  # 0: never during the optimisation
    log_every: int = 10
    checkpoint_every: int = 0  # 0: only at the end (when a checkpoint callback is given)


def sr_iteration(wf: WaveFunction, sampler, config: SRConfig, t: int,
                 overlap: Callable[[WaveFunction], float] | None = None) -> dict:
    """One iteration; returns its trajectory row."""
    start = time.perf_counter()
    ensemble = sampler.sample(wf)
    e_loc = sampler.local_energies(wf, ensemble)
    stats = ensemble.energy_statistics(e_loc)
    measured = overlap(wf) if overlap is not None else math.nan
    step = sr_step(wf, ensemble.spins, ensemble.weights, e_loc, config, t)
    row = {"iteration": t, **stats, "acceptance": ensemble.acceptance, "lr": step.lr,
           "shift": step.shift, "cg_iterations": step.cg_iterations,
           "cg_residual": step.cg_residual, "force_norm": step.force_norm,
           "update_norm": step.update_norm, "overlap": measured,
           "time_s": time.perf_counter() - start}
    return {k: row[k] for k in TRAJECTORY_COLUMNS}


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def log_row(row: dict, iterations: int, seconds_per_iteration: float) -> None:
    eta = _eta(seconds_per_iteration * (iterations - row["iteration"] - 1))
    overlap = "" if math.isnan(row["overlap"]) else f"  overlap {row['overlap']:.5f}"
    log.info("iter %d/%d  E %.6f ± %.1e (σ units)  var %.4g  acc %.3f  τ %.2f  lr %.3g  "
             "shift %.3g  cg %d (res %.1e)  |Δθ| %.3g%s  %.3f s/iter  eta %s",
             row["iteration"] + 1, iterations, row["energy"], row["energy_error"],
             row["variance"], row["acceptance"], row["autocorrelation_time"], row["lr"],
             row["shift"], row["cg_iterations"], row["cg_residual"], row["update_norm"],
             overlap, seconds_per_iteration, eta)


def run_sr(wf: WaveFunction, sampler, config: SRConfig, loop: LoopConfig, trajectory: list[dict],
           overlap: Callable[[WaveFunction], float] | None = None,
           checkpoint: Callable[[int], None] | None = None) -> list[dict]:
    """Iterations ``len(trajectory)`` … ``loop.iterations − 1``, appending to ``trajectory``;
    ``checkpoint(t)`` after every ``checkpoint_every``-th iteration and after the last."""
    start = len(trajectory)
    begin = time.perf_counter()
    for t in range(start, loop.iterations):
        due = overlap is not None and loop.overlap_every and t % loop.overlap_every == 0
        trajectory.append(sr_iteration(wf, sampler, config, t, overlap if due else None))
        done = t + 1
        if loop.log_every and (t == start or done % loop.log_every == 0
                               or done == loop.iterations):
            log_row(trajectory[-1], loop.iterations, (time.perf_counter() - begin) / (done - start))
        if checkpoint is not None and (done == loop.iterations or (
                loop.checkpoint_every and done % loop.checkpoint_every == 0)):
            checkpoint(done)
    return trajectory
