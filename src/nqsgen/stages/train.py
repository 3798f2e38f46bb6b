"""Stage ``train``: learn the sign structure or the amplitudes of an exact ground state from a
|ψ|² sample and measure the overlap on the rest of the basis (paper, "Training procedure").

    nqsgen-train --cluster kagome_24 --j2 0.5 --target sign --arch dense2 --eps 0.01 \\
        --seed 0 --out DIR [--ground-state DIR]      # = python -m nqsgen.stages.train
    nqsgen-train --cluster kagome_24 --target sign --arch dense2 \\
        --runs RUN_DIR [RUN_DIR ...] [--ground-state DIR ...]     # an ensemble of runs

**Ensembles** (``--runs``): one process trains several independent runs of one cluster,
target and architecture at once (:mod:`nqsgen.ensemble`: batched parameters, each run with its
own draws, initialisation, shuffling, Adam state, early stopping and curve; a single run is
an ensemble of one).  Each RUN_DIR is a run directory in the layout below, which names its
J2, εtrain and seed; the ground states are opened and verified once per J2 (``--ground-state``
may be given once per J2, matched by the J2 in its metadata; default
``<results>/ground_states/{cluster}/J2={j2}`` beside the ``train`` directory of the run), and
one streaming pass over each basis evaluates every member's test overlap.  Outputs are
published run by run when all are trained.  A member that finished training is saved at
once (its best parameters and curve) under ``<results>/train/.ensembles/<id>/``; a rerun of
the same ensemble with the same settings, e.g. after the job was killed, reuses them and
trains only the others (the saved state is removed once every run is published).

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
evaluation), ``wall_time_s`` (the whole stage after imports; in an ensemble these times are
those of the shared computation); ``ensemble_size`` and ``ensemble_id`` (the members trained
together and a hash of that composition: a run's numbers are reproducible for its
composition); ``device``, ``threads``, ``n_parameters``, versions, host, creation time.

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

import json
import logging
import math
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds

from nqsgen import paths, provenance, publish, schemas
from nqsgen.basis import SzBasis
from nqsgen.composition import ensemble_id
from nqsgen.config import TrainSettings
from nqsgen.config.cli import add_arguments, settings_from
from nqsgen.datasets import check_fractions, default_eps_val, memory_needed
from nqsgen.errors import ConfigError, StorageError
from nqsgen.overlaps import TARGETS, mc_sample_size
from nqsgen.stages.base import StageParser, check_threads, cluster_of, run, setup_logging
from nqsgen.storage.metadata import read_metadata

log = logging.getLogger("nqsgen.train")

#: The built-in architectures; ``--arch`` accepts every registered one
#: (:mod:`nqsgen.architectures`).
ARCHS = ("dense1", "dense2", "cnn", "gcnn")
#: Columns of metrics.parquet, in order.
METRIC_COLUMNS = tuple(schemas.TRAIN_METRICS.names)
CURVE_COLUMNS = ("epoch", "train_loss", "val_loss", "val_overlap", "time_s")
#: The trailing components of a run directory (nqsgen.paths.TRAIN_RUN).
RUN_DIR = re.compile(r"(?P<cluster>[^/]+)/J2=(?P<j2>[^/]+)/(?P<target>[^/]+)/(?P<arch>[^/]+)/"
                     r"eps=(?P<eps>[^/]+)/seed=(?P<seed>[0-9]+)$")
RESUME_DIR = ".ensembles"  # below the train directory: members saved as they finish


@dataclass(frozen=True)
class Run:
    """One member: its J2, εtrain, εval, seed and run directory."""

    j2: float
    eps: float
    eps_val: float
    seed: int
    out: Path

    @property
    def label(self) -> str:
        return f"J2={self.j2:g} eps={self.eps:g} seed={self.seed}"


def parse_args(argv=None):
    """The runs' identity and resources, and their validated :class:`TrainSettings`."""
    p = StageParser("nqsgen-train", __doc__)
    p.add_cluster()
    a = p.add_argument
    a("--j2", type=float, help="J2/J1 of the ground state (one run)")
    a("--target", required=True, choices=TARGETS, help="sign | amplitude")
    a("--arch", required=True, metavar="ARCH", help="a registered architecture: "
      + " | ".join(ARCHS) + " (nqsgen.architectures)")
    a("--eps", type=float, help="εtrain in (0, 1]; 1 = expressibility mode (one run)")
    a("--seed", type=int, help="run seed (sampling, initialisation, batches; one run)")
    a("--out", help="run directory (replaced atomically; one run)")
    a("--runs", nargs="+", metavar="RUN_DIR", help="an ensemble: run directories "
      ".../{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed} (replaces --j2 --eps "
      "--seed --out)")
    a("--ground-state", action="append", help="ground-state directory (default results/"
      "ground_states/{cluster}/J2={j2}); once per J2 of an ensemble")
    a("--device", default="auto", help="auto | cpu | cuda (auto: CUDA when available)")
    a("--threads", type=int, default=1, help="CPU threads (torch and numba; default 1)")
    add_arguments(p, TrainSettings)
    args = p.parse_args(argv)
    settings = settings_from(args, TrainSettings)
    args.arch_name, settings = _check_arch(args.arch, settings)
    args.from_runs = bool(args.runs)
    args.runs = _runs(args, settings)
    check_threads(args.threads)
    args.settings = settings.model_copy(update={
        "eps_val": args.runs[0].eps_val if len(args.runs) == 1 else settings.eps_val,
        "mc_samples": settings.mc_samples or mc_sample_size(settings.mc_se)})
    return args


