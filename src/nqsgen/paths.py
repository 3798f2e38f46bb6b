"""The directory layout of the pipeline's outputs — one home, used by the stages and the
workflow alike.

Every path is relative to the working directory (the repository root, or ``.test`` for the CI
configuration).  J2 and εtrain appear in directory names as ``format(x, "g")`` (``J2=0``,
``J2=0.55``, ``eps=0.0001``, ``eps=1e-05``), so a number has exactly one directory name; the
hive-style ``key=value`` components let ``pyarrow.dataset.dataset(root,
partitioning="hive")`` read every run in one call.

Patterns (``{...}`` are Snakemake wildcards; :func:`pattern` fills them):

=================  ==========================================================================
``CLUSTER``        ``results/clusters/{cluster}`` (+ ``.json``, ``.pdf``, ``.spec.yaml``)
``GROUND_STATE``   ``results/ground_states/{cluster}/J2={j2}`` (parquet shards, metadata.json)
``TRAIN_RUN``      ``results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}``
``VMC_RUN``        ``results/vmc/{cluster}/J2={j2}/seed={seed}``
``BASELINE``       ``results/baselines/{cluster}/J2={j2}/marshall.parquet`` (sign baselines)
``TABLE``          ``results/tables/{experiment}`` (+ ``.parquet``, ``.critical.parquet``, ...)
``FIGURE``         ``results/figures/{experiment}.pdf``
=================  ==========================================================================

``{arch}`` is an architecture name, or ``{arch}-w{width}`` (``dense2-w64``) for a run that fixes
its own hidden width — the runs of ``capacity`` experiments (:func:`arch_label`); every other
run's directory has the plain name.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = "results"
CLUSTER = "results/clusters/{cluster}"
GROUND_STATE = "results/ground_states/{cluster}/J2={j2}"
TRAIN_RUN = "results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}"
VMC_RUN = "results/vmc/{cluster}/J2={j2}/seed={seed}"
BASELINE = "results/baselines/{cluster}/J2={j2}/marshall.parquet"
TABLE = "results/tables/{experiment}"
FIGURE = "results/figures/{experiment}.pdf"
#: The file a stage writes last into its output directory: what marks the directory as a
#: complete output of that stage (and the only kind of directory the stage may replace).
MARKERS = {"ground_state": "metadata.json", "train": "metrics.parquet", "vmc": "metrics.parquet"}


def number(x: float) -> str:
    """A J2 or εtrain value as it appears in paths: ``format(x, "g")``."""
    return format(float(x), "g")


def j2_dirname(j2: float) -> str:
    """``J2=`` + ``format(j2, "g")`` (``J2=0``, ``J2=0.55``)."""
    return f"J2={number(j2)}"


def eps_dirname(eps: float) -> str:
    """``eps=`` + ``format(eps, "g")`` (``eps=0.01``, ``eps=1``)."""
    return f"eps={number(eps)}"


def pattern(template: str, root: str | Path | None = None, **values) -> Path:
    """``template`` with its wildcards filled (J2 and εtrain written as in :func:`number`),
    below ``root`` instead of ``results`` when given."""
    filled = {k: number(v) if k in ("j2", "eps") else v for k, v in values.items()}
    path = template.format(**filled)
    if root is not None:
        path = str(Path(root) / Path(path).relative_to(RESULTS))
    return Path(path)


def ground_state_dir(cluster: str, j2: float, root: str | Path | None = None) -> Path:
    """``results/ground_states/{cluster}/J2={j2}``."""
    return pattern(GROUND_STATE, root, cluster=cluster, j2=j2)


def train_run_dir(cluster: str, j2: float, target: str, arch: str, eps: float, seed: int,
                  root: str | Path | None = None) -> Path:
    """``results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}``."""
    return pattern(TRAIN_RUN, root, cluster=cluster, j2=j2, target=target, arch=arch, eps=eps,
                   seed=int(seed))


#: A run's ``{arch}`` component with an explicit hidden width (``capacity`` experiments):
#: ``{arch}-w{width}``, e.g. ``dense2-w64``; plain architecture names have no width suffix.
ARCH_WIDTH = re.compile(r"^(?P<arch>.+)-w(?P<width>[1-9][0-9]*)$")


def arch_label(arch: str, width: int | None = None) -> str:
    """The ``{arch}`` path component of a run: ``arch``, or ``{arch}-w{width}`` when the run
    fixes its own hidden width (``dense2-w64``; see :data:`ARCH_WIDTH`)."""
    return arch if width is None else f"{arch}-w{int(width)}"


def split_arch_label(label: str) -> tuple[str, int | None]:
    """(architecture, width or None) of an ``{arch}`` path component (:func:`arch_label`)."""
    m = ARCH_WIDTH.match(label)
    return (m["arch"], int(m["width"])) if m else (label, None)


def arch_pattern(names) -> str:
    """Regex of the ``{arch}`` components of the architectures ``names``: each name, alone or
    with a width label (the workflow's ``arch`` wildcard constraint)."""
    return "(?:" + "|".join(re.escape(n) for n in names) + r")(?:-w[1-9][0-9]*)?"


def vmc_run_dir(cluster: str, j2: float, seed: int, root: str | Path | None = None) -> Path:
    """``results/vmc/{cluster}/J2={j2}/seed={seed}``."""
    return pattern(VMC_RUN, root, cluster=cluster, j2=j2, seed=int(seed))
