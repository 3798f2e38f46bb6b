"""What the workflow computes for a validated configuration: targets, the runs of every
experiment, each job's settings and its resources — package code, so that the Snakemake
layer (``workflow/rules/common.smk``) only wires it to rules and tests can check it directly.

An experiment (config ``experiments``) is one figure ``results/figures/{experiment}.pdf``; its
``kind`` selects the rules that build it::

    clusters  -> figure_clusters                                  (Fig. 1)
    j2_sweep  -> aggregate_j2_sweep  + figure_j2_sweep            (Figs. 2, 4, S2, S4)
    eps_sweep -> aggregate_eps_sweep + figure_eps_sweep           (Figs. 3, S3)
    scaling   -> aggregate_scaling   + figure_scaling             (Fig. 5)
    capacity  -> aggregate_capacity  + figure_capacity            (overlap vs hidden width)

Runs shared by several experiments (same cluster, J2, target, arch, εtrain and seed) are
computed once: seeds are 0 .. seeds-1 everywhere.  A capacity experiment's runs fix their own
hidden width: their ``arch`` is the label ``{arch}-w{width}`` (:func:`nqsgen.paths.arch_label`,
e.g. ``dense2-w64``), which names their directory and which the train stage reads as the
architecture and its width; every other run has the plain name and the configured width.
Input functions take Snakemake's ``wildcards`` object (anything with the wildcard names as
attributes).

Ensembles (:meth:`Plan.ensembles`): the training runs are trained in jobs of several runs
(:mod:`nqsgen.ensemble`).  An ensemble's runs share the cluster, target and architecture
(its label: so also the width), and the set of experiments they belong to (so that
building one figure trains only its runs); ``train.ensemble_group`` says what else they may
differ in (seed, εtrain, J2).  A group of n runs becomes
k = max(⌈n / ensemble_size⌉, ⌈examples / ENSEMBLE_MAX_BYTES⌉) ensembles, dealt round robin
in decreasing order of cost (examples per epoch), so that the k jobs take about
equally long and each keeps many members training.  The composition depends only on the
configuration (not on what exists on disk), so a run's numbers do too.  Groups of one run
and runs that no experiment plans are single-run jobs (rule ``train``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property

from nqsgen import paths
from nqsgen.config.cli import flags
from nqsgen.config.hyperparameters import TrainSettings, VmcSettings
from nqsgen.config.validate import cluster_spec, known_clusters
from nqsgen.config.workflow import GroundStateEntry
from nqsgen.symmetry.selection import resolve_symmetries

MEMORY_MARGIN = 1.25  # on top of the solvers' estimates: MPI buffers, allocator slack
BASE_JOB_MB = 2000    # interpreter, torch, numba and the ground state's reader
#: Default most runs per training job (config train.ensemble_size): on CPUs and with GPUs.
ENSEMBLE_SIZE = {"cpu": 32, "gpu": 512}
#: An ensemble's examples (nqsgen.datasets.memory_needed, summed) are kept below this.
ENSEMBLE_MAX_BYTES = 3 * 10**9


class Plan:
    """The jobs of one validated configuration (see the module docstring)."""

    def __init__(self, config: dict):
        self.config = config
        self.experiments = config["experiments"]
        self.clusters = known_clusters(config)
        self._cluster = cache(self._build_cluster)

    # -- clusters and ground states ------------------------------------------------------
    def _build_cluster(self, name: str):
        from nqsgen.clusters import cluster_from_spec

        return cluster_from_spec(name, cluster_spec(self.config, name))

    def cluster(self, name: str):
        """The (cached) :class:`~nqsgen.clusters.Cluster` of a validated name."""
        return self._cluster(name)

    def cluster_definition(self, wildcards) -> dict:
        """The cluster's spec; a params value, so that editing it reruns the cluster's jobs."""
        return cluster_spec(self.config, wildcards.cluster)

    def ground_state(self, wildcards) -> dict:
        """The cluster's ``ground_states`` entry (defaults for clusters not listed)."""
        entry = self.config["ground_states"].get(wildcards.cluster, {"j2": [0.0]})
        return GroundStateEntry(**entry).model_dump()

    def symmetries(self, wildcards) -> str:
        n_sites = self.cluster(wildcards.cluster).n_sites
        return resolve_symmetries(self.ground_state(wildcards)["symmetries"], n_sites)

    def ground_state_tasks(self, wildcards) -> int:
        """MPI tasks: ``ranks`` for slepc; the scipy solver is a single process."""
        settings = self.ground_state(wildcards)
        return 1 if settings["solver"] == "scipy" else settings["ranks"]

    def ground_state_mem_mb(self, wildcards, attempt: int = 1) -> int:
        """Memory of the whole solve (all ranks) in MB: the config's ``mem_mb``, or the
        solver's own estimate times :data:`MEMORY_MARGIN`; times the attempt number."""
        from nqsgen.basis import SzBasis
        from nqsgen.eigensolvers import memory_estimate
        from nqsgen.hamiltonian import Heisenberg
        from nqsgen.symmetry import cluster_group
        from nqsgen.symmetry import memory_estimate as symmetric_estimate

        settings = self.ground_state(wildcards)
        if settings["mem_mb"]:
            return settings["mem_mb"] * attempt
        cluster = self.cluster(wildcards.cluster)
        hamiltonian = Heisenberg.from_cluster(cluster, j2=float(wildcards.j2))
        tasks, symmetries = self.ground_state_tasks(wildcards), self.symmetries(wildcards)
        if symmetries == "none":
            estimate = memory_estimate(hamiltonian, SzBasis(cluster.n_sites), tasks)
        else:
            estimate = symmetric_estimate(hamiltonian, cluster_group(cluster, symmetries), tasks)
        return math.ceil(estimate["bytes_total"] * MEMORY_MARGIN / 2**20) * attempt

    def ground_state_runtime(self, wildcards, attempt: int = 1) -> int:
        return self.ground_state(wildcards)["runtime"] * attempt

    # -- training and VMC jobs -----------------------------------------------------------
    def train_flags(self, wildcards=None) -> str:
        """The configured hyper-parameter flags of every training run (a params value)."""
        return flags(self.config["train"], TrainSettings)

    def vmc_flags(self, wildcards=None) -> str:
        return flags(self.config["vmc"], VmcSettings)

    def run_mem_mb(self, stage: str, wildcards, attempt: int = 1) -> int:
        """Memory of one training or VMC run in MB (``mem_mb`` of the config's section, or
        :data:`BASE_JOB_MB` plus the run's own estimate); times the attempt number."""
        section = self.config[stage]
        if section.get("mem_mb"):
            return section["mem_mb"] * attempt
        cluster = self.cluster(wildcards.cluster)
        estimate = (_train_bytes(cluster.n_sites, float(wildcards.eps), section)
                    + _network_bytes(getattr(wildcards, "arch", ""), cluster, section, 1)
                    if stage == "train" else _vmc_bytes(cluster.n_sites, section))
        return (BASE_JOB_MB + math.ceil(estimate / 2**20)) * attempt

    def runtime(self, stage: str, attempt: int = 1) -> int:
        return self.config[stage]["runtime"] * attempt

    # -- ensembles ----------------------------------------------------------------------
    def ensemble_settings(self) -> tuple[int, str]:
        """(most runs per job, grouping): the config's, else the defaults for its device."""
        train = self.config["train"]
        device = "gpu" if train.get("gpus") else "cpu"
        return (train.get("ensemble_size") or ENSEMBLE_SIZE[device],
                train.get("ensemble_group") or "j2")

    @cached_property
    def ensembles(self) -> list[Ensemble]:
        """The ensemble jobs of every configured experiment (module docstring), sorted."""
        size, group = self.ensemble_settings()
        groups: dict[tuple, list[tuple]] = {}
        for run, experiments in self._run_experiments().items():
            cluster, j2, target, arch, eps, seed = run
            key = (tuple(sorted(experiments)), cluster, target, arch,
                   j2 if group in ("seed", "eps") else None, eps if group == "seed" else None)
            groups.setdefault(key, []).append((j2, eps, seed))
        out = []
        for (_, cluster, target, arch, *_), members in sorted(groups.items(), key=str):
            for chunk in self._deal(cluster, sorted(members), size):
                if len(chunk) > 1:
                    out.append(Ensemble(cluster, target, arch, tuple(chunk)))
        return sorted(out, key=lambda e: e.name)

    def _run_experiments(self) -> dict[tuple, set[str]]:
        """Every planned run -> the experiments (enabled or not) it belongs to."""
        runs: dict[tuple, set[str]] = {}
        for name, exp in self.experiments.items():
            for c, j2, target, arch, eps, seed in self.runs(exp):
                runs.setdefault((c, float(j2), target, arch, float(eps), int(seed)),
                                set()).add(name)
        return runs

    def _deal(self, cluster: str, members: list[tuple], size: int) -> list[list[tuple]]:
        """Split ``members`` (j2, eps, seed) into balanced chunks (module docstring)."""
        from nqsgen.basis import SzBasis
        from nqsgen.datasets import default_eps_val, memory_needed

        n_sites = self.cluster(cluster).n_sites
        k_dim = SzBasis(n_sites).dimension
        eps_val = self.config["train"].get("eps_val")
        cost = {m: memory_needed(m[1], eps_val or default_eps_val(m[1]), k_dim, n_sites)
                for m in members}
        k = max(math.ceil(len(members) / size), math.ceil(sum(cost.values())
                                                          / ENSEMBLE_MAX_BYTES))
        chunks: list[list[tuple]] = [[] for _ in range(min(k, len(members)))]
        for i, m in enumerate(sorted(members, key=lambda m: (-cost[m], m))):
            chunks[i % len(chunks)].append(m)
        return [sorted(c) for c in chunks]

    def ensemble_input(self, ensemble: Ensemble) -> dict:
        """The ground states of the ensemble's J2 values and the cluster spec."""
        gs = [f"{paths.ground_state_dir(ensemble.cluster, j2)}/{paths.MARKERS['ground_state']}"
              for j2 in sorted({m[0] for m in ensemble.members})]
        return {"ground_states": gs,
                "spec": f"{paths.CLUSTER.format(cluster=ensemble.cluster)}.spec.yaml"}

    def ensemble_mem_mb(self, ensemble: Ensemble):
        """A resource function (wildcards, attempt) -> MB of the ensemble's job: the config's
        ``mem_mb``, or :data:`BASE_JOB_MB` plus its members' examples, its ground states and
        the test pass; times the attempt number."""
        section = self.config["train"]
        cluster = self.cluster(ensemble.cluster)
        estimate = (_ensemble_bytes(cluster.n_sites, ensemble, section)
                    + _network_bytes(ensemble.arch, cluster, section, len(ensemble.members)))

        def mem_mb(wildcards, attempt: int = 1) -> int:
            if section.get("mem_mb"):
                return section["mem_mb"] * attempt
            return (BASE_JOB_MB + math.ceil(estimate / 2**20)) * attempt

        return mem_mb

    def run_input(self, wildcards) -> dict:
        """The ground state's completion marker and the cluster spec (for user clusters)."""
        gs = paths.ground_state_dir(wildcards.cluster, float(wildcards.j2))
        return {"ground_state": f"{gs}/{paths.MARKERS['ground_state']}",
                "spec": f"{paths.CLUSTER.format(cluster=wildcards.cluster)}.spec.yaml"}

    # -- experiments ---------------------------------------------------------------------
    def experiment_j2(self, exp: dict, cluster: str) -> list[float]:
        """J2 values of ``cluster`` in ``exp``: its own `j2`, else the ground_states grid."""
        if exp.get("j2"):
            return list(exp["j2"])
        return list(self.config["ground_states"][cluster]["j2"])

    @staticmethod
    def experiment_eps(exp: dict, cluster: str) -> list[float]:
        """εtrain values of ``exp``'s runs on ``cluster`` (a j2_sweep or a capacity sweep adds
        1 for expressibility; a sweep's grid may be given per cluster)."""
        if exp["kind"] in ("j2_sweep", "capacity"):
            return [exp["eps"]] + ([1.0] if exp["expressibility"] and exp["eps"] != 1 else [])
        grids = exp["eps"]
        return list(grids[cluster] if isinstance(grids, dict) else grids)

    @staticmethod
    def experiment_archs(exp: dict) -> list[str]:
        """The ``{arch}`` components of ``exp``'s runs: its architectures, or for a capacity
        sweep every (architecture, width) as ``{arch}-w{width}``."""
        if exp["kind"] == "capacity":
            return [paths.arch_label(arch, int(width)) for arch in exp["archs"]
                    for width in exp["widths"]]
        return list(exp["archs"])

    def runs(self, exp: dict) -> list[tuple]:
        """(cluster, j2, target, arch, eps, seed) of every training run of ``exp``."""
        if exp["kind"] == "clusters":
            return []
        return [(cluster, j2, target, arch, eps, seed)
                for cluster in exp["clusters"] for j2 in self.experiment_j2(exp, cluster)
                for target in exp["targets"] for arch in self.experiment_archs(exp)
                for eps in self.experiment_eps(exp, cluster) for seed in range(exp["seeds"])]

    def aggregate_input(self, wildcards) -> dict:
        exp = self.experiments[wildcards.experiment]
        runs = [f"{paths.train_run_dir(*run)}/metrics.parquet" for run in self.runs(exp)]
        vmc = []
        if exp["kind"] == "j2_sweep" and exp["vmc"]:
            vmc = [f"{paths.vmc_run_dir(c, j2, s)}/metrics.parquet" for c in exp["clusters"]
                   for j2 in self.experiment_j2(exp, c)
                   for s in range(exp.get("vmc_seeds") or exp["seeds"])]
        baselines = []
        if exp["kind"] == "j2_sweep" and "sign" in exp["targets"]:
            baselines = [str(paths.pattern(paths.BASELINE, cluster=c, j2=j2))
                         for c in exp["clusters"] for j2 in self.experiment_j2(exp, c)]
        return {"runs": runs, "vmc": vmc, "baselines": baselines,
                "specs": self.spec_files(wildcards)}

    def spec_files(self, wildcards) -> list[str]:
        exp = self.experiments[wildcards.experiment]
        return [f"{paths.CLUSTER.format(cluster=c)}.spec.yaml" for c in exp["clusters"]]

    def settings(self, wildcards) -> dict:
        """The settings that determine an experiment's tables and figure (a params value;
        `enabled` and `description` are left out, so that switching an experiment off and
        on, or editing its caption, does not rerun it)."""
        exp = self.experiments[wildcards.experiment]
        return {k: v for k, v in exp.items() if k not in ("enabled", "description")}

    def kind_pattern(self, *kinds: str) -> str:
        """Regex matching exactly the names of the experiments of ``kinds`` (or nothing)."""
        import re

        names = [re.escape(n) for n, e in self.experiments.items() if e["kind"] in kinds]
        return "|".join(names) if names else "(?!x)x"

    def caption(self, wildcards) -> dict:
        """Facts about an experiment for its report caption (workflow/report/*.rst)."""
        name = wildcards.experiment
        exp = self.experiments[name]
        info = {"name": name, "kind": exp["kind"], "clusters": ", ".join(exp["clusters"]),
                "description": exp["description"]}
        if exp["kind"] == "clusters":
            return info
        grids = {c: self.experiment_j2(exp, c) for c in exp["clusters"]}
        return {**info,
                "j2": "; ".join(f"{c}: " + ", ".join(f"{j:g}" for j in js)
                                for c, js in grids.items()),
                "eps": "; ".join(f"{c}: " + ", ".join(f"{e:g}" for e in
                                                      self.experiment_eps(exp, c))
                                 for c in exp["clusters"]),
                "archs": ", ".join(exp["archs"]), "targets": ", ".join(exp["targets"]),
                "seeds": exp["seeds"], "runs": len(self.runs(exp)),
                "vmc": bool(exp.get("vmc", False)),
                "vmc_seeds": exp.get("vmc_seeds") or exp.get("seeds"),
                "vmc_runs": len(self.aggregate_input(wildcards)["vmc"]),
                "expressibility": bool(exp.get("expressibility", False)),
                "eps_value": exp["eps"] if exp["kind"] in ("j2_sweep", "capacity") else None,
                "widths": ", ".join(str(w) for w in exp.get("widths", []))}

    # -- targets -------------------------------------------------------------------------
    def cluster_targets(self) -> list[str]:
        """Geometry file and picture of every configured cluster."""
        names = sorted(set(self.config["clusters"]) | set(self.config["ground_states"]))
        return [f"{paths.CLUSTER.format(cluster=n)}.{ext}" for n in names
                for ext in ("json", "pdf")]

    def ground_state_targets(self) -> list[str]:
        return [f"{paths.ground_state_dir(c, j2)}/{paths.MARKERS['ground_state']}"
                for c, settings in self.config["ground_states"].items()
                for j2 in settings["j2"]]

    def figure_targets(self) -> list[str]:
        return [paths.FIGURE.format(experiment=name) for name, exp in self.experiments.items()
                if exp["enabled"]]