def _check_arch(label: str, settings: TrainSettings) -> tuple[str, TrainSettings]:
    """(architecture name, settings) of ``--arch``: a registered name, or a width label
    ``{name}-w{width}`` (:func:`nqsgen.paths.arch_label`, the runs of capacity experiments),
    whose width replaces the configured one (``--width`` for dense, ``--channels`` for
    cnn/gcnn: the architecture's ``capacity`` field)."""
    from nqsgen import architectures

    try:
        arch, width = architectures.resolve(label)
    except ConfigError:
        raise ConfigError(f"argument --arch: invalid choice: {label!r} (registered "
                          f"architectures: {', '.join(architectures.names())}, or "
                          "<arch>-w<width>)") from None
    if width is None:
        return arch.name, settings
    return arch.name, settings.model_copy(update={arch.capacity: width})


def _runs(args, settings) -> list[Run]:
    """The members: ``--j2 --eps --seed --out`` (one run) or the ``--runs`` directories."""
    single = {"--j2": args.j2, "--eps": args.eps, "--seed": args.seed, "--out": args.out}
    if args.runs:
        given = [k for k, v in single.items() if v is not None]
        if given:
            raise ConfigError(f"--runs replaces {', '.join(given)}: give one or the other")
        runs = [_parse_run(d, args) for d in args.runs]
    else:
        missing = [k for k, v in single.items() if v is None]
        if missing:
            raise ConfigError(f"the following arguments are required: {', '.join(missing)} "
                              "(or --runs)")
        runs = [(args.j2, args.eps, args.seed, Path(args.out))]
    out = []
    for j2, eps, seed, path in runs:
        _check_identity(j2, eps, seed)
        eps_val = settings.eps_val or default_eps_val(eps)
        check_fractions(eps, eps_val)
        out.append(Run(j2, eps, eps_val, seed, path))
    if len({(r.j2, r.eps, r.seed) for r in out}) < len(out):
        raise ConfigError("--runs names a run twice")
    return out


def _parse_run(directory: str, args) -> tuple:
    """(j2, eps, seed, path) of a run directory, which must match --cluster/--target/--arch."""
    path = Path(directory)
    m = RUN_DIR.search(path.as_posix().rstrip("/"))
    if not m:
        raise ConfigError(f"--runs {directory}: not a run directory .../{{cluster}}/J2={{j2}}/"
                          "{target}/{arch}/eps={eps}/seed={seed}")
    for key in ("cluster", "target", "arch"):
        if m[key] != getattr(args, key):
            raise ConfigError(f"--runs {directory}: {key} {m[key]}, not --{key} "
                              f"{getattr(args, key)}")
    try:
        return float(m["j2"]), float(m["eps"]), int(m["seed"]), path
    except ValueError:
        raise ConfigError(f"--runs {directory}: J2 and eps must be numbers") from None


def _check_identity(j2: float, eps: float, seed: int) -> None:
    if not math.isfinite(j2):
        raise ConfigError(f"--j2 must be a finite number, got {j2}")
    if not 0 < eps <= 1:
        raise ConfigError(f"eps (εtrain) must be in (0, 1], got {eps}")
    if not 0 <= seed < 2**31:
        raise ConfigError(f"--seed must be in [0, 2^31), got {seed}")


