"""What the workflow computes for a validated configuration: targets, the runs of every
experiment, each job's settings and its resources — package code, so that the Snakemake
layer (``workflow/rules/common.smk``) only wires it to rules and tests can check it directly.

An experiment (config ``experiments``) is one figure ``results/figures/{experiment}.pdf``; its
``kind`` selects the rules that build it::

    clusters  -> figure_clusters                                  (Fig. 1)
    j2_sweep  -> aggregate_j2_sweep  + figure_j2_sweep            (Figs. 2, 4, S2, S4)
    eps_sweep -> aggregate_eps_sweep + figure_eps_sweep           (Figs. 3, S3)
    scaling   -> aggregate_scaling   + figure_scaling             (Fig. 5)

Runs shared by several experiments (same cluster, J2, target, arch, εtrain and seed) are one
job: seeds are 0 .. seeds-1 everywhere.  Input functions take Snakemake's ``wildcards``
object (anything with the wildcard names as attributes).
"""

from __future__ import annotations

import math
from functools import cache

from nqsgen import paths
from nqsgen.config.cli import flags
from nqsgen.config.hyperparameters import TrainSettings, VmcSettings
from nqsgen.config.validate import cluster_spec, known_clusters
from nqsgen.config.workflow import GroundStateEntry
from nqsgen.symmetry.selection import resolve_symmetries

MEMORY_MARGIN = 1.25  # on top of the solvers' estimates: MPI buffers, allocator slack
BASE_JOB_MB = 2000    # interpreter, torch, numba and the ground state's reader


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
        estimate = (_train_bytes(cluster.n_sites, float(wildcards.eps), section) if
                    stage == "train" else _vmc_bytes(cluster.n_sites, section))
        return (BASE_JOB_MB + math.ceil(estimate / 2**20)) * attempt

    def runtime(self, stage: str, attempt: int = 1) -> int:
        return self.config[stage]["runtime"] * attempt

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
        """εtrain values of ``exp``'s runs on ``cluster`` (a j2_sweep adds 1 for
        expressibility; a sweep's grid may be given per cluster)."""
        if exp["kind"] == "j2_sweep":
            return [exp["eps"]] + ([1.0] if exp["expressibility"] and exp["eps"] != 1 else [])
        grids = exp["eps"]
        return list(grids[cluster] if isinstance(grids, dict) else grids)

    def runs(self, exp: dict) -> list[tuple]:
        """(cluster, j2, target, arch, eps, seed) of every training run of ``exp``."""
        if exp["kind"] == "clusters":
            return []
        return [(cluster, j2, target, arch, eps, seed)
                for cluster in exp["clusters"] for j2 in self.experiment_j2(exp, cluster)
                for target in exp["targets"] for arch in exp["archs"]
                for eps in self.experiment_eps(exp, cluster) for seed in range(exp["seeds"])]

    def aggregate_input(self, wildcards) -> dict:
        exp = self.experiments[wildcards.experiment]
        runs = [f"{paths.train_run_dir(*run)}/metrics.parquet" for run in self.runs(exp)]
        vmc = []
        if exp["kind"] == "j2_sweep" and exp["vmc"]:
            vmc = [f"{paths.vmc_run_dir(c, j2, s)}/metrics.parquet" for c in exp["clusters"]
                   for j2 in self.experiment_j2(exp, c) for s in range(exp["seeds"])]
        return {"runs": runs, "vmc": vmc, "specs": self.spec_files(wildcards)}

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
                "expressibility": bool(exp.get("expressibility", False)),
                "eps_value": exp["eps"] if exp["kind"] == "j2_sweep" else None}

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


def _vmc_bytes(n_sites: int, section: dict) -> int:
    """A VMC run: the whole-basis observables (:data:`nqsgen.vmc.memory.EXACT_BYTES_PER_STATE`
    per state up to ``exact_max_states``) plus twice the per-sample Jacobian."""
    from nqsgen.basis import SzBasis
    from nqsgen.vmc.memory import jacobian_bytes, whole_basis_bytes

    settings = VmcSettings(**{k: v for k, v in section.items() if k in VmcSettings.model_fields})
    dimension = SzBasis(n_sites).dimension
    return whole_basis_bytes(settings, dimension) + 2 * jacobian_bytes(settings, n_sites,
                                                                       dimension)
