"""The workflow configuration (``config/config.yaml``) as typed models — the source of its
JSON schema (:mod:`nqsgen.config.schema`) and of the defaults the workflow fills in.

Every level rejects unknown keys.  Keys are documented key by key in ``config/README.md``;
each field's description here is what the schema (and so an editor) shows.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nqsgen import architectures
from nqsgen.config.hyperparameters import TrainSettings, VmcSettings

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+$")]
Eps = Annotated[float, Field(gt=0, le=1, description=(
    "Training fraction εtrain in (0, 1]; 1 means expressibility (train and test on the whole "
    "basis).  At most 6 significant digits (directory eps=<format(eps, \"g\")>).  Write small "
    "values as 1.0e-4 or 0.0001: YAML reads 1e-4 (no dot) as a string."))]
EpsGrid = Annotated[list[Eps], Field(min_length=1, json_schema_extra={"uniqueItems": True},
                                     description="εtrain values of a sweep.")]
ClusterList = Annotated[list[Name], Field(min_length=1, json_schema_extra={"uniqueItems": True},
                                          description=(
    "Cluster names (catalogue or `clusters`), one panel or point each."))]
J2List = Annotated[list[float], Field(min_length=1, json_schema_extra={"uniqueItems": True},
                                      description=(
    "J2/J1 values (each must have a ground state; at most 6 significant digits)."))]
Archs = Annotated[list[Literal[architectures.builtin_names()]], Field(  # type: ignore[valid-type]
    min_length=1, json_schema_extra={"uniqueItems": True},
    description="Network architectures (python -m nqsgen.stages.train --arch; the registry "
    "nqsgen.architectures).")]
Targets = Annotated[list[Literal["sign", "amplitude"]], Field(
    min_length=1, json_schema_extra={"uniqueItems": True},
    description="What the networks learn - sign (binary classifier) or amplitude (log|ψ|).")]
Interval = Annotated[list[float], Field(min_length=2, max_length=2,
                                        description="[J2/J1 lower, J2/J1 upper]")]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClusterSpec(Section):
    """A user-defined periodic cluster: a lattice and two integer supercell vectors L1, L2 in
    units of the lattice's (a1, a2).  Overrides a catalogue cluster of the same name."""

    lattice: Literal["square", "triangular", "kagome"] = Field(description=(
        "square (J1-J2 model), triangular (square lattice plus one diagonal carrying J2) or "
        "kagome (J2 on the bonds of one orientation)."))
    supercell: Annotated[list[Annotated[list[int], Field(min_length=2, max_length=2)]],
                         Field(min_length=2, max_length=2, description=(
        "[[L1_1, L1_2], [L2_1, L2_2]]: rows are L1, L2 in units of (a1, a2)."))]
    j2_orientation: Literal["a1", "a2", "a2-a1"] | None = Field(None, description=(
        "Kagome only (default a1) - the bond orientation that carries J2."))


class GroundStateEntry(Section):
    """Exact ground states of one cluster, one per J2 value."""

    j2: Annotated[list[float], Field(min_length=1, json_schema_extra={"uniqueItems": True},
                                     description=(
        "J2/J1 values (J1 = 1).  Each becomes a directory J2=<format(j2, \"g\")>, so a value "
        "may have at most 6 significant digits."))]
    solver: Literal["slepc", "scipy"] = Field("slepc", description=(
        "slepc - MPI-parallel Krylov-Schur on `ranks` MPI ranks; scipy - single-process "
        "ARPACK cross-check (always 1 task, `ranks` is ignored)."))
    ranks: int = Field(2, ge=1, description=(
        "MPI ranks of a slepc solve (cores the job uses; one rank per core)."))
    symmetries: Literal["auto", "none", "translations", "full"] = Field("auto", description=(
        "Symmetries used to reduce the Sz = 0 sector: none (the full sector), translations, "
        "or full (space group and spin inversion; one-dimensional real sectors, scanned for "
        "the lowest energy).  auto = full for clusters of 30 sites or more, none below."))
    sectors: str = Field("all", min_length=1, description=(
        "Symmetric solves only: the sectors to scan - all, trivial (every character +1), or "
        "comma-separated sector labels/indices as printed in the ground-state log."))
    completeness: Literal["auto", "off"] = Field("auto", description=(
        "Is the stored state the ground state, and is it unique?  auto - a symmetric solve "
        "then scans every other momentum sector (complex momenta and the point-group "
        "representations its scan leaves out) and records the lowest level of each; a "
        "full-sector solve applies every symmetry to the ground state to prove a degeneracy. "
        "off - neither (the metadata then says why).  At 30 sites the scan costs a few times "
        "the solve (benchmarks/RESULTS.md): turn it off only for points already checked."))
    runtime: int = Field(60, ge=1, description=(
        "Wall-time limit of one solve in minutes (Snakemake `runtime` resource)."))
    mem_mb: int | None = Field(None, ge=1, description=(
        "Memory of one solve in MB (Snakemake `mem_mb`, SLURM --mem).  Default: the solver's "
        "own estimate plus 25 %."))


