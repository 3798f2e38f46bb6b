"""Stage ``train``: learn the sign structure or the amplitudes of an exact ground state from a
|ψ|² sample and measure the overlap on the rest of the basis (paper, "Training procedure").

    nqsgen-train --cluster kagome_24 --j2 0.5 --target sign --arch dense2 --eps 0.01 \\
        --seed 0 --out DIR [--ground-state DIR]      # = python -m nqsgen.stages.train

``--ground-state`` defaults to ``results/ground_states/{cluster}/J2={j2}``.  ``--out`` is the run
directory, by convention ``results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}``
(:func:`nqsgen.paths.train_run_dir`).  It receives, atomically (:mod:`nqsgen.publish`; an
existing ``--out`` is replaced only when it is a run directory, i.e. holds metrics.parquet):

* ``metrics.parquet`` — one row: every parameter and metric (columns, types and units:
  :data:`nqsgen.schemas.TRAIN_METRICS`; the test overlap of the trained target in ``overlap``);
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

import logging
import math
import time
from pathlib import Path

import pyarrow.dataset as ds

from nqsgen import paths, provenance, publish, schemas
from nqsgen.basis import SzBasis
from nqsgen.config import TrainSettings
from nqsgen.config.cli import add_arguments, settings_from
from nqsgen.datasets import check_fractions, check_memory, default_eps_val
from nqsgen.errors import ConfigError
from nqsgen.overlaps import TARGETS, mc_sample_size
from nqsgen.stages.base import StageParser, check_threads, cluster_of, run, setup_logging
from nqsgen.storage import open_ground_state

log = logging.getLogger("nqsgen.train")

ARCHS = ("dense1", "dense2", "cnn")
#: Columns of metrics.parquet, in order.
METRIC_COLUMNS = tuple(schemas.TRAIN_METRICS.names)
CURVE_COLUMNS = ("epoch", "train_loss", "val_loss", "val_overlap", "time_s")


def parse_args(argv=None):
    """The run's identity and resources, and its validated :class:`TrainSettings`."""
    p = StageParser("nqsgen-train", __doc__)
    p.add_cluster()
    a = p.add_argument
    a("--j2", required=True, type=float, help="J2/J1 of the ground state")
    a("--target", required=True, choices=TARGETS, help="sign | amplitude")
    a("--arch", required=True, choices=ARCHS, help="dense1 | dense2 | cnn")
    a("--eps", required=True, type=float, help="εtrain in (0, 1]; 1 = expressibility mode")
    a("--seed", required=True, type=int, help="run seed (sampling, initialisation, batches)")
    a("--out", required=True, help="run directory (replaced atomically)")
    a("--ground-state", help="ground-state directory (default results/ground_states/"
      "{cluster}/J2={j2})")
    a("--device", default="auto", help="auto | cpu | cuda (auto: CUDA when available)")
    a("--threads", type=int, default=1, help="CPU threads (torch and numba; default 1)")
    add_arguments(p, TrainSettings)
    args = p.parse_args(argv)
    _validate(args)
    settings = settings_from(args, TrainSettings)
    args.settings = settings.model_copy(update={
        "eps_val": settings.eps_val or default_eps_val(args.eps),
        "mc_samples": settings.mc_samples or mc_sample_size(settings.mc_se)})
    check_fractions(args.eps, args.settings.eps_val)
    return args


def _validate(args) -> None:
    if not math.isfinite(args.j2):
        raise ConfigError(f"--j2 must be a finite number, got {args.j2}")
    if not 0 < args.eps <= 1:
        raise ConfigError(f"eps (εtrain) must be in (0, 1], got {args.eps}")
    if not 0 <= args.seed < 2**31:
        raise ConfigError(f"--seed must be in [0, 2^31), got {args.seed}")
    check_threads(args.threads)


def read_runs(root, kind: str = "metrics"):
    """All ``metrics`` (or ``curves``) rows below ``root`` in one table, with the hive columns
    ``J2``, ``eps`` (strings from the path) and ``seed``.  Files and directories whose names
    start with the other kind's name are skipped (so no cluster may be called ``curves*``)."""
    other = {"metrics": "curves", "curves": "metrics"}[kind]
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_", other])
    return dataset.to_table()


def prepare(args):
    """Everything cheap to check, before any sampling or training: (cluster, ground state,
    device).  The output location, the memory the examples need, the ground state (verified,
    of this cluster and J2) and the device."""
    import psutil

    from nqsgen.devices import resolve_device

    cluster = cluster_of(args)
    gs_dir = Path(args.ground_state or paths.ground_state_dir(cluster.name, args.j2))
    publish.check_output_location(args.out, paths.MARKERS["train"], inputs=[gs_dir])
    dimension = SzBasis(cluster.n_sites).dimension
    check_memory(f"{cluster.name} J2={args.j2:g}", args.eps, args.settings.eps_val, dimension,
                 cluster.n_sites, psutil.virtual_memory().available)
    device = resolve_device(args.device)
    return cluster, open_ground_state(gs_dir, cluster, args.j2), device


