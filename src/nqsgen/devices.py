"""Choosing the torch device and the CPU thread count of a training run.

``auto`` is CUDA when ``torch.cuda.is_available()``, else the CPU.  The CPU thread count is
always set explicitly (torch intra-op threads and numba threads), because results on the CPU
are reproducible only for a fixed thread count.
"""

from __future__ import annotations

import numba
import torch

from nqsgen.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """``auto`` → ``cuda`` if available, else ``cpu``; ``cuda`` without CUDA is an error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ConfigError(f"unknown device {name!r} (known: {', '.join(DEVICES)}, cuda:N)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available "
                          "(use --device auto or cpu)")
    return torch.device(name)


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch and in the compiled (numba) kernels.

    numba first: with its OpenMP threading layer, starting numba's pool resets the OpenMP
    thread count that torch reads to NUMBA_NUM_THREADS (all cores), so torch is set last.
    """
    if threads < 1:
        raise ConfigError(f"threads must be ≥ 1, got {threads}")
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    torch.set_num_threads(threads)


def describe(device: torch.device) -> str:
    """Human-readable device name (GPU model, or ``cpu``)."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"
