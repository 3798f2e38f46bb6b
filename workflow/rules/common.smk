# Shared definitions of the nqsgen workflow (no rules in this file):
#   1. configuration: JSON-schema validation, then the checks a schema cannot express;
#   2. wildcard constraints;
#   3. target lists and the input / params / resource functions used by the rule files.
# Later stages (train, vmc, aggregate, figures) add their own sections below.

import math
import os
import re
import sys
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The package lives in src/ of this checkout.  The project environment has it installed
# (editable); conda environments (envs/*.yaml) cannot install it, so the workflow puts src/
# first on this process's sys.path and on the PYTHONPATH every job inherits.
NQSGEN_SRC = str(Path(workflow.basedir) / "src")
if NQSGEN_SRC not in sys.path:
    sys.path.insert(0, NQSGEN_SRC)
if NQSGEN_SRC not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ.update(
        PYTHONPATH=os.pathsep.join(filter(None, [NQSGEN_SRC, os.environ.get("PYTHONPATH")]))
    )

from nqsgen.aggregate import CaptionTable  # noqa: E402
from nqsgen.basis import SzBasis  # noqa: E402
from nqsgen.clusters import CATALOGUE, cluster_from_spec  # noqa: E402
from nqsgen.eigensolvers import memory_estimate  # noqa: E402
from nqsgen.errors import NqsgenError  # noqa: E402
from nqsgen.hamiltonian import Heisenberg  # noqa: E402
from nqsgen.ground_state import resolve_symmetries, select_sectors  # noqa: E402
from nqsgen.storage import j2_dirname  # noqa: E402
from nqsgen.symmetry import cluster_group  # noqa: E402
from nqsgen.symmetry import memory_estimate as symmetric_memory_estimate  # noqa: E402

SCHEMA = "../schemas/config.schema.yaml"  # relative to this file
# Memory margin on top of nqsgen.eigensolvers.memory_estimate (MPI buffers, allocator slack).
MEMORY_MARGIN = 1.25


# ----------------------------------------------------------------------------- config
def config_error(key, problem):
    """Stop with ONE line naming the key.

    SystemExit prints exactly its message; a WorkflowError or ValueError raised here would be
    printed by Snakemake with a file/line header and a traceback line into this file.
    """
    raise SystemExit(f"config error: {key or '(top level)'}: {problem}")


def _key(path):
    return ".".join(str(p) for p in path)


