"""Stage ``train``: learn the sign structure or the amplitudes of an exact ground state from a
|ψ|² sample and measure the overlap on the rest of the basis (paper, "Training procedure").

    python -m nqsgen.train --cluster kagome_24 --j2 0.5 --target sign --arch dense2 \\
        --eps 0.01 --seed 0 --out DIR [--ground-state DIR]

``--ground-state`` defaults to ``results/ground_states/{cluster}/J2={j2}``.  ``--out`` is the run
directory, by convention ``results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}``
(:func:`run_dir`; J2 and ε written with ``format(x, "g")``).  It receives, atomically (a
temporary sibling renamed into place, replacing an old run):

* ``metrics.parquet`` — one row: every parameter and metric (:data:`METRIC_COLUMNS`; the test
  overlap of the trained target in column ``overlap``);
* ``curves.parquet`` — one row per epoch: ``epoch, train_loss, val_loss, val_overlap, time_s``
  plus the run's identifying columns.

Metrics columns (definitions in :mod:`nqsgen.datasets`, :mod:`nqsgen.overlaps`,
:mod:`nqsgen.training`): the run's parameters (``eps_train`` = εtrain, ``eps_val`` = εval,
``dimension`` = K, ``expressibility`` true iff εtrain = 1); ``n_train``/``n_val`` draws with
``train_unique``/``val_unique`` distinct states covering ``train_mass``/``val_mass`` of Σψ²;
``test_states``/``test_mass`` of the test set T (all states not drawn; all K when εtrain = 1);
``overlap`` = the trained target's test overlap (``sign_overlap`` or ``amplitude_overlap``,
the other NaN), ``overlap_method`` ``exact`` (``overlap_se`` 0) or ``monte_carlo`` (with its
standard error; ``overlap_samples`` accepted draws, else the number of test states;
``overlap_draws`` the Monte-Carlo draws made, rejected ones included);
``sign_accuracy`` (plain) and ``sign_accuracy_weighted`` (ψ²-weighted) on T; at the restored
best epoch ``best_epoch``, ``train_loss`` (mean batch loss of that epoch), ``val_loss``,
``val_overlap`` (Monte-Carlo estimate from the validation draws); ``epochs`` run,
``stopped_early``; ``train_time_s`` (fit incl. validation), ``train_samples_per_s`` (examples
per second of optimisation steps), ``eval_time_s`` and ``inference_states_per_s`` (test-set
evaluation), ``wall_time_s`` (the whole stage after imports); ``device``, ``threads``,
``n_parameters``, versions, host, creation time.

The hive keys of the path (``J2``, ``eps``, ``seed``) are not repeated as data columns of a
conflicting type: the data columns are ``j2`` and ``eps_train`` (float64) and ``seed`` (int32,
the type pyarrow infers for ``seed=0``), so that
``pyarrow.dataset.dataset("results/train", partitioning="hive")`` reads every run in one call
(its ``J2``/``eps`` columns are the path strings; use ``j2``/``eps_train`` for numbers).
That plain call reads both files of every run (metrics rows have a null ``epoch``);
:func:`read_runs` reads one kind only (it passes ``ignore_prefixes``).

Every parameter is validated, the cluster built and the ground state opened, verified and
checked to belong to the cluster and J2 before any sampling or training; errors print
``error: <one line>`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import math
import platform
import sys
import time
from importlib import metadata as _pkg_metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import torch

from nqsgen.basis import SzBasis
from nqsgen.cli import OneLineParser
from nqsgen.clusters import get_cluster
from nqsgen.config import load_cluster_specs
from nqsgen.datasets import (
    EXPRESSIBILITY_MODES,
    check_fractions,
    check_memory,
    default_eps_val,
    make_split,
    seed_streams,
)
from nqsgen.devices import describe, resolve_device, set_threads
from nqsgen.errors import ConfigError, NqsgenError
from nqsgen.models import ModelConfig, Predictor, build_model, count_parameters
from nqsgen.overlaps import DEFAULT_MC_SE, mc_sample_size, test_overlap
from nqsgen.storage import GroundState, j2_dirname, write_run_tables
from nqsgen.training import TrainConfig, fit

log = logging.getLogger("nqsgen.train")

DEFAULT_EXACT_MAX_STATES = 300_000_000  # K above which the test overlap is a MC estimate
CURVE_COLUMNS = ("epoch", "train_loss", "val_loss", "val_overlap", "time_s")
#: Columns of metrics.parquet, in order.
METRIC_COLUMNS = (
    # run identity and parameters
    "cluster", "lattice", "n_sites", "dimension", "j2", "target", "arch", "eps_train",
    "eps_val", "seed", "expressibility", "expressibility_mode", "width", "channels",
    "kernel_radius", "activation", "dropout", "weight_decay", "lr", "batch_size",
    "max_epochs", "patience", "device", "threads", "n_parameters", "ground_state",
    "ground_state_energy", "cluster_fingerprint",
    # data sets
    "n_train", "train_unique", "train_mass", "n_val", "val_unique", "val_mass",
    "test_states", "test_mass",
    # test-set metrics
    "overlap", "overlap_se", "overlap_method", "overlap_samples", "overlap_draws",
    "sign_overlap",
    "amplitude_overlap", "sign_accuracy", "sign_accuracy_weighted",
    # training
    "best_epoch", "epochs", "stopped_early", "train_loss", "val_loss", "val_overlap",
    "train_time_s", "train_samples_per_s", "eval_time_s", "inference_states_per_s",
    "wall_time_s",
    # provenance
    "torch_version", "nqsgen_version", "host", "created",
)


def parse_args(argv=None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m nqsgen.train", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--cluster", required=True, help="cluster name (catalogue or --config)")
    a("--j2", required=True, type=float, help="J2/J1 of the ground state")
    a("--target", required=True, help="sign | amplitude")
    a("--arch", required=True, help="dense1 | dense2 | cnn")
    a("--eps", required=True, type=float, help="εtrain in (0, 1]; 1 = expressibility mode")
    a("--seed", required=True, type=int, help="run seed (sampling, initialisation, batches)")
    a("--out", required=True, help="run directory (replaced atomically)")
    a("--ground-state", help="ground-state directory (default results/ground_states/"
      "{cluster}/J2={j2})")
    a("--config", help="YAML config whose 'clusters:' mapping defines clusters")
    a("--eps-val", type=float, help="εval in (0, 1] (default min(εtrain, 0.05))")
    a("--expressibility-mode", default="sampled",
      help="εtrain = 1: sampled (K draws from ψ²) or weighted (all states, weights Kψ²)")
    a("--width", type=int, default=64, help="hidden units of dense layers (default 64)")
    a("--channels", type=int, default=16, help="channels of CNN layers (default 16)")
    a("--kernel-radius", type=float, default=1.5, help="CNN stencil radius in |a1| units")
    a("--activation", default="relu", help="relu | tanh | elu | gelu | softplus")
    a("--dropout", type=float, default=0.0, help="dropout probability after hidden layers")
    a("--weight-decay", type=float, default=0.0, help="Adam L2 weight decay")
    a("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    a("--batch-size", type=int, default=128, help="batch size (default 128; paper: 64/128)")
    a("--max-epochs", type=int, default=500)
    a("--patience", type=int, default=20, help="early-stopping patience in epochs")
    a("--device", default="auto", help="auto | cpu | cuda (auto: CUDA when available)")
    a("--threads", type=int, default=1, help="CPU threads (torch and numba; default 1)")
    a("--exact-max-states", type=float, default=DEFAULT_EXACT_MAX_STATES,
      help="largest K whose test overlap is summed exactly (default 3e8: up to 30 spins); "
           "above: Monte Carlo")
    a("--mc-se", type=float, default=DEFAULT_MC_SE,
      help="standard error the Monte-Carlo sign overlap is sized for (default 0.005: "
           "⌈1/SE²⌉ = 40,000 accepted test-set draws)")
    a("--mc-samples", type=float, default=None,
      help="accepted ψ² test-set draws of the Monte-Carlo overlap (default from --mc-se)")
    args = p.parse_args(argv)
    if args.eps_val is None and math.isfinite(args.eps):
        args.eps_val = default_eps_val(args.eps)
    if args.mc_samples is None and 0 < args.mc_se < 1:
        args.mc_samples = mc_sample_size(args.mc_se)
    return args


def eps_dirname(eps: float) -> str:
    """``eps=`` + ``format(eps, "g")`` (``eps=0.01``, ``eps=1``)."""
    return f"eps={format(float(eps), 'g')}"


def run_dir(root, cluster: str, j2: float, target: str, arch: str, eps: float,
            seed: int) -> Path:
    """``root/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}``."""
    return Path(root, cluster, j2_dirname(j2), target, arch, eps_dirname(eps), f"seed={seed}")


def read_runs(root, kind: str = "metrics") -> pa.Table:
    """All ``metrics`` (or ``curves``) rows below ``root`` in one table, with the hive columns
    ``J2``, ``eps`` (strings from the path) and ``seed``.  Files and directories whose names
    start with the other kind's name are skipped (so no cluster may be called ``curves*``)."""
    other = {"metrics": "curves", "curves": "metrics"}[kind]
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_", other])
    return dataset.to_table()