def read_runs(root, kind: str = "metrics"):
    """All ``metrics`` (or ``curves``) rows below ``root`` in one table, with the hive columns
    ``J2``, ``eps`` (strings from the path) and ``seed``.  Files and directories whose names
    start with the other kind's name are skipped (so no cluster may be called ``curves*``)."""
    other = {"metrics": "curves", "curves": "metrics"}[kind]
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_", other])
    return dataset.to_table()


# ----------------------------------------------------------------------------- preparation
def prepare(args):
    """Everything cheap to check, before any sampling or training: (cluster, ground state of
    every run (one object per J2), device).  The output locations, the memory the examples
    need, the ground states (verified, of this cluster and J2) and the device."""
    import psutil

    from nqsgen.devices import resolve_device
    from nqsgen.storage import open_ground_state

    cluster = cluster_of(args)
    directories = _ground_state_dirs(args, cluster.name)
    for r in args.runs:
        publish.check_output_location(r.out, paths.MARKERS["train"],
                                      inputs=[directories[r.j2]])
    dimension = SzBasis(cluster.n_sites).dimension
    _check_memory(args.runs, cluster, dimension, psutil.virtual_memory().available)
    device = resolve_device(args.device)
    opened = {j2: open_ground_state(d, cluster, j2) for j2, d in directories.items()}
    return cluster, [opened[r.j2] for r in args.runs], device


def _ground_state_dirs(args, cluster: str) -> dict[float, Path]:
    """J2 -> ground-state directory: ``--ground-state`` (one run: the one given; an ensemble:
    matched by the J2 of its metadata), else the default location."""
    given = [Path(d) for d in args.ground_state or []]
    j2s = sorted({r.j2 for r in args.runs})
    if len(j2s) == 1 and len(given) == 1:
        return {j2s[0]: given[0]}
    by_j2 = {}
    for d in given:
        try:
            by_j2[float(read_metadata(d).j2)] = d
        except StorageError as exc:
            raise ConfigError(f"--ground-state {d}: {exc}") from None
    return {j2: by_j2.get(j2) or _default_ground_state(args, cluster, j2) for j2 in j2s}


def _default_ground_state(args, cluster: str, j2: float) -> Path:
    """``<results>/ground_states/{cluster}/J2={j2}`` beside the runs' ``<results>/train``
    (``--runs``), else ``results/ground_states/...`` relative to the working directory."""
    out = args.runs[0].out
    if args.from_runs and len(out.parents) > 6 and out.parents[5].name == "train":
        return paths.ground_state_dir(cluster, j2, root=out.parents[6])
    return paths.ground_state_dir(cluster, j2)


def _check_memory(runs: list[Run], cluster, dimension: int, available: float) -> None:
    from nqsgen.datasets import check_memory

    if len(runs) == 1:
        check_memory(f"{cluster.name} J2={runs[0].j2:g}", runs[0].eps, runs[0].eps_val,
                     dimension, cluster.n_sites, available)
        return
    need = sum(memory_needed(r.eps, r.eps_val, dimension, cluster.n_sites) for r in runs)
    if need > available:
        raise ConfigError(f"{cluster.name}: an ensemble of {len(runs)} runs, K = "
                          f"{dimension:,}: the examples need {need / 1e9:.1f} GB, only "
                          f"{available / 1e9:.1f} GB are available")


# ----------------------------------------------------------------------------- training
def train(args) -> dict:
    """One run (``--j2 --eps --seed --out``): its metrics row (:func:`train_runs`)."""
    (row,) = train_runs(args)
    return row


def train_runs(args) -> list[dict]:
    """The stage: sample, train, evaluate and write every run; returns the metrics rows."""
    from nqsgen.devices import describe, set_threads

    t0 = time.perf_counter()
    cluster, states, device = prepare(args)
    set_threads(args.threads)
    for r in args.runs:
        for stale in publish.stale_siblings(r.out):
            publish.discard(stale)
    job = ensemble_id(cluster.name, args.target, args.arch, args.runs)
    log.info("%s (N=%d, K=%d): %s/%s, %d run(s) (ensemble %s) on %s, %d thread(s)",
             cluster.name, cluster.n_sites, states[0].dimension, args.target, args.arch,
             len(args.runs), job, describe(device), args.threads)
    members = [_member(args, cluster, r, state) for r, state in zip(args.runs, states,
                                                                     strict=True)]
    resume = _Resume(args, job, device) if len(args.runs) > 1 else None
    net, results, trained_in = _train_members(args, cluster, members, device, resume)
    tests = _test_overlaps(args, net, states, members, device)
    rows = []
    for r, state, m, result, test, (size, ens) in zip(args.runs, states, members, results,
                                                      tests, trained_in, strict=True):
        log.info("%s: test overlap (%s, %s) %.6f ± %.1e over %d states", r.label,
                 args.target, test["overlap_method"], test["overlap"], test["overlap_se"],
                 test["overlap_samples"])
        row = metrics_row(args, cluster, state, m["split"], net.n_parameters, device, result,
                          test, time.perf_counter() - t0, run=r)
        rows.append({**row, "ensemble_size": size, "ensemble_id": ens})
    for r, row, result in zip(args.runs, rows, results, strict=True):
        row["wall_time_s"] = time.perf_counter() - t0
        write_outputs(r.out, {k: row[k] for k in METRIC_COLUMNS},
                      curves_rows(args, result.curves, run=r))
    if resume is not None:
        resume.remove()
    log.info("wrote %d run(s) in %.1f s", len(rows), time.perf_counter() - t0)
    return rows


