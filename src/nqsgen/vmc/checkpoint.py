"""Checkpoints of an SR run: everything that determines the rest of the trajectory.

A checkpoint written after iteration t holds the network parameters, the sampler's state (the
Metropolis chains and its ``torch.Generator``), torch's global CPU RNG state, the trajectory
rows 0..t−1 and the run's settings.  Resuming from it replays iterations t, t+1, … exactly as
an uninterrupted run does (bitwise on the CPU with the same thread count): SR itself keeps no
other state (CG starts from zero every iteration) and the schedules depend on t only.

Files are written with ``torch.save`` through :func:`nqsgen.publish.atomic_path`, so a run
killed while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

from pathlib import Path

import torch

from nqsgen.errors import ConfigError
from nqsgen.publish import atomic_path

FORMAT = 1


def save(path: Path, *, settings: dict, iteration: int, wavefunction: dict, sampler: dict,
         trajectory: list[dict]) -> None:
    """Atomically write a checkpoint taken after ``iteration`` iterations."""
    state = {"format": FORMAT, "settings": settings, "iteration": iteration,
             "wavefunction": wavefunction, "sampler": sampler, "trajectory": trajectory,
             "torch_rng": torch.get_rng_state()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: Path, settings: dict) -> dict:
    """Read a checkpoint and check that it was written by a run with the same ``settings``
    (every key that shapes the trajectory); raises :class:`ConfigError` naming the first
    difference."""
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises several types for bad files
        raise ConfigError(f"checkpoint {path} is unreadable ({type(exc).__name__}); "
                          "delete it to start afresh") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ConfigError(f"checkpoint {path} has an unknown format; delete it to start afresh")
    saved = state["settings"]
    for key, value in settings.items():
        if saved.get(key) != value:
            raise ConfigError(f"checkpoint {path} was written with {key}={saved.get(key)!r}, "
                              f"this run has {key}={value!r} (delete it or use the same settings)")
    torch.set_rng_state(state["torch_rng"])
    return state
