"""Stage ``vmc``: stochastic-reconfiguration optimisation of two 2-layer dense networks
(log-amplitude and phase) for one cluster and J2, and its overlap with the exact ground state
(the paper's Fig. 2 d–f); also ``python -m nqsgen.stages.vmc``.

    nqsgen-vmc --cluster square_16 --j2 0 --seed 0 --out DIR [--ground-state DIR]
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

import logging
import math
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds

from nqsgen import paths, provenance, publish, schemas
from nqsgen.basis import SzBasis
from nqsgen.config import VmcSettings
from nqsgen.config.cli import add_arguments, settings_from
from nqsgen.devices import describe, set_threads
from nqsgen.errors import ConfigError
from nqsgen.hamiltonian import Heisenberg
from nqsgen.stages.base import StageParser, check_threads, cluster_of, run, setup_logging
from nqsgen.storage import open_ground_state
from nqsgen.vmc import checkpoint as ckpt
from nqsgen.vmc import memory
from nqsgen.vmc.observables import exact_energy, exact_overlaps
from nqsgen.vmc.optimize import LoopConfig, run_sr
from nqsgen.vmc.sampler import ExactSampler, MetropolisSampler
from nqsgen.vmc.sr import SRConfig
from nqsgen.vmc.wavefunction import DTYPES, WaveFunction, build_wavefunction

log = logging.getLogger("nqsgen.vmc")

SEED_STREAMS = ("init", "chains", "final")
#: Settings a checkpoint must share with the run that resumes from it.
RESUME_KEYS = ("cluster", "j2", "seed", "sampler", "width", "phase_width", "activation",
               "dtype", "samples", "chains", "sweep_size", "burn_in", "initial_burn_in", "lr",
               "lr_decay", "lr_min", "shift", "shift_decay", "shift_min", "sr_solver",
               "cg_max_iterations", "cg_tol", "overlap_every")
#: Columns of metrics.parquet, in order.
METRIC_COLUMNS = tuple(schemas.VMC_METRICS.names)


def parse_args(argv=None):
    """Identity, resources and the validated :class:`VmcSettings` (also as attributes)."""
    p = StageParser("nqsgen-vmc", __doc__)
    p.add_cluster()
    a = p.add_argument
    a("--j2", required=True, type=float, help="J2/J1")
    a("--seed", required=True, type=int, help="run seed (initialisation, chains)")
    a("--out", required=True, help="run directory (replaced atomically)")
    a("--ground-state", help="ground-state directory (default results/ground_states/"
      "{cluster}/J2={j2})")
    a("--checkpoint", help="checkpoint file (default: .seed={seed}.checkpoint.pt beside --out, "
      "deleted after success)")
    a("--device", default="auto", help="auto | cpu | cuda (auto: CUDA when available)")
    a("--threads", type=int, default=1, help="CPU threads (torch and numba; default 1)")
    add_arguments(p, VmcSettings)
    args = p.parse_args(argv)
    if not math.isfinite(args.j2):
        raise ConfigError(f"--j2 must be a finite number, got {args.j2}")
    if not 0 <= args.seed < 2**31:
        raise ConfigError(f"--seed must be in [0, 2^31), got {args.seed}")
    check_threads(args.threads)
    settings = settings_from(args, VmcSettings)
    settings = settings.model_copy(update={"phase_width": settings.phase_width or
                                           settings.width})
    vars(args).update(settings.model_dump(), settings=settings)
    return args


def read_runs(root, kind: str = "metrics"):
    """All ``metrics`` (or ``trajectory``) rows below ``root`` with the hive columns ``J2`` and
    ``seed`` (so no cluster may be called ``trajectory*``/``metrics*``)."""
    other = {"metrics": "trajectory", "trajectory": "metrics"}[kind]
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_", other])
    return dataset.to_table()


def sr_config(args):
    return SRConfig(lr=args.lr, lr_decay=args.lr_decay, lr_min=args.lr_min, shift=args.shift,
                    shift_decay=args.shift_decay, shift_min=args.shift_min,
                    solver=args.sr_solver, cg_max_iterations=args.cg_max_iterations,
                    cg_tol=args.cg_tol)


def check_memory(args, cluster, dimension: int, available: float) -> None:
    """Refuse, before any work and in one line naming the cluster and the memory, a run whose
    per-sample Jacobian exceeds ``--max-jacobian-mb`` or whose whole-basis part (the exact
    sampler, or the exact energy and overlaps up to ``--exact-max-states``) does not fit in
    ``available`` bytes (:mod:`nqsgen.vmc.memory`)."""
    s = args.settings
    rows = memory.jacobian_rows(s, dimension)
    megabytes = memory.jacobian_bytes(s, cluster.n_sites, dimension) / 2**20
    if megabytes > s.max_jacobian_mb:
        hint = "use --sampler metropolis" if s.sampler == "exact" else "use fewer --samples"
        raise ConfigError(f"the Jacobian of {rows} configurations × "
                          f"{sum(memory.n_parameters(s, cluster.n_sites))} parameters needs "
                          f"{megabytes:.0f} MB > --max-jacobian-mb {s.max_jacobian_mb:g} "
                          f"({hint})")
    need = memory.whole_basis_bytes(s, dimension)
    if need > available:
        hint = ("use --sampler metropolis" if s.sampler == "exact" else
                "lower --exact-max-states below K to skip the exact observables")
        raise ConfigError(f"{cluster.name} J2={args.j2:g}: the whole basis (K = {dimension:,}) "
                          f"needs {need / 1e9:.1f} GB, only {available / 1e9:.1f} GB are "
                          f"available ({hint})")
    if s.overlap_every and dimension > s.exact_max_states:
        raise ConfigError(f"--overlap-every needs the exact overlap, which is skipped above "
                          f"--exact-max-states ({s.exact_max_states:g} < K = {dimension:,})")


def prepare(args):
    """Everything cheap to check, before any computation: (cluster, ground state, device)."""
    import psutil

    from nqsgen.devices import resolve_device

    sr_config(args).validate()
    cluster = cluster_of(args)
    gs_dir = Path(args.ground_state or paths.ground_state_dir(cluster.name, args.j2))
    publish.check_output_location(args.out, paths.MARKERS["vmc"], inputs=[gs_dir])
    dimension = SzBasis(cluster.n_sites).dimension
    check_memory(args, cluster, dimension, psutil.virtual_memory().available)
    device = resolve_device(args.device)
    return cluster, open_ground_state(gs_dir, cluster, args.j2), device


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


def vmc(args) -> dict:
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
    write_outputs(Path(args.out), metrics, trajectory_rows(args, trajectory))
    if not args.checkpoint:
        checkpoint_path(args).unlink(missing_ok=True)
    log.info("wrote %s in %.1f s", args.out, metrics["wall_time_s"])
    return metrics


# ----------------------------------------------------------------------------- outputs
def metrics_row(args, cluster, state, device, sampler, trajectory, final, timing) -> dict:
    """The metrics.parquet row (:data:`nqsgen.schemas.VMC_METRICS`)."""
    n_amp, n_phase = memory.n_parameters(args.settings, cluster.n_sites)
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
        **timing, **provenance.run_provenance(),
    }
    return {k: row[k] for k in METRIC_COLUMNS}


def trajectory_rows(args, trajectory: list[dict]) -> list[dict]:
    from nqsgen.vmc.optimize import TRAJECTORY_COLUMNS

    ident = {"cluster": args.cluster, "j2": args.j2, "seed": args.seed}
    return [{**ident, **{k: row[k] for k in TRAJECTORY_COLUMNS}} for row in trajectory]


def write_outputs(out_dir: Path, metrics: dict, trajectory: list[dict]) -> None:
    """Publish ``metrics.parquet`` (one row) and ``trajectory.parquet`` atomically, both with
    the run-directory schema :data:`nqsgen.schemas.VMC_RUN`."""
    schemas.publish_run(out_dir, schemas.VMC_RUN, {"metrics.parquet": [metrics],
                                                   "trajectory.parquet": trajectory})


def main(argv=None) -> int:
    setup_logging()
    return run(lambda a: vmc(parse_args(a)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