def _member(args, cluster, r: Run, state) -> dict:
    """A run's seed streams, network, shuffling generator and split (as a separate run draws
    them: :func:`nqsgen.ensemble.init_member`, :func:`nqsgen.datasets.make_split`)."""
    from nqsgen.datasets import make_split, seed_streams
    from nqsgen.ensemble import init_member

    streams = seed_streams(r.seed)
    model, generator = init_member(streams, model_config(args), cluster, target=args.target,
                                   ground_state=state)
    split = make_split(state, r.eps, r.eps_val, streams, args.settings.expressibility_mode)
    log.info("%s: train %d examples (%d unique, mass %.4f), val %d (%d unique, mass %.4f); "
             "test set %d states, mass %.4f", r.label, len(split.train), split.train.unique,
             split.train.mass, len(split.val), split.val.unique, split.val.mass,
             split.test_states, split.test_mass)
    return {"streams": streams, "model": model, "generator": generator, "split": split}


def _train_members(args, cluster, members: list[dict], device, resume):
    """Train the members not saved by an earlier attempt (``resume``) together; returns the
    stacked network of all (restored best parameters), the results, and per member the
    (size, id) of the ensemble it was trained in."""
    import torch

    from nqsgen.ensemble import fit_ensemble
    from nqsgen.models import StackedNetwork

    net = StackedNetwork([m["model"] for m in members], device)
    saved = resume.load() if resume is not None else {}
    todo = [i for i in range(len(members)) if i not in saved]
    results, trained_in = [None] * len(members), [None] * len(members)
    if todo:
        sub = StackedNetwork([members[i]["model"] for i in todo], device)
        runs = [args.runs[i] for i in todo]
        ens = (len(todo), ensemble_id(cluster.name, args.target, args.arch, runs))
        on_finish = (lambda k, result, params: resume.save(todo[k], result, params, ens)
                     ) if resume is not None else None
        fitted = fit_ensemble(sub, [members[i]["split"].train for i in todo],
                              [members[i]["split"].val for i in todo],
                              [members[i]["generator"] for i in todo], train_config(args),
                              cluster.n_sites, device, labels=[r.label for r in runs],
                              on_finish=on_finish)
        for k, i in enumerate(todo):
            results[i], trained_in[i] = fitted[k], ens
        _set_rows(net, todo, sub.params)
    for i, (result, params, ens) in saved.items():
        results[i], trained_in[i] = result, ens
        _set_rows(net, [i], [torch.as_tensor(p).unsqueeze(0) for p in params])
    return net, results, trained_in


def _set_rows(net, rows: list[int], params) -> None:
    import torch

    with torch.no_grad():
        for dst, src in zip(net.params, params, strict=True):
            dst[rows] = src.to(dst.device, dst.dtype)


def _test_overlaps(args, net, states, members, device) -> list[dict]:
    from nqsgen.ensemble import ensemble_test_overlaps

    s = args.settings
    return ensemble_test_overlaps(net, states, [m["split"] for m in members], args.target,
                                  exact_max_states=int(s.exact_max_states),
                                  mc_samples=int(s.mc_samples),
                                  rngs=[m["streams"]["test"] for m in members], device=device)