def _model_config(args) -> ModelConfig:
    return ModelConfig(arch=args.arch, width=args.width, channels=args.channels,
                       kernel_radius=args.kernel_radius, activation=args.activation,
                       dropout=args.dropout)


def _train_config(args) -> TrainConfig:
    return TrainConfig(target=args.target, lr=args.lr, batch_size=args.batch_size,
                       max_epochs=args.max_epochs, patience=args.patience,
                       weight_decay=args.weight_decay)


def _validate(args) -> None:
    if not math.isfinite(args.j2):
        raise ConfigError(f"--j2 must be a finite number, got {args.j2}")
    check_fractions(args.eps, args.eps_val)
    _model_config(args).validate()
    _train_config(args).validate()
    if args.expressibility_mode not in EXPRESSIBILITY_MODES:
        raise ConfigError(f"unknown expressibility mode {args.expressibility_mode!r} "
                          f"(known: {', '.join(EXPRESSIBILITY_MODES)})")
    if not 0 <= args.seed < 2**31 or args.threads < 1:
        raise ConfigError(f"--seed must be in [0, 2^31) and --threads ≥ 1, got {args.seed}, "
                          f"{args.threads}")
    if not 0 < args.mc_se < 1:
        raise ConfigError(f"--mc-se must be in (0, 1), got {args.mc_se}")
    if not args.exact_max_states >= 0 or not 2 <= args.mc_samples < math.inf:
        raise ConfigError("--exact-max-states must be ≥ 0 and --mc-samples ≥ 2")