def _train_bytes(n_sites: int, eps: float, section: dict) -> int:
    """A training run: its examples (:func:`nqsgen.datasets.memory_needed`) plus 16 bytes per
    basis state for a full-basis ground state's vector and sampling distribution (at most
    the 24-site 2.7e6; symmetric ground states hold ~K/|G| representatives)."""
    from nqsgen.basis import SzBasis
    from nqsgen.datasets import default_eps_val, memory_needed

    k = SzBasis(n_sites).dimension
    eps_val = section.get("eps_val") or default_eps_val(eps)
    stored = k if n_sites < 30 else k // 100  # symmetric from 30 sites (|G| ≥ 40, 24 B each)
    return memory_needed(eps, eps_val, k, n_sites) + 16 * stored


def _network_bytes(arch: str, cluster, section: dict, members: int) -> int:
    """The networks' own training memory where it matters: the G-CNN's convolution matrices
    (:func:`nqsgen.architectures.gcnn.memory_bytes`; ``arch`` may be a width label
    ``gcnn-w32``, whose width is the channels); 0 for the other architectures."""
    arch, width = paths.split_arch_label(arch)
    if arch != "gcnn":
        return 0
    from nqsgen.architectures.gcnn import memory_bytes
    from nqsgen.config import TrainSettings

    return memory_bytes(cluster, width or section.get("channels") or TrainSettings().channels,
                        section.get("gcnn_group") == "space+inversion", members,
                        section.get("batch_size") or 128)