class Resources(Section):
    """Job resources of the training and VMC rules (not stage flags)."""

    threads: int = Field(1, ge=1, description=(
        "CPU threads of one run (torch and numba; results are reproducible per thread "
        "count)."))
    gpus: int = Field(0, ge=0, description=(
        "GPUs per run (Snakemake resource `gpu`; the SLURM executor requests them).  0 = CPU; "
        "the stage uses CUDA whenever it sees a GPU (--device auto)."))
    mem_mb: int | None = Field(None, ge=1, description=(
        "Memory of one run in MB (default: estimated from the cluster and the settings)."))


class TrainSection(Resources, TrainSettings):
    """Settings of every training run (rule train; the paper's "Training procedure").  Unset
    hyper-parameters take the stage's defaults (listed here).  Runs are trained in ensembles:
    one job (one process, one GPU on SLURM) trains up to `ensemble_size` independent runs of
    one cluster, target and architecture at once (nqsgen.ensemble)."""

    model_config = ConfigDict(extra="forbid")
    runtime: int = Field(60, ge=1, description=(
        "Wall-time limit of one training job (a run or an ensemble) in minutes."))
    ensemble_size: int | None = Field(None, ge=1, description=(
        "Most runs one training job trains together (1: one job per run).  Default: 32 "
        "when gpus is 0, 512 with GPUs (benchmarks/RESULTS.md); an ensemble's examples are "
        "also kept below 3 GB."))
    ensemble_group: Literal["seed", "eps", "j2"] | None = Field(None, description=(
        "What the runs of one ensemble may differ in: seed (one point), eps (also εtrain: one "
        "cluster, J2, target and architecture) or j2 (also J2; default).  Runs are grouped "
        "only with runs of the same experiments, so that building one figure trains "
        "nothing else."))


class VmcSection(Resources, VmcSettings):
    """Settings of every SR run (rule vmc; the paper's Fig. 2 d-f).  Unset hyper-parameters
    take the stage's defaults (listed here)."""

    model_config = ConfigDict(extra="forbid")
    runtime: int = Field(120, ge=1, description=(
        "Wall-time limit of one run in minutes (times the attempt number; a retry resumes)."))


class FrustratedRegions(Section):
    """Literature J2/J1 intervals of the frustrated (disordered) phases, shaded in the
    figures."""

    square: Interval = [0.4, 0.6]
    triangular: Interval = [1.25, 1.5]
    kagome: Interval = [0.51, 1.82]


class ExperimentBase(Section):
    enabled: bool = Field(True, description=(
        "Part of the default target (rule all).  A disabled experiment is still validated and "
        "can be built by naming its figure, e.g. snakemake results/figures/figS2.pdf."))
    description: str = Field("", description=(
        "Free text added to the figure's caption in the Snakemake report."))
    clusters: ClusterList


class ClustersExperiment(ExperimentBase):
    """Pictures of clusters (J1 solid, J2 dashed), one panel each (the paper's Fig. 1)."""

    kind: Literal["clusters"]


class TrainedExperiment(ExperimentBase):
    """What every experiment that trains networks has: architectures, targets, seeds."""

    archs: Archs = ["dense2"]
    targets: Targets = ["sign"]
    seeds: int = Field(5, ge=1, description=(
        "Runs per point (seeds 0 .. seeds-1); the error bars are their standard error."))


class J2SweepExperiment(TrainedExperiment):
    """Test overlap vs J2/J1 at one εtrain, one panel per cluster, one curve per (target,
    architecture) (the paper's Figs. 2 a-c and 4); the J2 of the steepest loss of
    generalisation is located per curve."""

    kind: Literal["j2_sweep"]
    j2: J2List | None = Field(None, description=(
        "J2/J1 values; default - each cluster's `ground_states` grid."))
    eps: Eps = 0.01
    expressibility: bool = Field(False, description=(
        "Also train at εtrain = 1 (whole basis) - the paper's dashed lines."))
    vmc: bool = Field(False, description=(
        "Add the overlap after SR optimisation (Fig. 2 d-f; rule vmc, results/vmc/{cluster}/"
        "J2={j2}/seed={seed}/metrics.parquet) for the same clusters and J2 values, and the "
        "rank correlation of the supervised and SR overlaps (.correlation.parquet)."))
    vmc_seeds: int | None = Field(None, ge=1, description=(
        "SR runs per J2 point (seeds 0 .. vmc_seeds-1; default: seeds).  An SR run costs "
        "minutes to tens of minutes per point (config/README.md), a supervised one seconds."))