def open_ground_state(args, cluster) -> GroundState:
    """The verified ground state of ``cluster`` at ``args.j2``."""
    path = args.ground_state or Path("results/ground_states", cluster.name, j2_dirname(args.j2))
    state = GroundState.open(path, verify=True, cluster=cluster)
    stored = float(state.metadata.get("j2", math.nan))
    if not math.isclose(stored, args.j2, rel_tol=1e-12, abs_tol=1e-12):
        raise ConfigError(f"ground state at {path} has J2={stored:g}, not {args.j2:g}")
    return state


def prepare(args):
    """Validate everything cheap-to-check: returns (cluster, ground_state, device)."""
    import psutil

    _validate(args)
    specs = load_cluster_specs(args.config) if args.config else None
    cluster = get_cluster(args.cluster, specs)
    device = resolve_device(args.device)
    dimension = SzBasis(cluster.n_sites).dimension
    check_memory(f"{cluster.name} J2={args.j2:g}", args.eps, args.eps_val, dimension,
                 cluster.n_sites, psutil.virtual_memory().available)
    return cluster, open_ground_state(args, cluster), device


def run(args) -> dict:
    """The stage: sample, train, evaluate, write; returns the metrics row."""
    t0 = time.perf_counter()
    cluster, state, device = prepare(args)
    set_threads(args.threads)
    streams = seed_streams(args.seed)
    torch.manual_seed(int(streams["torch"].integers(2**62)))
    generator = torch.Generator().manual_seed(int(streams["torch"].integers(2**62)))
    log.info("%s (N=%d, K=%d) J2=%g: %s/%s, εtrain=%g, εval=%g, seed %d on %s, %d thread(s)",
             cluster.name, cluster.n_sites, state.dimension, args.j2, args.target, args.arch,
             args.eps, args.eps_val, args.seed, describe(device), args.threads)
    split = make_split(state, args.eps, args.eps_val, streams, args.expressibility_mode)
    log.info("train %d examples (%d unique, mass %.4f), val %d (%d unique, mass %.4f); "
             "test set %d states, mass %.4f", len(split.train), split.train.unique,
             split.train.mass, len(split.val), split.val.unique, split.val.mass,
             split.test_states, split.test_mass)
    model = build_model(_model_config(args), cluster).to(device)
    result = fit(model, split.train, split.val, _train_config(args), cluster.n_sites, device,
                 generator)
    test = test_overlap(Predictor(model, cluster.n_sites, device), state, split.excluded,
                        args.target, exact_max_states=int(args.exact_max_states),
                        mc_samples=int(args.mc_samples), rng=streams["test"],
                        test_mass=split.test_mass / state.norm_squared)
    log.info("test overlap (%s, %s) %.6f ± %.1e over %d states; %.0f states/s",
             args.target, test["overlap_method"], test["overlap"], test["overlap_se"],
             test["overlap_samples"], test["inference_states_per_s"])
    metrics = metrics_row(args, cluster, state, split, model, device, result, test,
                          time.perf_counter() - t0)
    write_outputs(Path(args.out), metrics, curves_table(args, result.curves))
    log.info("wrote %s in %.1f s", args.out, metrics["wall_time_s"])
    return metrics