class _Resume:
    """Members of an ensemble saved as they finish training (best parameters and result), in
    ``<train root>/.ensembles/<id>/``, with a fingerprint of everything that determines them
    (composition, settings, device, threads, versions); a later attempt with the same
    fingerprint reuses them.  Only for ``--runs`` in the standard layout."""

    def __init__(self, args, job: str, device):
        out = args.runs[0].out
        self.dir = None
        if args.from_runs and len(out.parents) > 5:
            self.dir = out.parents[5] / RESUME_DIR / job
        self.fingerprint = json.dumps({
            "job": job, "settings": args.settings.model_dump(), "device": str(device),
            "threads": args.threads, "cluster": args.cluster, "target": args.target,
            "arch": args.arch, **provenance.run_provenance(), "host": "", "created": ""},
            sort_keys=True, default=str)

    def load(self) -> dict:
        """{member index: (TrainResult, [parameter arrays], (size, id))} of a matching save."""
        import torch

        from nqsgen.training import TrainResult

        if self.dir is None or not self.dir.is_dir():
            return {}
        manifest = self.dir / "fingerprint.json"
        if not manifest.is_file() or manifest.read_text() != self.fingerprint:
            shutil.rmtree(self.dir, ignore_errors=True)
            return {}
        saved = {}
        for f in sorted(self.dir.glob("member-*.pt")):
            data = torch.load(f, weights_only=True)
            saved[int(data["index"])] = (TrainResult(**data["result"]), data["params"],
                                         tuple(data["ensemble"]))
        if saved:
            log.info("reusing %d member(s) saved by an earlier attempt in %s", len(saved),
                     self.dir)
        return saved

    def save(self, index: int, result, params, ensemble: tuple) -> None:
        import dataclasses

        import torch

        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        manifest = self.dir / "fingerprint.json"
        if not manifest.is_file():
            publish.write_text(manifest, self.fingerprint)
        data = {"index": index, "result": dataclasses.asdict(result),
                "params": [p.detach().cpu() for p in params], "ensemble": list(ensemble)}
        with publish.atomic_path(self.dir / f"member-{index:05d}.pt") as tmp:
            torch.save(data, tmp)

    def remove(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.dir.parent.is_dir() and not any(self.dir.parent.iterdir()):
                self.dir.parent.rmdir()


def model_config(args):
    from nqsgen.models import ModelConfig

    s = args.settings
    return ModelConfig(arch=args.arch_name, width=s.width, channels=s.channels,
                       kernel_radius=s.kernel_radius, activation=s.activation,
                       dropout=s.dropout, gcnn_group=s.gcnn_group)


def train_config(args):
    from nqsgen.training import TrainConfig

    s = args.settings
    return TrainConfig(target=args.target, lr=s.lr, batch_size=s.batch_size,
                       max_epochs=s.max_epochs, patience=s.patience,
                       weight_decay=s.weight_decay)


def metrics_row(args, cluster, state, split, n_parameters, device, result, test, wall,
                run: Run) -> dict:
    """The metrics.parquet row of ``run`` (:data:`nqsgen.schemas.TRAIN_METRICS`, without the
    ensemble columns, which the caller adds)."""
    from nqsgen.devices import describe

    s = args.settings
    sign = args.target == "sign"
    return {
        "cluster": cluster.name, "lattice": cluster.lattice.name, "n_sites": cluster.n_sites,
        "dimension": state.dimension, "j2": run.j2, "target": args.target,
        "arch": args.arch_name, "eps_train": run.eps, "eps_val": run.eps_val,
        "seed": run.seed,
        "expressibility": split.expressibility,
        "expressibility_mode": s.expressibility_mode if split.expressibility else "",
        **{k: getattr(s, k) for k in ("width", "channels", "kernel_radius", "activation",
                                      "dropout", "weight_decay", "lr", "batch_size",
                                      "max_epochs", "patience")},
        "device": describe(device), "threads": args.threads,
        "n_parameters": n_parameters, "ground_state": str(state.path),
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


def curves_rows(args, curves: list[dict], run: Run) -> list[dict]:
    ident = {"cluster": args.cluster, "j2": run.j2, "target": args.target,
             "arch": args.arch_name,
             "eps_train": run.eps, "seed": run.seed}
    return [{**ident, **{k: row[k] for k in CURVE_COLUMNS}} for row in curves]


def write_outputs(out_dir: Path, metrics: dict, curves: list[dict]) -> None:
    """Publish ``metrics.parquet`` (one row) and ``curves.parquet`` atomically, both with the
    run-directory schema :data:`nqsgen.schemas.TRAIN_RUN`."""
    schemas.publish_run(out_dir, schemas.TRAIN_RUN, {"metrics.parquet": [metrics],
                                                     "curves.parquet": curves})


def main(argv=None) -> int:
    setup_logging()
    return run(lambda a: train_runs(parse_args(a)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