class EpsSweepExperiment(TrainedExperiment):
    """Test overlap vs εtrain for fixed J2 values, and the critical εtrain per (cluster, J2,
    target, architecture) from a logistic fit with a bootstrap interval.  eps_sweep draws the
    overlaps (Fig. 3); scaling draws the critical training-set size against K and fits its
    growth exponent (Fig. 5)."""

    kind: Literal["eps_sweep", "scaling"]
    j2: J2List
    eps: EpsGrid | dict[Name, EpsGrid] = Field(description=(
        "The εtrain grid (the critical εtrain needs at least 3 values): one list for every "
        "cluster, or a mapping cluster name -> its own list (Fig. 5: the switch moves to "
        "smaller εtrain as K grows, so each cluster needs a grid that brackets it)."))


Widths = Annotated[list[Annotated[int, Field(ge=1)]], Field(
    min_length=1, json_schema_extra={"uniqueItems": True}, description=(
        "Hidden widths to sweep (integers ≥ 1): the dense layers' `width`, the channels of "
        "cnn and gcnn.  A run's architecture directory is <arch>-w<width>, e.g. "
        "results/train/{cluster}/J2={j2}/{target}/dense2-w64/eps={eps}/seed={seed}."))]


class CapacityExperiment(TrainedExperiment):
    """Test overlap vs the hidden width of the network (log axis) at one εtrain, with the
    expressibility run (εtrain = 1) at each width, one panel per (cluster, target), one curve
    per (J2, architecture): a network that fails to generalise although a network of its
    width can express the sign structure fails for want of generalisation, not capacity
    (depth: list dense1 and dense2)."""

    kind: Literal["capacity"]
    j2: J2List | None = Field(None, description=(
        "J2/J1 values; default - each cluster's `ground_states` grid."))
    widths: Widths
    eps: Eps = 0.01
    expressibility: bool = Field(True, description=(
        "Also train at εtrain = 1 (whole basis) at every width - the dashed lines."))


Experiment = ClustersExperiment | J2SweepExperiment | EpsSweepExperiment | CapacityExperiment
#: experiment kind -> its model
KINDS = {"clusters": ClustersExperiment, "j2_sweep": J2SweepExperiment,
         "eps_sweep": EpsSweepExperiment, "scaling": EpsSweepExperiment,
         "capacity": CapacityExperiment}


class AggregateSettings(Section):
    """Statistics of the aggregation (nqsgen.statistics)."""

    bootstrap: int = Field(1000, ge=0, description=(
        "Bootstrap replicas for the critical-εtrain and transition intervals."))
    confidence: float = Field(0.95, gt=0, lt=1, description=(
        "Level of the bootstrap confidence intervals."))
    min_step: float = Field(0.25, ge=0, description=(
        "Smallest fitted rise of the overlap (upper - lower plateau) for which a critical "
        "εtrain counts as defined."))
    seed: int = Field(0, ge=0, description="Seed of the bootstrap resampling.")


class WorkflowConfig(Section):
    """Configuration of the nqsgen Snakemake workflow (config/config.yaml; documented key by
    key in config/README.md).  Every level rejects unknown keys, so a misspelled key is an
    error.  Checks the schema cannot express (cluster names that exist, clusters that build,
    J2 values that survive the J2=<value> directory names) are made by
    nqsgen.config.validate.  `experiments` lists the studies (figures) to run; each has a
    `kind` that fixes its keys."""

    clusters: dict[Name, ClusterSpec] = Field(default_factory=dict, description=(
        "User-defined clusters, name -> spec.  They extend (and, for equal names, override) "
        "the built-in catalogue (nqsgen.clusters.CATALOGUE)."))
    ground_states: dict[Name, GroundStateEntry] = Field(default_factory=dict, description=(
        "Ground states to compute, cluster name -> {j2: [...], solver, ranks, ...}.  The "
        "cluster must exist in the catalogue or in `clusters`.  Clusters not listed here can "
        "still be requested as explicit targets; they use the defaults."))
    frustrated_regions: FrustratedRegions = Field(default_factory=FrustratedRegions)
    train: TrainSection = Field(default_factory=TrainSection)
    vmc: VmcSection = Field(default_factory=VmcSection)
    experiments: dict[Name, Experiment] = Field(default_factory=dict, description=(
        "The studies to run, name -> experiment.  Each produces results/figures/<name>.pdf "
        "(and results/tables/<name>*.parquet for training experiments); rule all builds the "
        "enabled ones."))
    aggregate: AggregateSettings = Field(default_factory=AggregateSettings)