def _version(name: str) -> str | None:
    try:
        return _pkg_metadata.version(name)
    except _pkg_metadata.PackageNotFoundError:
        return None


def metrics_row(args, cluster, state, split, model, device, result, test, wall) -> dict:
    """The metrics.parquet row (:data:`METRIC_COLUMNS`)."""
    sign = args.target == "sign"
    row = {
        "cluster": cluster.name, "lattice": cluster.lattice.name, "n_sites": cluster.n_sites,
        "dimension": state.dimension, "j2": args.j2, "target": args.target,
        "arch": args.arch, "eps_train": args.eps, "eps_val": args.eps_val, "seed": args.seed,
        "expressibility": split.expressibility,
        "expressibility_mode": args.expressibility_mode if split.expressibility else "",
        "width": args.width, "channels": args.channels, "kernel_radius": args.kernel_radius,
        "activation": args.activation, "dropout": args.dropout,
        "weight_decay": args.weight_decay, "lr": args.lr, "batch_size": args.batch_size,
        "max_epochs": args.max_epochs, "patience": args.patience,
        "device": describe(device), "threads": args.threads,
        "n_parameters": count_parameters(model), "ground_state": str(state.path),
        "ground_state_energy": state.energy,
        "cluster_fingerprint": state.metadata.get("cluster_fingerprint", ""),
        "n_train": len(split.train), "train_unique": split.train.unique,
        "train_mass": split.train.mass, "n_val": len(split.val),
        "val_unique": split.val.unique, "val_mass": split.val.mass,
        "test_states": split.test_states, "test_mass": split.test_mass,
        **{k: test[k] for k in ("overlap", "overlap_se", "overlap_method", "overlap_samples",
                                "overlap_draws", "sign_accuracy", "sign_accuracy_weighted")},
        "sign_overlap": test["overlap"] if sign else math.nan,
        "amplitude_overlap": math.nan if sign else test["overlap"],
        "best_epoch": result.best_epoch, "epochs": result.epochs,
        "stopped_early": result.stopped_early, "train_loss": result.train_loss,
        "val_loss": result.val_loss, "val_overlap": result.val_overlap,
        "train_time_s": result.train_time_s, "train_samples_per_s": result.samples_per_s,
        "eval_time_s": test["eval_time_s"],
        "inference_states_per_s": test["inference_states_per_s"], "wall_time_s": wall,
        "torch_version": torch.__version__, "nqsgen_version": _version("nqsgen") or "",
        "host": platform.node(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    return {k: row[k] for k in METRIC_COLUMNS}


def _identity(args) -> dict:
    return {"cluster": args.cluster, "j2": args.j2, "target": args.target, "arch": args.arch,
            "eps_train": args.eps, "seed": args.seed}


def _table(columns: dict) -> pa.Table:
    """Arrow table; ``seed`` as int32 (pyarrow's inferred type for the hive key ``seed=``)."""
    fields = {k: pa.array(v, type=pa.int32() if k == "seed" else None)
              for k, v in columns.items()}
    return pa.table(fields)


def curves_table(args, curves: list[dict]) -> pa.Table:
    ident = _identity(args)
    columns = {k: [ident[k]] * len(curves) for k in ident}
    columns.update({k: [row[k] for row in curves] for k in CURVE_COLUMNS})
    return _table(columns)


def write_outputs(out_dir: Path, metrics: dict, curves: pa.Table) -> None:
    """Publish ``metrics.parquet`` (one row) and ``curves.parquet`` atomically (one schema)."""
    write_run_tables(out_dir, {"metrics.parquet": _table({k: [v] for k, v in metrics.items()}),
                              "curves.parquet": curves})


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


def main(argv=None) -> int:
    setup_logging()
    try:
        run(parse_args(argv))
    except NqsgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
