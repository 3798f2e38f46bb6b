"""Stage ``vmc``: stochastic-reconfiguration optimisation of two 2-layer dense networks
(log-amplitude and phase) for one cluster and J2, and its overlap with the exact ground state
(DESIGN §3 stage 4; the paper's Fig. 2 d–f).

    python -m nqsgen.vmc --cluster square_16 --j2 0 --seed 0 --out DIR [--ground-state DIR]
        [--sampler exact|metropolis] [--iterations N] [--samples N] [--chains C] ...

``--ground-state`` defaults to ``results/ground_states/{cluster}/J2={j2}``; it is opened,
verified and checked to belong to the cluster and J2 before anything else happens (the stage
needs it for the relative energy error and the overlaps, not for the optimisation).  ``--out``
is the run directory, by convention ``results/vmc/{cluster}/J2={j2}/seed={seed}``
(:func:`run_dir`).  It receives, atomically (a temporary sibling renamed into place):

* ``metrics.parquet`` — one row, :data:`METRIC_COLUMNS`: every parameter, and
  ``energy`` (σ units, H = Σ J σ·σ) with ``energy_error`` — from ``--final-samples`` fresh
  Metropolis samples after the last update (error sqrt(var·max(τ, 1)/S), τ the chains'
  autocorrelation time), or the exact ⟨ψ|H|ψ⟩ for ``--sampler exact`` (error 0);
  ``energy_method``; ``energy_per_site`` = energy/(4N) in S·S units; ``energy_variance``;
  ``energy_exact_sum`` = ⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ summed over the whole basis (NaN above
  ``--exact-max-states``); ``rel_energy_error`` = (energy − E0)/|E0| against the exact
  ground-state energy E0 (signed: ≥ 0 up to the statistical error); ``overlap`` =
  |⟨ψ|ψ_GS⟩|/‖ψ‖ over the whole basis, ``sign_overlap`` (exact amplitudes, the network's
  signs sign(cos(φ − α)), α = arg⟨ψ_GS|ψ⟩ the free global phase) and
  ``amplitude_overlap`` (exact signs, the network's amplitudes) — definitions in
  :mod:`nqsgen.vmc.observables`; ``acceptance`` and ``autocorrelation_time`` of the final
  estimate; ``samples`` = configurations per SR iteration (K for the exact sum),
  ``sweep_size`` as used (N for 0), ``n_parameters`` (= amplitude + phase);
  ``final_cg_iterations`` (last SR step); ``resumed_from`` (iteration a checkpoint was resumed
  at, 0 for a fresh run), ``sr_time_s`` and ``iterations_per_s`` (the SR iterations this
  process ran), ``eval_time_s`` (the final evaluation), ``wall_time_s``; versions, host;
* ``trajectory.parquet`` — one row per SR iteration (:data:`TRAJECTORY_COLUMNS`, see
  :mod:`nqsgen.vmc.optimize`) plus the identifying columns ``cluster``, ``j2``, ``seed``.

Both files share one schema (the union of their columns; the other file's columns are null),
and the hive keys of the path (``J2``, ``seed``) are not repeated with a conflicting type
(``j2`` float64, ``seed`` int32), so ``pyarrow.dataset.dataset("results/vmc",
partitioning="hive")`` reads every run in one call; :func:`read_runs` reads one kind of file.

Checkpoints (:mod:`nqsgen.vmc.checkpoint`): every ``--checkpoint-every`` iterations (and after
the last) the state is saved to ``--checkpoint`` (default: the hidden sibling
``.seed={seed}.checkpoint.pt`` of the run directory).  A run that finds a checkpoint of the same
settings resumes from it and ends exactly where an uninterrupted run ends; the default
checkpoint is deleted once the outputs are written (and discarded, with a warning, if it was
written with other settings), an explicit ``--checkpoint`` is kept (a later run with a larger
``--iterations`` continues from it) and a mismatch of its settings is an error.

Random numbers: ``--seed`` seeds a :class:`numpy.random.SeedSequence` whose children seed the
initial parameters, the Metropolis chains and the final energy estimate — each consumer
independent of the others.  Same seed, device and thread count → the same trajectory (bitwise
on the CPU).  Every parameter is validated, and the ground state opened, before any
computation; errors print ``error: <one line>`` and exit with status 2.
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

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.dataset as ds
import torch

from nqsgen.basis import SzBasis
from nqsgen.cli import OneLineParser
from nqsgen.clusters import get_cluster
from nqsgen.config import load_cluster_specs
from nqsgen.devices import describe, resolve_device, set_threads
from nqsgen.errors import ConfigError, NqsgenError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.storage import j2_dirname, write_run_tables
from nqsgen.train import open_ground_state, setup_logging
from nqsgen.vmc import checkpoint as ckpt
from nqsgen.vmc.observables import exact_energy, exact_overlaps
from nqsgen.vmc.optimize import TRAJECTORY_COLUMNS, LoopConfig, run_sr
from nqsgen.vmc.sampler import SAMPLERS, ExactSampler, MetropolisSampler
from nqsgen.vmc.sr import SOLVERS, SRConfig
from nqsgen.vmc.wavefunction import DTYPES, WaveFunction, build_wavefunction

log = logging.getLogger("nqsgen.vmc")

DEFAULT_EXACT_MAX_STATES = 300_000_000  # K above which overlaps / exact energy are skipped
SEED_STREAMS = ("init", "chains", "final")
#: Settings a checkpoint must share with the run that resumes from it.
RESUME_KEYS = ("cluster", "j2", "seed", "sampler", "width", "phase_width", "activation",
               "dtype", "samples", "chains", "sweep_size", "burn_in", "initial_burn_in", "lr",
               "lr_decay", "lr_min", "shift", "shift_decay", "shift_min", "sr_solver",
               "cg_max_iterations", "cg_tol", "overlap_every")
#: Columns of metrics.parquet, in order.
METRIC_COLUMNS = (
    # run identity and parameters
    "cluster", "lattice", "n_sites", "dimension", "j2", "seed", "sampler", "iterations",
    "samples", "chains", "sweep_size", "burn_in", "initial_burn_in", "final_samples", "width",
    "phase_width", "activation", "dtype", "lr", "lr_decay", "lr_min", "shift", "shift_decay",
    "shift_min", "sr_solver", "cg_max_iterations", "cg_tol", "overlap_every",
    "checkpoint_every", "device", "threads", "n_parameters", "n_amplitude_parameters",
    "n_phase_parameters", "ground_state", "ground_state_energy", "cluster_fingerprint",
    # results
    "energy", "energy_error", "energy_method", "energy_per_site", "energy_variance",
    "energy_exact_sum", "rel_energy_error", "overlap", "sign_overlap", "amplitude_overlap",
    "overlap_method", "acceptance", "autocorrelation_time", "final_cg_iterations",
    # bookkeeping
    "resumed_from", "sr_time_s", "iterations_per_s", "eval_time_s", "wall_time_s",
    # provenance
    "torch_version", "nqsgen_version", "host", "created",
)


def parse_args(argv=None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m nqsgen.vmc", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--cluster", required=True, help="cluster name (catalogue or --config)")
    a("--j2", required=True, type=float, help="J2/J1")
    a("--seed", required=True, type=int, help="run seed (initialisation, chains)")
    a("--out", required=True, help="run directory (replaced atomically)")
    a("--ground-state", help="ground-state directory (default results/ground_states/"
      "{cluster}/J2={j2})")
    a("--config", help="YAML config whose 'clusters:' mapping defines clusters")
    a("--sampler", default="metropolis", help="metropolis (default) | exact (full sum)")
    a("--iterations", type=int, default=1000, help="SR iterations (default 1000)")
    a("--samples", type=int, default=1024, help="Metropolis samples per iteration "
      "(rounded up to a multiple of --chains; default 1024)")
    a("--chains", type=int, default=128, help="Metropolis chains (default 128)")
    a("--sweep-size", type=int, default=0, help="proposals per sweep (default 0 = N)")
    a("--burn-in", type=int, default=2, help="sweeps discarded every iteration (default 2)")
    a("--initial-burn-in", type=int, default=100, help="sweeps discarded at the start "
      "(default 100)")
    a("--final-samples", type=int, default=16384, help="Metropolis samples of the final "
      "energy estimate (default 16384)")
    a("--width", type=int, default=64, help="hidden units of the amplitude network (default 64)")
    a("--phase-width", type=int, help="hidden units of the phase network (default --width)")
    a("--activation", default="tanh", help="relu | tanh | elu | gelu | softplus (default tanh)")
    a("--dtype", default="float64", help="float64 (default) | float32")
    a("--lr", type=float, default=0.05, help="learning rate η₀ (default 0.05)")
    a("--lr-decay", type=float, default=1.0, help="η(t) = max(lr_min, lr·lr_decay^t)")
    a("--lr-min", type=float, default=0.0)
    a("--shift", type=float, default=0.1, help="diagonal shift λ₀ (default 0.1)")
    a("--shift-decay", type=float, default=0.95, help="λ(t) = max(shift_min, "
      "shift·shift_decay^t) (default 0.95)")
    a("--shift-min", type=float, default=1e-3, help="(default 1e-3)")
    a("--sr-solver", default="cg", help="cg (default; S never formed) | dense")
    a("--cg-max-iterations", type=int, default=100)
    a("--cg-tol", type=float, default=1e-6, help="relative CG residual (default 1e-6)")
    a("--overlap-every", type=int, default=0, help="exact overlap every k iterations in the "
      "trajectory (default 0 = only at the end)")
    a("--checkpoint", help="checkpoint file (default: .seed={seed}.checkpoint.pt beside --out, "
      "deleted after success)")
    a("--checkpoint-every", type=int, default=50, help="iterations between checkpoints "
      "(default 50; 0 = only after the last)")
    a("--log-every", type=int, default=10, help="iterations between log lines (default 10)")
    a("--exact-max-states", type=float, default=DEFAULT_EXACT_MAX_STATES,
      help="largest K for the exact overlaps and energy (default 3e8)")
    a("--max-jacobian-mb", type=float, default=4096, help="refuse runs whose per-sample "
      "Jacobian (samples × parameters) exceeds this (default 4096 MB)")
    a("--device", default="auto", help="auto | cpu | cuda (auto: CUDA when available)")
    a("--threads", type=int, default=1, help="CPU threads (torch and numba; default 1)")
    args = p.parse_args(argv)
    args.phase_width = args.width if args.phase_width is None else args.phase_width
    return args


def run_dir(root, cluster: str, j2: float, seed: int) -> Path:
    """``root/{cluster}/J2={j2}/seed={seed}``."""
    return Path(root, cluster, j2_dirname(j2), f"seed={seed}")


def read_runs(root, kind: str = "metrics") -> pa.Table:
    """All ``metrics`` (or ``trajectory``) rows below ``root`` with the hive columns ``J2`` and
    ``seed`` (so no cluster may be called ``trajectory*``/``metrics*``)."""
    other = {"metrics": "trajectory", "trajectory": "metrics"}[kind]
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_", other])
    return dataset.to_table()


# ----------------------------------------------------------------------------- validation
def sr_config(args) -> SRConfig:
    return SRConfig(lr=args.lr, lr_decay=args.lr_decay, lr_min=args.lr_min, shift=args.shift,
                    shift_decay=args.shift_decay, shift_min=args.shift_min,
                    solver=args.sr_solver, cg_max_iterations=args.cg_max_iterations,
                    cg_tol=args.cg_tol)


def _validate(args) -> None:
    if not math.isfinite(args.j2):
        raise ConfigError(f"--j2 must be a finite number, got {args.j2}")
    if args.sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler {args.sampler!r} (known: {', '.join(SAMPLERS)})")
    if args.dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {args.dtype!r} (known: {', '.join(DTYPES)})")
    if args.sr_solver not in SOLVERS:
        raise ConfigError(f"unknown SR solver {args.sr_solver!r} (known: {', '.join(SOLVERS)})")
    positive = ("iterations", "samples", "chains", "final_samples", "threads", "log_every")
    for name in positive:
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be ≥ 1, got {getattr(args, name)}")
    for name in ("sweep_size", "burn_in", "initial_burn_in", "overlap_every",
                 "checkpoint_every"):
        if getattr(args, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be ≥ 0, got {getattr(args, name)}")
    if not 0 <= args.seed < 2**31:
        raise ConfigError(f"--seed must be in [0, 2^31), got {args.seed}")
    if not args.exact_max_states >= 0 or not args.max_jacobian_mb > 0:
        raise ConfigError("--exact-max-states must be ≥ 0 and --max-jacobian-mb > 0")
    sr_config(args).validate()
    WaveFunction(2, args.width, args.activation, args.phase_width)  # checks widths, activation


def _check_size(args, cluster, dimension: int) -> None:
    """Refuse a per-sample Jacobian larger than --max-jacobian-mb (before any work)."""
    n_params = sum(WaveFunction(cluster.n_sites, args.width, args.activation,
                                args.phase_width).n_parameters)
    rows = dimension if args.sampler == "exact" else _samples_per_chain(args) * args.chains
    megabytes = rows * n_params * torch.finfo(DTYPES[args.dtype]).bits / 8 / 2**20
    if megabytes > args.max_jacobian_mb:
        hint = "use --sampler metropolis" if args.sampler == "exact" else "use fewer --samples"
        raise ConfigError(f"the Jacobian of {rows} configurations × {n_params} parameters needs "
                          f"{megabytes:.0f} MB > --max-jacobian-mb {args.max_jacobian_mb:g} "
                          f"({hint})")


#: Bytes per basis state of the exact whole-basis observables: log ψ (complex128, 16) and its
#: real part, weights and look-up indices while the energy streams (16).
EXACT_BYTES_PER_STATE = 32


def _check_whole_basis(args, cluster, dimension: int, available: float) -> None:
    """Refuse (one line naming the cluster and the memory) when what needs the whole basis —
    the exact sampler, or the exact energy and overlaps up to --exact-max-states — does not fit
    in ``available`` bytes."""
    whole_basis = args.sampler == "exact" or dimension <= args.exact_max_states
    need = EXACT_BYTES_PER_STATE * dimension if whole_basis else 0
    if need > available:
        hint = ("use --sampler metropolis" if args.sampler == "exact" else
                "lower --exact-max-states below K to skip the exact observables")
        raise ConfigError(f"{cluster.name} J2={args.j2:g}: the whole basis (K = {dimension:,}) "
                          f"needs {need / 1e9:.1f} GB, only {available / 1e9:.1f} GB are "
                          f"available ({hint})")


def _samples_per_chain(args) -> int:
    return -(-args.samples // args.chains)


def prepare(args):
    """Validate everything cheap-to-check: (cluster, ground_state, device)."""
    _validate(args)
    specs = load_cluster_specs(args.config) if args.config else None
    cluster = get_cluster(args.cluster, specs)
    device = resolve_device(args.device)
    dimension = SzBasis(cluster.n_sites).dimension
    _check_size(args, cluster, dimension)
    _check_whole_basis(args, cluster, dimension, psutil.virtual_memory().available)
    if args.overlap_every and dimension > args.exact_max_states:
        raise ConfigError(f"--overlap-every needs the exact overlap, which is skipped above "
                          f"--exact-max-states ({args.exact_max_states:g} < K = {dimension:,})")
    state = open_ground_state(args, cluster)
    return cluster, state, device


# ----------------------------------------------------------------------------- the run
def seeds(seed: int) -> dict[str, int]:
    """Independent 62-bit seeds ``init``, ``chains``, ``final`` derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(SEED_STREAMS))
    return {name: int(np.random.default_rng(child).integers(2**62))
            for name, child in zip(SEED_STREAMS, children, strict=True)}