def _schema_problem(error):
    """(key, one-line problem) of a jsonschema ValidationError."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        if allowed:
            return _key(path + extra[:1]), f"unknown key (allowed: {', '.join(allowed)})"
    if "propertyNames" in error.absolute_schema_path:
        return _key(path + [error.instance]), "bad name (use letters, digits and _ only)"
    if error.validator == "minItems" and error.validator_value == 1:
        return _key(path), "must not be empty"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        schema = error.schema
        lo = schema.get("exclusiveMinimum", schema.get("minimum", "-inf"))
        hi = schema.get("exclusiveMaximum", schema.get("maximum", "inf"))
        interval = ("(" if "exclusiveMinimum" in schema else "[") + f"{lo}, {hi}" + (
            ")" if "exclusiveMaximum" in schema or "maximum" not in schema else "]")
        return _key(path), f"{error.instance!r} is outside {interval}"
    if error.validator == "type" and isinstance(error.instance, str):
        try:
            float(error.instance)
        except ValueError:
            pass
        else:
            return _key(path), (f"{error.instance!r} is a string, not a number (YAML reads "
                                "1e-4 as a string: write 1.0e-4)")
    return _key(path), " ".join(error.message.split())


def validate_config(config):
    """Validate against the schema (filling in defaults), then check what it cannot express."""
    try:
        # First without defaults: Snakemake's default-filling validator assumes every
        # "properties" instance is a mapping and crashes on e.g. a list in its place.
        validate(config, SCHEMA, set_default=False)
        validate(config, SCHEMA, set_default=True)
    except WorkflowError as exc:
        # snakemake.utils.validate raises WorkflowError(...) inside `except ValidationError`
        error = exc.__cause__ or exc.__context__
        if not isinstance(error, jsonschema.ValidationError):
            raise
        config_error(*_schema_problem(error))

    for name, spec in config["clusters"].items():
        try:
            cluster_from_spec(name, spec)
        except NqsgenError as exc:
            config_error(f"clusters.{name}", str(exc))

    known = sorted(set(CATALOGUE) | set(config["clusters"]))
    for name, gs in config["ground_states"].items():
        key = f"ground_states.{name}"
        if name not in known:
            config_error(key, f"unknown cluster (known: {', '.join(known)})")
        n_sites = get_cluster_object(name).n_sites
        try:
            SzBasis(n_sites)
        except NqsgenError as exc:
            config_error(key, str(exc))
        for j2 in gs["j2"]:
            check_j2_value(f"{key}.j2", j2)
        if gs["sectors"] not in ("all", "trivial"):
            group = cluster_group(get_cluster_object(name),
                                  resolve_symmetries(gs["symmetries"], n_sites))
            try:
                select_sectors(group, gs["sectors"])
            except NqsgenError as exc:
                config_error(f"{key}.sectors", str(exc))

    for lattice, (lo, hi) in config["frustrated_regions"].items():
        if not lo < hi:
            config_error(f"frustrated_regions.{lattice}", f"lower end {lo} ≥ upper end {hi}")

    for name, exp in config["experiments"].items():
        validate_experiment(name, exp, known)


def check_j2_value(key, j2):
    """A J2 value must be finite and survive its J2=<format(j2, 'g')> directory name."""
    if not math.isfinite(j2):
        config_error(key, f"{j2} is not a finite number")
    if float(j2_dirname(j2).removeprefix("J2=")) != j2:
        config_error(key, f"{j2!r} has more than 6 significant digits; its directory would be "
                     f"{j2_dirname(j2)}")


def validate_experiment(name, exp, known):
    """Checks of one `experiments` entry that the schema cannot express."""
    key = f"experiments.{name}"
    for cluster in exp["clusters"]:
        if cluster not in known:
            config_error(f"{key}.clusters",
                         f"unknown cluster {cluster!r} (known: {', '.join(known)})")
        try:
            SzBasis(get_cluster_object(cluster).n_sites)
        except NqsgenError as exc:
            config_error(f"{key}.clusters", f"{cluster}: {exc}")
    for j2 in exp.get("j2", []):
        check_j2_value(f"{key}.j2", j2)
    grids = exp.get("eps", 1.0)
    if isinstance(grids, dict):
        for cluster in grids:
            if cluster not in exp["clusters"]:
                config_error(f"{key}.eps.{cluster}", "not one of this experiment's clusters")
        for cluster in exp["clusters"]:
            if cluster not in grids:
                config_error(f"{key}.eps", f"no εtrain grid for cluster {cluster}")
    for eps in experiment_eps_values(grids):
        if float(format(eps, "g")) != eps:
            config_error(f"{key}.eps", f"{eps!r} has more than 6 significant digits; its "
                         f"directory would be eps={format(eps, 'g')}")
    if exp["kind"] == "j2_sweep" and "j2" not in exp and exp["enabled"]:
        for cluster in exp["clusters"]:
            if cluster not in config["ground_states"]:
                config_error(f"{key}.j2", f"not given, and cluster {cluster} has no "
                             "ground_states entry to take its J2 grid from")


def experiment_eps_values(grids):
    """Every εtrain value of an experiment's `eps` (a number, a list, or cluster -> list)."""
    if isinstance(grids, dict):
        return [eps for grid in grids.values() for eps in grid]
    return grids if isinstance(grids, list) else [grids]


def get_cluster_spec(name):
    """The definition of cluster ``name``: the config's ``clusters`` entry or the catalogue's."""
    if name in config["clusters"]:
        return dict(config["clusters"][name])
    return dict(CATALOGUE[name])


def get_cluster_object(name):
    """The validated nqsgen Cluster (cached by nqsgen.clusters)."""
    return cluster_from_spec(name, get_cluster_spec(name))


validate_config(config)