def train(args) -> dict:
    """The stage: sample, train, evaluate, write; returns the metrics row."""
    import torch

    from nqsgen.datasets import make_split, seed_streams
    from nqsgen.devices import describe, set_threads
    from nqsgen.models import Predictor, build_model
    from nqsgen.overlaps import test_overlap
    from nqsgen.training import fit

    t0 = time.perf_counter()
    cluster, state, device = prepare(args)
    s = args.settings
    set_threads(args.threads)
    streams = seed_streams(args.seed)
    torch.manual_seed(int(streams["torch"].integers(2**62)))
    generator = torch.Generator().manual_seed(int(streams["torch"].integers(2**62)))
    log.info("%s (N=%d, K=%d) J2=%g: %s/%s, εtrain=%g, εval=%g, seed %d on %s, %d thread(s)",
             cluster.name, cluster.n_sites, state.dimension, args.j2, args.target, args.arch,
             args.eps, s.eps_val, args.seed, describe(device), args.threads)
    split = make_split(state, args.eps, s.eps_val, streams, s.expressibility_mode)
    log.info("train %d examples (%d unique, mass %.4f), val %d (%d unique, mass %.4f); "
             "test set %d states, mass %.4f", len(split.train), split.train.unique,
             split.train.mass, len(split.val), split.val.unique, split.val.mass,
             split.test_states, split.test_mass)
    model = build_model(model_config(args), cluster).to(device)
    result = fit(model, split.train, split.val, train_config(args), cluster.n_sites, device,
                 generator)
    test = test_overlap(Predictor(model, cluster.n_sites, device), state, split.excluded,
                        args.target, exact_max_states=int(s.exact_max_states),
                        mc_samples=int(s.mc_samples), rng=streams["test"],
                        test_mass=split.test_mass / state.norm_squared)
    log.info("test overlap (%s, %s) %.6f ± %.1e over %d states; %.0f states/s",
             args.target, test["overlap_method"], test["overlap"], test["overlap_se"],
             test["overlap_samples"], test["inference_states_per_s"])
    metrics = metrics_row(args, cluster, state, split, model, device, result, test,
                          time.perf_counter() - t0)
    write_outputs(Path(args.out), metrics, curves_rows(args, result.curves))
    log.info("wrote %s in %.1f s", args.out, metrics["wall_time_s"])
    return metrics


def model_config(args):
    from nqsgen.models import ModelConfig

    s = args.settings
    return ModelConfig(arch=args.arch, width=s.width, channels=s.channels,
                       kernel_radius=s.kernel_radius, activation=s.activation,
                       dropout=s.dropout)


def train_config(args):
    from nqsgen.training import TrainConfig

    s = args.settings
    return TrainConfig(target=args.target, lr=s.lr, batch_size=s.batch_size,
                       max_epochs=s.max_epochs, patience=s.patience,
                       weight_decay=s.weight_decay)


def metrics_row(args, cluster, state, split, model, device, result, test, wall) -> dict:
    """The metrics.parquet row (:data:`nqsgen.schemas.TRAIN_METRICS`)."""
    from nqsgen.devices import describe
    from nqsgen.models import count_parameters

    s = args.settings
    sign = args.target == "sign"
    row = {
        "cluster": cluster.name, "lattice": cluster.lattice.name, "n_sites": cluster.n_sites,
        "dimension": state.dimension, "j2": args.j2, "target": args.target,
        "arch": args.arch, "eps_train": args.eps, "eps_val": s.eps_val, "seed": args.seed,
        "expressibility": split.expressibility,
        "expressibility_mode": s.expressibility_mode if split.expressibility else "",
        **{k: getattr(s, k) for k in ("width", "channels", "kernel_radius", "activation",
                                      "dropout", "weight_decay", "lr", "batch_size",
                                      "max_epochs", "patience")},
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
        **provenance.run_provenance(),
    }
    return {k: row[k] for k in METRIC_COLUMNS}


def curves_rows(args, curves: list[dict]) -> list[dict]:
    ident = {"cluster": args.cluster, "j2": args.j2, "target": args.target, "arch": args.arch,
             "eps_train": args.eps, "seed": args.seed}
    return [{**ident, **{k: row[k] for k in CURVE_COLUMNS}} for row in curves]


def write_outputs(out_dir: Path, metrics: dict, curves: list[dict]) -> None:
    """Publish ``metrics.parquet`` (one row) and ``curves.parquet`` atomically, both with the
    run-directory schema :data:`nqsgen.schemas.TRAIN_RUN`."""
    import pyarrow.parquet as pq

    with publish.atomic_directory(out_dir) as tmp:
        pq.write_table(schemas.table([metrics], schemas.TRAIN_RUN), tmp / "metrics.parquet")
        pq.write_table(schemas.table(curves, schemas.TRAIN_RUN) if curves else
                       schemas.TRAIN_RUN.empty_table(), tmp / "curves.parquet")


def main(argv=None) -> int:
    setup_logging()
    return run(lambda a: train(parse_args(a)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
