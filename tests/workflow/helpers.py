"""Running the workflow for real in tests: Snakemake as a subprocess of this interpreter
(``python -m snakemake``) in a temporary working directory (``--directory``) holding
``config/config.yaml``, so the repository's results/, logs/ and .snakemake/ are never touched;
the environment is bin/env's (Open MPI as root, oversubscription, one BLAS thread)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
CI_CONFIG = REPO / ".test" / "config" / "config.yaml"
DEFAULT_CONFIG = REPO / "config" / "config.yaml"


def smk_env(base: dict | None = None) -> dict:
    env = dict(os.environ if base is None else base)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
            "--directory", str(workdir), *args]


def snakemake(workdir: Path, *args: str, timeout: float = 300,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir``; stdout and stderr together in ``.stdout``."""
    return subprocess.run(snakemake_cmd(workdir, *args), cwd=REPO, env=env or smk_env(),
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)


def make_workdir(path: Path, config: dict | Path) -> Path:
    (path / "config").mkdir(parents=True)
    target = path / "config" / "config.yaml"
    if isinstance(config, Path):
        shutil.copy(config, target)
    else:
        target.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table Snakemake prints: rule -> number of jobs."""
    table = output[output.index("Job stats:"):]
    table = table[:table.index("\n\n", table.index("total"))] if "total" in table else table
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-5000:]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def processes_in(workdir: Path) -> list[int]:
    """PIDs of processes whose working directory is ``workdir`` (a job's processes)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.readlink(proc / "cwd") == str(workdir):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def trained_runs(output: str) -> list[str]:
    """Run directories that the printed jobs train: the ``metrics.parquet`` outputs of the jobs
    of rule ``train`` and of the ensemble rules ``train_<cluster>_<target>_<arch>_<id>``
    (one entry per job output, so a run trained twice would appear twice)."""
    runs, rule = [], None
    for line in output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.startswith("    output: ") and rule and rule.startswith("train"):
            runs += [f.rsplit("/", 1)[0] for f in line[len("    output: "):].split(", ")
                     if f.endswith("/metrics.parquet")]
    return runs


def training_jobs(counts: dict[str, int]) -> dict[str, int]:
    """The training rules' job counts: rule ``train`` and the ensemble rules."""
    return {rule: n for rule, n in counts.items() if rule.startswith("train")}