CLUSTERS = sorted(set(CATALOGUE) | set(config["clusters"]))
_schema_path = workflow.current_basedir.join(SCHEMA).get_path_or_uri(secret_free=True)
with open(_schema_path, encoding="utf-8") as _fh:
    _GS_SCHEMA = yaml.safe_load(_fh)["$defs"]["ground_state"]["properties"]
# settings of a cluster that is requested as a target without a ground_states entry
GROUND_STATE_DEFAULTS = {k: v["default"] for k, v in _GS_SCHEMA.items() if "default" in v}


# ----------------------------------------------------------------------------- wildcards
# A J2 value exactly as nqsgen.storage.j2_dirname writes it: format(j2, "g").
J2_PATTERN = r"-?[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?"


wildcard_constraints:
    cluster=r"[A-Za-z0-9_]+",
    j2=J2_PATTERN,


# ----------------------------------------------------------------------------- targets
def cluster_targets():
    """Geometry file and picture of every configured cluster (user clusters, ground states)."""
    names = sorted(set(config["clusters"]) | set(config["ground_states"]))
    return expand("results/clusters/{cluster}.{ext}", cluster=names, ext=["json", "pdf"])


def ground_state_dir(cluster, j2):
    """Directory of one ground state: results/ground_states/{cluster}/J2={j2:g}."""
    return f"results/ground_states/{cluster}/{j2_dirname(j2)}"


def ground_state_targets():
    """metadata.json (the completion marker) of every configured ground state."""
    return [
        f"{ground_state_dir(cluster, j2)}/metadata.json"
        for cluster, settings in config["ground_states"].items()
        for j2 in settings["j2"]
    ]


# ----------------------------------------------------------------------------- clusters
def check_cluster_wildcard(wildcards):
    if wildcards.cluster not in CLUSTERS:
        raise WorkflowError(
            f"unknown cluster {wildcards.cluster!r} (known: {', '.join(CLUSTERS)}; "
            "define new ones under 'clusters' in the config)"
        )
    return wildcards.cluster


def cluster_definition(wildcards):
    """The cluster's spec; a params value, so that editing it reruns the cluster's jobs."""
    return get_cluster_spec(check_cluster_wildcard(wildcards))


# ----------------------------------------------------------------------------- ground states
def ground_state_settings(wildcards):
    """The ground_states entry of the cluster (schema defaults for clusters not listed)."""
    cluster = check_cluster_wildcard(wildcards)
    canonical = j2_dirname(float(wildcards.j2))
    if canonical != f"J2={wildcards.j2}":
        raise WorkflowError(f"write J2={wildcards.j2} as {canonical} (format(j2, 'g'))")
    return {**GROUND_STATE_DEFAULTS, **config["ground_states"].get(cluster, {})}


def ground_state_input(wildcards):
    ground_state_settings(wildcards)  # rejects unknown clusters and non-canonical J2 early
    return {
        "cluster": f"results/clusters/{wildcards.cluster}.json",
        "spec": f"results/clusters/{wildcards.cluster}.spec.yaml",
    }


def ground_state_solver(wildcards):
    return ground_state_settings(wildcards)["solver"]


def ground_state_symmetries(wildcards):
    """none, translations or full (``auto`` resolved by the cluster's size)."""
    settings = ground_state_settings(wildcards)
    n_sites = get_cluster_object(wildcards.cluster).n_sites
    return resolve_symmetries(settings["symmetries"], n_sites)


def ground_state_sectors(wildcards):
    return ground_state_settings(wildcards)["sectors"]


def ground_state_tasks(wildcards):
    """MPI tasks: `ranks` for slepc; the scipy solver is a single process."""
    settings = ground_state_settings(wildcards)
    return 1 if settings["solver"] == "scipy" else settings["ranks"]