def _vmc_bytes(n_sites: int, section: dict) -> int:
    """A VMC run: the whole-basis observables (:data:`nqsgen.vmc.memory.EXACT_BYTES_PER_STATE`
    per state up to ``exact_max_states``) plus twice the per-sample Jacobian."""
    from nqsgen.basis import SzBasis
    from nqsgen.vmc.memory import jacobian_bytes, whole_basis_bytes

    settings = VmcSettings(**{k: v for k, v in section.items() if k in VmcSettings.model_fields})
    dimension = SzBasis(n_sites).dimension
    return whole_basis_bytes(settings, dimension) + 2 * jacobian_bytes(settings, n_sites,
                                                                       dimension)


def _ensemble_bytes(n_sites: int, ensemble, section: dict) -> int:
    """An ensemble job: every member's examples and test set, and each ground state once."""
    from nqsgen.basis import SzBasis
    from nqsgen.datasets import default_eps_val, memory_needed
    from nqsgen.overlaps import EXACT_CHUNK

    k = SzBasis(n_sites).dimension
    stored = k if n_sites < 30 else k // 100
    examples = sum(memory_needed(eps, section.get("eps_val") or default_eps_val(eps), k,
                                 n_sites) for _, eps, _ in ensemble.members)
    test_pass = 40 * EXACT_CHUNK * len(ensemble.members)
    return examples + test_pass + 16 * stored * len({m[0] for m in ensemble.members})


@dataclass(frozen=True)
class Ensemble:
    """One ensemble job: runs (j2, eps, seed) of one cluster, target and architecture."""

    cluster: str
    target: str
    arch: str
    members: tuple[tuple[float, float, int], ...]

    @property
    def id(self) -> str:
        from nqsgen.composition import ensemble_id

        return ensemble_id(self.cluster, self.target, self.arch, self.members)

    @property
    def name(self) -> str:
        """The Snakemake rule name (an identifier: the ``-`` of a width label becomes ``_``)."""
        return f"train_{self.cluster}_{self.target}_{self.arch}_{self.id}".replace("-", "_")

    def run_dirs(self) -> list[str]:
        return [str(paths.train_run_dir(self.cluster, j2, self.target, self.arch, eps, seed))
                for j2, eps, seed in self.members]

    def outputs(self, kind: str) -> list[str]:
        """Every member's ``metrics.parquet`` or ``curves.parquet``."""
        return [f"{d}/{kind}.parquet" for d in self.run_dirs()]
