"""What the training benchmarks share: the environment of the processes they start (thread
counts pinned, the repository's sources first, Open MPI allowed to run as root and to
oversubscribe), the ground state they measure on (computed once, not timed) and the machine
record written beside every result."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environment(threads: int) -> dict:
    """``os.environ`` for a child process limited to ``threads`` BLAS/OpenMP threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT / "src"),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def ensure_ground_state(cluster: str, j2: float, directory) -> None:
    """Compute the ground state of ``cluster`` at ``j2`` into ``directory`` (2 MPI ranks)
    unless it is there already."""
    if (Path(directory) / "metadata.json").is_file():
        return
    print(f"computing the ground state into {directory} (not timed)", file=sys.stderr)
    subprocess.run(["mpiexec", "-n", "2", sys.executable, "-m", "nqsgen.stages.ground_state",
                    "--cluster", cluster, "--j2", str(j2), "--out", str(directory)],
                   check=True, env=environment(1), cwd=ROOT)


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it (else what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Host, CPU, cores, GPU, torch and Python versions, and the UTC date."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"host": platform.node(), "cpu": cpu_name(), "cores": os.cpu_count(), "gpu": gpu,
            "torch": torch.__version__, "python": platform.python_version(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