def ground_state_mem_mb(wildcards, attempt):
    """Memory of the whole solve (all ranks) in MB: the config's mem_mb, or the solver's
    own estimate (nqsgen.eigensolvers.memory_estimate, or nqsgen.symmetry.memory_estimate for
    symmetric solves) times MEMORY_MARGIN; times the
    attempt number (a retry after an out-of-memory kill asks for more)."""
    settings = ground_state_settings(wildcards)
    if "mem_mb" in settings:
        return settings["mem_mb"] * attempt
    cluster = get_cluster_object(wildcards.cluster)
    hamiltonian = Heisenberg.from_cluster(cluster, j2=float(wildcards.j2))
    tasks = ground_state_tasks(wildcards)
    symmetries = ground_state_symmetries(wildcards)
    if symmetries == "none":
        estimate = memory_estimate(hamiltonian, SzBasis(cluster.n_sites), tasks)
    else:
        estimate = symmetric_memory_estimate(hamiltonian, cluster_group(cluster, symmetries),
                                             tasks)
    return math.ceil(estimate["bytes_total"] * MEMORY_MARGIN / 2**20) * attempt


def ground_state_runtime(wildcards, attempt):
    """Wall-time limit in minutes, times the attempt number (a retry after a timeout)."""
    return ground_state_settings(wildcards)["runtime"] * attempt


# ----------------------------------------------------------------------------- train
# Stage flags of python -m nqsgen.train that the config's `train:` section may set.
TRAIN_FLAGS = ("eps_val", "width", "channels", "kernel_radius", "activation", "dropout",
               "weight_decay", "lr", "batch_size", "max_epochs", "patience",
               "expressibility_mode", "exact_max_states", "mc_se", "mc_samples")


wildcard_constraints:
    target=r"sign|amplitude",
    arch=r"dense1|dense2|cnn",
    eps=r"[0-9]+(?:\.[0-9]+)?(?:e-[0-9]+)?",
    seed=r"[0-9]+",


def train_dir(cluster, j2, target, arch, eps, seed):
    """results/train/{cluster}/J2={j2:g}/{target}/{arch}/eps={eps:g}/seed={seed}."""
    return (f"results/train/{cluster}/{j2_dirname(j2)}/{target}/{arch}/"
            f"eps={format(float(eps), 'g')}/seed={int(seed)}")


def train_input(wildcards):
    """The ground state's completion marker and the cluster spec (for user clusters)."""
    ground_state_settings(wildcards)  # rejects unknown clusters and non-canonical J2 early
    canonical = format(float(wildcards.eps), "g")
    if canonical != wildcards.eps:
        raise WorkflowError(f"write eps={wildcards.eps} as eps={canonical} (format(eps, 'g'))")
    return {
        "ground_state": f"{ground_state_dir(wildcards.cluster, float(wildcards.j2))}/metadata.json",
        "spec": f"results/clusters/{wildcards.cluster}.spec.yaml",
    }


def train_options(wildcards):
    """Hyper-parameter flags from config['train'] (a params value: editing one reruns)."""
    settings = config["train"]
    return " ".join(
        f"--{key.replace('_', '-')} {settings[key]}" for key in TRAIN_FLAGS if key in settings
    )


def train_threads(wildcards):
    return config["train"]["threads"]


def train_gpus(wildcards):
    return config["train"]["gpus"]


def train_mem_mb(wildcards, attempt):
    """The config's train.mem_mb, or 2 GB plus 16 + 8·N bytes per basis state (vector,
    sampling CDF, and the spins of the whole basis in expressibility mode); times the
    attempt number (a retry after an out-of-memory kill asks for more)."""
    if "mem_mb" in config["train"]:
        return config["train"]["mem_mb"] * attempt
    n_sites = get_cluster_object(check_cluster_wildcard(wildcards)).n_sites
    dimension = SzBasis(n_sites).dimension
    return (2000 + math.ceil(dimension * (16 + 8 * n_sites) / 2**20)) * attempt


def train_runtime(wildcards, attempt):
    """Wall-time limit in minutes, times the attempt number (a retry after a timeout)."""
    return config["train"]["runtime"] * attempt


