"""Shared test helpers: running package stages as real subprocesses (under mpiexec)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# fixtures of synthetic training runs (j2_runs, eps_runs) for the tables and figures tests
pytest_plugins = ["tests.synthetic_runs"]


def stage_env() -> dict:
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_module(module: str, *args: str, ranks: int | None = None, timeout: float = 600,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` (under ``mpiexec -n ranks`` when ranks is given)."""
    cmd = [sys.executable, "-m", module, *map(str, args)]
    if ranks is not None:
        cmd = ["mpiexec", "-n", str(ranks), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=stage_env(), timeout=timeout,
                          cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture
def run_stage():
    return run_module


def solve_ground_states(base, points) -> dict:
    """Exact ground states (scipy, one process) of ``points`` = ((cluster, J2 string), ...)
    under ``base``; returns cluster -> directory."""
    out = {}
    for cluster, j2 in points:
        out[cluster] = base / cluster
        run_module("nqsgen.stages.ground_state", "--cluster", cluster, "--j2", j2, "--out",
                   out[cluster], "--solver", "scipy")
    return out