def settings(args, cluster, device) -> dict:
    """The checkpoint settings (:data:`RESUME_KEYS`, plus device type and cluster)."""
    out = {k: getattr(args, k) for k in RESUME_KEYS}
    out["sweep_size"] = args.sweep_size or cluster.n_sites
    out.update(device=device.type, cluster_fingerprint=cluster.fingerprint())
    return out


def make_sampler(args, hamiltonian, basis, device, seed: int, samples: int | None = None):
    dtype = DTYPES[args.dtype]
    if args.sampler == "exact":
        return ExactSampler(hamiltonian, basis, device, dtype)
    per_chain = -(-(samples or args.samples) // args.chains)
    return MetropolisSampler(hamiltonian, args.chains, per_chain,
                             sweep_size=args.sweep_size or basis.n_sites, burn_in=args.burn_in,
                             initial_burn_in=args.initial_burn_in, seed=seed, device=device,
                             dtype=dtype)


def checkpoint_path(args) -> Path:
    if args.checkpoint:
        return Path(args.checkpoint)
    out = Path(args.out)
    return out.with_name(f".{out.name}.checkpoint.pt")


def resume(args, path: Path, run_settings: dict, wf, sampler) -> list[dict]:
    """The trajectory so far (restoring ``wf`` and ``sampler``), or [] without a checkpoint.

    A default checkpoint (no ``--checkpoint``) written with other settings is discarded with a
    warning — it belongs to an earlier run of other settings; an explicit one is an error."""
    if not path.exists():
        return []
    try:
        state = ckpt.load(path, run_settings)
    except ConfigError as exc:
        if args.checkpoint:
            raise
        log.warning("discarding %s and starting afresh: %s", path, exc)
        path.unlink(missing_ok=True)
        return []
    if state["iteration"] > args.iterations:
        raise ConfigError(f"checkpoint {path} is at iteration {state['iteration']}, beyond "
                          f"--iterations {args.iterations}")
    wf.load_state_dict(state["wavefunction"])
    sampler.load_state_dict(state["sampler"])
    log.info("resuming from %s at iteration %d", path, state["iteration"])
    return state["trajectory"]


def final_estimate(args, wf, sampler, hamiltonian, basis, device, seed: int) -> dict:
    """Energy (± error), variance, acceptance, τ of the final parameters (module docstring)."""
    if args.sampler == "exact":
        final, method = sampler, "exact"
    else:
        final = make_sampler(args, hamiltonian, basis, device, seed, args.final_samples)
        final.chains = sampler.chains.clone()
        method = "monte_carlo"
    ensemble = final.sample(wf)
    stats = ensemble.energy_statistics(final.local_energies(wf, ensemble))
    return {**stats, "energy_method": method, "acceptance": ensemble.acceptance,
            "samples": len(ensemble)}


def evaluate(args, wf, sampler, hamiltonian, cluster, state, device, seed: int) -> dict:
    """Final energy and the exact full-basis observables."""
    t0 = time.perf_counter()
    out = final_estimate(args, wf, sampler, hamiltonian, state.basis, device, seed)
    nan = math.nan
    exact = state.dimension <= args.exact_max_states
    overlaps = exact_overlaps(wf, state) if exact else {
        "overlap": nan, "sign_overlap": nan, "amplitude_overlap": nan}
    out.update(overlaps, overlap_method="exact" if exact else "none")
    out["energy_exact_sum"] = (out["energy"] if args.sampler == "exact" else
                               exact_energy(wf, hamiltonian, state.basis) if exact else nan)
    out["eval_time_s"] = time.perf_counter() - t0
    log.info("final energy %.8f ± %.1e (σ units, %s, %d samples), exact E0 %.8f, relative "
             "error %.3e; overlap %.6f, sign overlap %.6f, amplitude overlap %.6f",
             out["energy"], out["energy_error"], out["energy_method"], out["samples"],
             state.energy, (out["energy"] - state.energy) / abs(state.energy), out["overlap"],
             out["sign_overlap"], out["amplitude_overlap"])
    return out


def optimise(args, cluster, state, device):
    """Build, resume and run the SR optimisation: (wf, sampler, trajectory, resumed_from,
    sr seconds)."""
    streams = seeds(args.seed)
    hamiltonian = Heisenberg.from_cluster(cluster, args.j2)
    wf = build_wavefunction(cluster.n_sites, args.width, args.activation, streams["init"],
                            device, DTYPES[args.dtype], args.phase_width)
    sampler = make_sampler(args, hamiltonian, state.basis, device, streams["chains"])
    run_settings = settings(args, cluster, device)
    path = checkpoint_path(args)
    trajectory = resume(args, path, run_settings, wf, sampler)
    resumed_from = len(trajectory)

    def save(done: int) -> None:
        ckpt.save(path, settings=run_settings, iteration=done, wavefunction=wf.state_dict(),
                  sampler=sampler.state_dict(), trajectory=trajectory)

    loop = LoopConfig(args.iterations, args.overlap_every, args.log_every, args.checkpoint_every)
    t0 = time.perf_counter()
    run_sr(wf, sampler, sr_config(args), loop, trajectory,
           overlap=lambda w: exact_overlaps(w, state)["overlap"], checkpoint=save)
    return wf, sampler, hamiltonian, trajectory, resumed_from, time.perf_counter() - t0


def run(args) -> dict:
    """The stage: optimise, evaluate, write; returns the metrics row."""
    t0 = time.perf_counter()
    cluster, state, device = prepare(args)
    set_threads(args.threads)
    n_amp, n_phase = WaveFunction(cluster.n_sites, args.width, args.activation,
                                  args.phase_width).n_parameters
    log.info("%s (N=%d, K=%d) J2=%g: SR with %s sampling, %d+%d parameters (%s), seed %d on "
             "%s, %d thread(s); exact E0 = %.8f (σ units)", cluster.name, cluster.n_sites,
             state.dimension, args.j2, args.sampler, n_amp, n_phase, args.dtype, args.seed,
             describe(device), args.threads, state.energy)
    wf, sampler, hamiltonian, trajectory, resumed_from, sr_time = optimise(args, cluster, state,
                                                                           device)
    final = evaluate(args, wf, sampler, hamiltonian, cluster, state, device,
                     seeds(args.seed)["final"])
    timing = {"resumed_from": resumed_from, "sr_time_s": sr_time,
              "iterations_per_s": (args.iterations - resumed_from) / sr_time if sr_time > 0
              else math.nan, "wall_time_s": time.perf_counter() - t0}
    metrics = metrics_row(args, cluster, state, device, sampler, trajectory, final, timing)
    write_outputs(Path(args.out), metrics, trajectory_table(args, trajectory))
    if not args.checkpoint:
        checkpoint_path(args).unlink(missing_ok=True)
    log.info("wrote %s in %.1f s", args.out, metrics["wall_time_s"])
    return metrics


# ----------------------------------------------------------------------------- outputs
def _version(name: str) -> str | None:
    try:
        return _pkg_metadata.version(name)
    except _pkg_metadata.PackageNotFoundError:
        return None


def metrics_row(args, cluster, state, device, sampler, trajectory, final, timing) -> dict:
    """The metrics.parquet row (:data:`METRIC_COLUMNS`)."""
    n_amp, n_phase = WaveFunction(cluster.n_sites, args.width, args.activation,
                                  args.phase_width).n_parameters
    parameters = {k: getattr(args, k) for k in (
        "j2", "seed", "sampler", "iterations", "chains", "burn_in", "initial_burn_in",
        "final_samples", "width", "phase_width", "activation", "dtype", "lr", "lr_decay",
        "lr_min", "shift", "shift_decay", "shift_min", "sr_solver", "cg_max_iterations",
        "cg_tol", "overlap_every", "checkpoint_every", "threads")}
    row = {
        **parameters, "cluster": cluster.name, "lattice": cluster.lattice.name,
        "n_sites": cluster.n_sites, "dimension": state.dimension,
        "samples": sampler.n_samples, "sweep_size": args.sweep_size or cluster.n_sites,
        "device": describe(device), "n_parameters": n_amp + n_phase,
        "n_amplitude_parameters": n_amp, "n_phase_parameters": n_phase,
        "ground_state": str(state.path), "ground_state_energy": state.energy,
        "cluster_fingerprint": state.metadata.get("cluster_fingerprint", ""),
        **{k: final[k] for k in ("energy", "energy_error", "energy_method", "energy_exact_sum",
                                 "overlap", "sign_overlap", "amplitude_overlap",
                                 "overlap_method", "acceptance", "autocorrelation_time",
                                 "eval_time_s")},
        "energy_per_site": final["energy"] / (4 * cluster.n_sites),
        "energy_variance": final["variance"],
        "rel_energy_error": (final["energy"] - state.energy) / abs(state.energy),
        "final_cg_iterations": trajectory[-1]["cg_iterations"] if trajectory else 0,
        **timing,
        "torch_version": torch.__version__, "nqsgen_version": _version("nqsgen") or "",
        "host": platform.node(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    return {k: row[k] for k in METRIC_COLUMNS}


def _table(columns: dict) -> pa.Table:
    """Arrow table; ``seed`` as int32 (pyarrow's inferred type for the hive key ``seed=``)."""
    return pa.table({k: pa.array(v, type=pa.int32() if k == "seed" else None)
                     for k, v in columns.items()})


def trajectory_table(args, trajectory: list[dict]) -> pa.Table:
    ident = {"cluster": args.cluster, "j2": args.j2, "seed": args.seed}
    columns = {k: [v] * len(trajectory) for k, v in ident.items()}
    columns.update({k: [row[k] for row in trajectory] for k in TRAJECTORY_COLUMNS})
    return _table(columns)


def write_outputs(out_dir: Path, metrics: dict, trajectory: pa.Table) -> None:
    """Publish ``metrics.parquet`` (one row) and ``trajectory.parquet`` atomically (one schema)."""
    write_run_tables(out_dir, {"metrics.parquet": _table({k: [v] for k, v in metrics.items()}),
                              "trajectory.parquet": trajectory})


def main(argv=None) -> int:
    setup_logging()
    try:
        run(parse_args(argv))
    except NqsgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