# ----------------------------------------------------------------------------- vmc
# Stage flags of python -m nqsgen.vmc that the config's `vmc:` section may set.
VMC_FLAGS = ("sampler", "iterations", "samples", "chains", "sweep_size", "burn_in",
             "initial_burn_in", "final_samples", "width", "phase_width", "activation", "dtype",
             "lr", "lr_decay", "lr_min", "shift", "shift_decay", "shift_min", "sr_solver",
             "cg_max_iterations", "cg_tol", "checkpoint_every", "exact_max_states")
# The stage's defaults where the memory estimate needs them.
VMC_DEFAULTS = {"sampler": "metropolis", "samples": 1024, "chains": 128, "width": 64}


def vmc_dir(cluster, j2, seed):
    """results/vmc/{cluster}/J2={j2:g}/seed={seed}."""
    return f"results/vmc/{cluster}/{j2_dirname(j2)}/seed={int(seed)}"


def vmc_input(wildcards):
    """The ground state's completion marker and the cluster spec (for user clusters)."""
    ground_state_settings(wildcards)  # rejects unknown clusters and non-canonical J2 early
    return {
        "ground_state": f"{ground_state_dir(wildcards.cluster, float(wildcards.j2))}/metadata.json",
        "spec": f"results/clusters/{wildcards.cluster}.spec.yaml",
    }


def vmc_options(wildcards):
    """Hyper-parameter flags from config['vmc'] (a params value: editing one reruns)."""
    settings = config["vmc"]
    return " ".join(
        f"--{key.replace('_', '-')} {settings[key]}" for key in VMC_FLAGS if key in settings
    )


def vmc_threads(wildcards):
    return config["vmc"]["threads"]


def vmc_gpus(wildcards):
    return config["vmc"]["gpus"]


def vmc_mem_mb(wildcards, attempt):
    """The config's vmc.mem_mb, or 2 GB plus 32 bytes per basis state (log ψ of the whole
    basis for the exact energy, the streamed ground state) plus twice the per-sample Jacobian
    (rows × parameters × 8 bytes; rows = samples, or K for the exact sampler); times the
    attempt number."""
    settings = {**VMC_DEFAULTS, **config["vmc"]}
    if "mem_mb" in settings:
        return settings["mem_mb"] * attempt
    n_sites = get_cluster_object(check_cluster_wildcard(wildcards)).n_sites
    dimension = SzBasis(n_sites).dimension
    width = settings["width"]
    phase = settings.get("phase_width", width)
    params = sum(n_sites * w + 2 * w + w * w + w + 1 for w in (width, phase))
    chains = settings["chains"]
    rows = dimension if settings["sampler"] == "exact" else -(-settings["samples"] // chains) * chains
    return (2000 + math.ceil((32 * dimension + 16 * rows * params) / 2**20)) * attempt


def vmc_runtime(wildcards, attempt):
    """Wall-time limit in minutes, times the attempt number (a retry resumes from the
    stage's checkpoint)."""
    return config["vmc"]["runtime"] * attempt


# ----------------------------------------------------------------------------- experiments
# An experiment (config `experiments`, schema $defs/experiment) is one figure,
# results/figures/{experiment}.pdf; its `kind` selects the rules that build it:
#   clusters  -> figure_clusters                                  (Fig. 1)
#   j2_sweep  -> aggregate_j2_sweep  + figure_j2_sweep            (Figs. 2, 4, S2, S4)
#   eps_sweep -> aggregate_eps_sweep + figure_eps_sweep           (Figs. 3, S3)
#   scaling   -> aggregate_eps_sweep + figure_scaling             (Fig. 5)
# The rules share output patterns and are told apart by wildcard constraints listing the
# experiments of their kinds (experiment_pattern).  Runs shared by several experiments (same
# cluster, J2, target, arch, εtrain and seed) are one job: seeds are 0 .. seeds-1 everywhere.
EXPERIMENTS = config["experiments"]


def experiment_pattern(*kinds):
    """Regex matching exactly the names of the experiments of ``kinds`` (or nothing)."""
    names = [re.escape(n) for n, e in EXPERIMENTS.items() if e["kind"] in kinds]
    return "|".join(names) if names else "(?!x)x"


def experiment_settings(wildcards):
    return EXPERIMENTS[wildcards.experiment]


def experiment_params(wildcards):
    """The settings that determine an experiment's tables and figure, as a params value:
    `enabled` and `description` are left out, so switching an experiment off and on (or
    editing its caption text) does not rerun its aggregation."""
    exp = experiment_settings(wildcards)
    return {k: v for k, v in exp.items() if k not in ("enabled", "description")}


def experiment_j2(exp, cluster):
    """J2 values of ``cluster`` in ``exp``: its own `j2`, else the ground_states grid."""
    if "j2" in exp:
        return list(exp["j2"])
    if cluster not in config["ground_states"]:
        raise WorkflowError(f"experiment needs `j2`: cluster {cluster} has no ground_states "
                            "entry to take its J2 grid from")
    return list(config["ground_states"][cluster]["j2"])


def experiment_eps(exp, cluster):
    """εtrain values of an experiment's runs on ``cluster`` (a j2_sweep adds 1 for
    expressibility; a sweep's grid may be given per cluster)."""
    if exp["kind"] == "j2_sweep":
        return [exp["eps"]] + ([1.0] if exp["expressibility"] and exp["eps"] != 1.0 else [])
    grids = exp["eps"]
    return list(grids[cluster] if isinstance(grids, dict) else grids)


def experiment_runs(exp):
    """(cluster, j2, target, arch, eps, seed) of every training run of ``exp``."""
    if exp["kind"] == "clusters":
        return []
    return [
        (cluster, j2, target, arch, eps, seed)
        for cluster in exp["clusters"]
        for j2 in experiment_j2(exp, cluster)
        for target in exp["targets"]
        for arch in exp["archs"]
        for eps in experiment_eps(exp, cluster)
        for seed in range(exp["seeds"])
    ]


def experiment_train_files(exp):
    return [f"{train_dir(*run)}/metrics.parquet" for run in experiment_runs(exp)]


def experiment_vmc_files(exp):
    """VMC metrics of a j2_sweep with `vmc: true` (written by the VMC stage's rule)."""
    if exp["kind"] != "j2_sweep" or not exp["vmc"]:
        return []
    return [
        f"results/vmc/{cluster}/{j2_dirname(j2)}/seed={seed}/metrics.parquet"
        for cluster in exp["clusters"]
        for j2 in experiment_j2(exp, cluster)
        for seed in range(exp["seeds"])
    ]


def aggregate_input(wildcards):
    exp = experiment_settings(wildcards)
    return {
        "runs": experiment_train_files(exp),
        "vmc": experiment_vmc_files(exp),
        "specs": [f"results/clusters/{c}.spec.yaml" for c in exp["clusters"]],
    }


def figure_clusters_input(wildcards):
    exp = experiment_settings(wildcards)
    return {"specs": [f"results/clusters/{c}.spec.yaml" for c in exp["clusters"]]}


def figure_targets():
    """The figure of every enabled experiment."""
    return [f"results/figures/{name}.pdf" for name, exp in EXPERIMENTS.items() if exp["enabled"]]


def experiment_caption(wildcards):
    """Facts about an experiment for its report caption (workflow/report/*.rst)."""
    exp = experiment_settings(wildcards)
    info = {
        "name": wildcards.experiment,
        "kind": exp["kind"],
        "clusters": ", ".join(exp["clusters"]),
        "description": exp["description"],
    }
    if exp["kind"] != "clusters":
        grids = {c: experiment_j2(exp, c) for c in exp["clusters"]}
        info.update(
            j2="; ".join(f"{c}: " + ", ".join(f"{j:g}" for j in js) for c, js in grids.items()),
            eps="; ".join(f"{c}: " + ", ".join(f"{e:g}" for e in experiment_eps(exp, c))
                          for c in exp["clusters"]),
            archs=", ".join(exp["archs"]),
            targets=", ".join(exp["targets"]),
            seeds=exp["seeds"],
            runs=len(experiment_runs(exp)),
            vmc=bool(exp.get("vmc", False)),
            expressibility=bool(exp.get("expressibility", False)),
            eps_value=exp["eps"] if exp["kind"] == "j2_sweep" else None,
        )
    return info