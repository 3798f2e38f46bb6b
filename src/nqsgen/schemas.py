"""Declarative schemas of the pipeline's parquet outputs: every column's type, meaning and
unit, used by the writers (:func:`table` conforms rows to a schema), the readers (column
lists) and the documentation (``python -m nqsgen.schemas`` prints them as Markdown; the file
``docs/outputs.md`` is that output, checked by a test).

Energies are in σ units (H = Σ J σ_a·σ_b, Pauli matrices) unless a column says S·S units
(E / 4N).  Overlaps are dimensionless.  A run directory's files share one schema (the union of
their columns; the other file's columns are null), so ``pyarrow.dataset.dataset(root,
partitioning="hive")`` reads every file of every run in one call; the hive keys of the path
(``J2``, ``eps``, ``seed``) are not repeated with a conflicting type (``j2``/``eps_train`` are
float64, ``seed`` int32, the type pyarrow infers for ``seed=0``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

import pyarrow as pa

S, INT, F, B, I32 = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.int32()


def _f(name: str, kind: pa.DataType, description: str, unit: str = "") -> pa.Field:
    meta = {"description": description}
    if unit:
        meta["unit"] = unit
    return pa.field(name, kind, metadata=meta)


def _schema(*fields: pa.Field, title: str) -> pa.Schema:
    return pa.schema(list(fields), metadata={"title": title})


RUN_IDENTITY = (
    _f("cluster", S, "cluster name"),
    _f("lattice", S, "square, triangular or kagome"),
    _f("n_sites", INT, "number of spins N"),
    _f("dimension", INT, "Hilbert-space dimension K = C(N, N/2) of the Sz = 0 sector"),
    _f("j2", F, "J2/J1 (J1 = 1)"),
)
PROVENANCE = (
    _f("torch_version", S, "PyTorch version"),
    _f("nqsgen_version", S, "nqsgen version"),
    _f("host", S, "machine the run ran on"),
    _f("created", S, "UTC time the row was written (ISO 8601)"),
)

TRAIN_METRICS = _schema(
    *RUN_IDENTITY,
    _f("target", S, "sign (binary classifier) or amplitude (log|ψ|)"),
    _f("arch", S, "architecture name (nqsgen.architectures: dense1, dense2, cnn, gcnn, ...)"),
    _f("eps_train", F, "εtrain: training draws / K"),
    _f("eps_val", F, "εval: validation draws / K"),
    _f("seed", I32, "run seed (draws, initialisation, batches)"),
    _f("expressibility", B, "εtrain = 1: trained and tested on the whole basis"),
    _f("expressibility_mode", S, "sampled or weighted (expressibility runs; else empty)"),
    _f("width", INT, "hidden units of the dense layers"),
    _f("channels", INT, "channels of the CNN layers"),
    _f("kernel_radius", F, "CNN stencil radius", "|a1|"),
    _f("activation", S, "hidden-layer activation"),
    _f("dropout", F, "dropout probability"),
    _f("weight_decay", F, "Adam L2 weight decay"),
    _f("lr", F, "Adam learning rate"),
    _f("batch_size", INT, "examples per optimisation step"),
    _f("max_epochs", INT, "epoch limit"),
    _f("patience", INT, "early-stopping patience", "epochs"),
    _f("device", S, "device the run trained on"),
    _f("threads", INT, "CPU threads"),
    _f("n_parameters", INT, "network parameters"),
    _f("ground_state", S, "ground-state directory"),
    _f("ground_state_energy", F, "exact E0 of the ground state", "σ units"),
    _f("cluster_fingerprint", S, "fingerprint of the cluster's geometry"),
    _f("n_train", INT, "training draws (with replacement)"),
    _f("train_unique", INT, "distinct states among the training draws"),
    _f("train_mass", F, "Σ ψ² over the distinct training states"),
    _f("n_val", INT, "validation draws"),
    _f("val_unique", INT, "distinct validation states"),
    _f("val_mass", F, "Σ ψ² over the distinct validation states"),
    _f("test_states", INT, "states in the test set T (not in train ∪ val; all K if εtrain = 1)"),
    _f("test_mass", F, "Σ ψ² over T"),
    _f("overlap", F, "test overlap of the trained target (sign or amplitude overlap)"),
    _f("overlap_se", F, "standard error of overlap (0 when summed exactly)"),
    _f("overlap_method", S, "exact (streaming sum over T) or monte_carlo"),
    _f("overlap_samples", INT, "test states summed, or accepted Monte-Carlo draws"),
    _f("overlap_draws", INT, "Monte-Carlo draws made, rejected ones included (= overlap_samples "
                           "when exact)"),
    _f("sign_overlap", F, "Σ_T ψ² s ŝ / Σ_T ψ² (sign runs; else NaN)"),
    _f("amplitude_overlap", F, "Σ_T |ψ| a / sqrt(Σ_T ψ² Σ_T a²) (amplitude runs; else NaN)"),
    _f("sign_accuracy", F, "fraction of test states with the right sign"),
    _f("sign_accuracy_weighted", F, "ψ²-weighted fraction with the right sign"),
    _f("best_epoch", INT, "epoch whose parameters were restored"),
    _f("epochs", INT, "epochs run"),
    _f("stopped_early", B, "stopped by early stopping before max_epochs"),
    _f("train_loss", F, "mean batch loss of the best epoch"),
    _f("val_loss", F, "validation loss of the best epoch"),
    _f("val_overlap", F, "Monte-Carlo overlap estimate from the validation draws"),
    _f("train_time_s", F, "fit time, validation included (in an ensemble: until this run "
                          "stopped)", "s"),
    _f("train_samples_per_s", F, "this run's examples per second of optimisation steps (in an "
                                 "ensemble the steps train every member at once)", "1/s"),
    _f("eval_time_s", F, "test-set evaluation time (in an ensemble: the shared pass)", "s"),
    _f("inference_states_per_s", F, "states the network evaluated per second of evaluation",
       "1/s"),
    _f("wall_time_s", F, "the whole stage after imports (an ensemble's: shared by its runs)",
       "s"),
    _f("ensemble_size", INT, "runs trained together in this run's process (1: alone)"),
    _f("ensemble_id", S, "hash of the composition this run was trained in (cluster, target, "
                         "arch and every member's J2, εtrain, seed): numbers are reproducible "
                         "per composition"),
    *PROVENANCE,
    title="train metrics.parquet: one row per run",
)
TRAIN_CURVES = _schema(
    _f("cluster", S, "cluster name"), _f("j2", F, "J2/J1"),
    _f("target", S, "sign or amplitude"), _f("arch", S, "architecture"),
    _f("eps_train", F, "εtrain"), _f("seed", I32, "run seed"),
    _f("epoch", INT, "epoch (1-based)"),
    _f("train_loss", F, "mean batch loss of the epoch"),
    _f("val_loss", F, "validation loss after the epoch"),
    _f("val_overlap", F, "Monte-Carlo overlap estimate from the validation draws"),
    _f("time_s", F, "time since the fit started", "s"),
    title="train curves.parquet: one row per epoch",
)


def union(*schemas: pa.Schema, title: str) -> pa.Schema:
    """One schema with the fields of all (first occurrence wins)."""
    seen: dict[str, pa.Field] = {}
    for schema in schemas:
        for f in schema:
            seen.setdefault(f.name, f)
    return pa.schema(list(seen.values()), metadata={"title": title})


TRAIN_RUN = union(TRAIN_METRICS, TRAIN_CURVES,
                  title="a train run directory (metrics.parquet and curves.parquet)")

VMC_PARAMETERS = (
    _f("seed", I32, "run seed (initialisation, chains)"),
    _f("sampler", S, "metropolis or exact"),
    _f("iterations", INT, "SR iterations"),
    _f("samples", INT, "configurations per SR iteration (K for the exact sum)"),
    _f("chains", INT, "Metropolis chains"),
    _f("sweep_size", INT, "proposals per sweep as used (N for 0)"),
    _f("burn_in", INT, "sweeps discarded every iteration"),
    _f("initial_burn_in", INT, "sweeps discarded at the start"),
    _f("final_samples", INT, "samples of the final energy estimate"),
    _f("width", INT, "hidden units of the amplitude network"),
    _f("phase_width", INT, "hidden units of the phase network"),
    _f("activation", S, "hidden-layer activation"),
    _f("dtype", S, "float64 or float32"),
    _f("lr", F, "learning rate η0"), _f("lr_decay", F, "η decay per iteration"),
    _f("lr_min", F, "smallest η"), _f("shift", F, "diagonal shift λ0 of S"),
    _f("shift_decay", F, "λ decay per iteration"), _f("shift_min", F, "smallest λ"),
    _f("sr_solver", S, "cg or dense"),
    _f("cg_max_iterations", INT, "CG iterations per SR step at most"),
    _f("cg_tol", F, "relative CG residual"),
    _f("overlap_every", INT, "iterations between exact overlaps in the trajectory (0: none)"),
    _f("checkpoint_every", INT, "iterations between checkpoints"),
)
VMC_METRICS = _schema(
    *RUN_IDENTITY[:4], _f("j2", F, "J2/J1 (J1 = 1)"), *VMC_PARAMETERS,
    _f("device", S, "device"), _f("threads", INT, "CPU threads"),
    _f("n_parameters", INT, "parameters of both networks"),
    _f("n_amplitude_parameters", INT, "parameters of the amplitude network"),
    _f("n_phase_parameters", INT, "parameters of the phase network"),
    _f("ground_state", S, "ground-state directory"),
    _f("ground_state_energy", F, "exact E0", "σ units"),
    _f("cluster_fingerprint", S, "fingerprint of the cluster's geometry"),
    _f("energy", F, "final variational energy", "σ units"),
    _f("energy_error", F, "its statistical error (0 for the exact sum)", "σ units"),
    _f("energy_method", S, "monte_carlo or exact"),
    _f("energy_per_site", F, "energy / (4N)", "S·S units"),
    _f("energy_variance", F, "variance of the local energy", "σ units²"),
    _f("energy_exact_sum", F, "⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ over the whole basis (NaN above "
                              "exact_max_states)", "σ units"),
    _f("rel_energy_error", F, "(energy − E0)/|E0|"),
    _f("overlap", F, "|⟨ψ|ψ_GS⟩|/‖ψ‖ over the whole basis"),
    _f("sign_overlap", F, "overlap of exact amplitudes with the network's signs"),
    _f("amplitude_overlap", F, "overlap of exact signs with the network's amplitudes"),
    _f("overlap_method", S, "exact, or none above exact_max_states"),
    _f("acceptance", F, "Metropolis acceptance of the final estimate"),
    _f("autocorrelation_time", F, "integrated autocorrelation time τ of the final estimate",
       "sweeps"),
    _f("final_cg_iterations", INT, "CG iterations of the last SR step"),
    _f("resumed_from", INT, "iteration a checkpoint was resumed at (0: a fresh run)"),
    _f("sr_time_s", F, "SR iterations run by this process", "s"),
    _f("iterations_per_s", F, "SR iterations per second", "1/s"),
    _f("eval_time_s", F, "final evaluation", "s"),
    _f("wall_time_s", F, "the whole stage after imports", "s"),
    *PROVENANCE,
    title="vmc metrics.parquet: one row per run",
)
VMC_TRAJECTORY = _schema(
    _f("cluster", S, "cluster name"), _f("j2", F, "J2/J1"), _f("seed", I32, "run seed"),
    _f("iteration", INT, "SR iteration (0-based)"),
    _f("energy", F, "energy estimate of the iteration's samples", "σ units"),
    _f("energy_imag", F, "imaginary part of the estimate (0 up to noise)", "σ units"),
    _f("energy_error", F, "its statistical error", "σ units"),
    _f("variance", F, "variance of the local energy", "σ units²"),
    _f("acceptance", F, "Metropolis acceptance"),
    _f("autocorrelation_time", F, "integrated autocorrelation time", "sweeps"),
    _f("lr", F, "learning rate of the step"), _f("shift", F, "diagonal shift of the step"),
    _f("cg_iterations", INT, "CG iterations"), _f("cg_residual", F, "final relative residual"),
    _f("force_norm", F, "norm of the energy gradient"),
    _f("update_norm", F, "norm of the parameter update"),
    _f("overlap", F, "exact overlap of the parameters the step started from (NaN if not "
                     "computed)"),
    _f("time_s", F, "time since the optimisation started", "s"),
    title="vmc trajectory.parquet: one row per SR iteration",
)
VMC_RUN = union(VMC_METRICS, VMC_TRAJECTORY,
                title="a vmc run directory (metrics.parquet and trajectory.parquet)")

POINT_KEYS = (
    _f("experiment", S, "experiment (figure) name"),
    _f("source", S, "train (supervised) or vmc (SR)"),
    *RUN_IDENTITY,
    _f("target", S, "sign or amplitude (state for VMC)"),
    _f("arch", S, "architecture (sr for VMC)"),
    _f("eps_train", F, "εtrain (NaN for VMC)"),
    _f("expressibility", B, "εtrain = 1 points"),
)
POINTS = _schema(
    *POINT_KEYS,
    _f("n", INT, "runs (seeds) of the point"),
    _f("mean", F, "mean test overlap"),
    _f("se", F, "standard error std/√n (ddof 1; NaN for one run)"),
    _f("std", F, "standard deviation (ddof 1)"),
    _f("min", F, "smallest overlap"), _f("max", F, "largest overlap"),
    _f("overlap_method", S, "exact, monte_carlo or mixed"),
    _f("mc_se_mean", F, "mean Monte-Carlo SE of the runs' own estimates (0 when exact)"),
    _f("train_unique_mean", F, "mean distinct training states"),
    _f("epochs_mean", F, "mean epochs"),
    _f("wall_time_s_mean", F, "mean wall time of a run", "s"),
    _f("ground_state_degenerate", B, "the point's ground state is flagged degenerate (its "
                                     "sign structure is not unique) or is not the ground "
                                     "state: metadata.json `degenerate` (null: no metadata)"),
    _f("ground_state_degeneracy", F, "proven multiplicity of its ground level (metadata.json "
                                     "`degeneracy`; NaN: not checked)"),
    _f("ground_state_sector_complete", B, "metadata.json `ground_state_sector_complete`: false "
                                          "= the stored state is an excited state (null: not "
                                          "checked)"),
    _f("width", INT, "hidden width of the point's networks: `width` (dense) or `channels` "
                     "(cnn, gcnn), what a capacity experiment sweeps (null for VMC and "
                     "baselines)"),
    title="results/tables/{experiment}.parquet: one row per point",
)
SERIES_KEYS = (_f("experiment", S, "experiment name"), *RUN_IDENTITY[:4],
               _f("j2", F, "J2/J1"), _f("target", S, "sign or amplitude"),
               _f("arch", S, "architecture"))
CRITICAL = _schema(
    *SERIES_KEYS,
    _f("eps_c", F, "critical εtrain: midpoint of the logistic fit in log10 εtrain"),
    _f("eps_c_low", F, "lower end of its bootstrap interval"),
    _f("eps_c_high", F, "upper end of its bootstrap interval"),
    _f("log10_eps_c", F, "log10 εc"), _f("log10_eps_c_se", F, "bootstrap SE of log10 εc"),
    _f("width", F, "logistic width", "decades of εtrain"),
    _f("lower", F, "fitted lower plateau"), _f("upper", F, "fitted upper plateau"),
    _f("step", F, "upper − lower"),
    _f("bracket_low", F, "grid εtrain just below the switch (NaN: none)"),
    _f("bracket_high", F, "grid εtrain just above the switch (NaN: none)"),
    _f("in_range", B, "εc inside the swept grid"),
    _f("defined", B, "fit converged, step ≥ min_step and εc inside the grid"),
    _f("bracketed", B, "grid points on both sides of the switch"),
    _f("n_c", F, "critical training-set size εc·K", "draws"),
    _f("n_c_low", F, "lower end of its interval", "draws"),
    _f("n_c_high", F, "upper end of its interval", "draws"),
    _f("n_c_unique", F, "distinct states in n_c draws (mean train_unique interpolated "
                        "log-log at εc)", "states"),
    _f("n_c_unique_low", F, "the same at eps_c_low", "states"),
    _f("n_c_unique_high", F, "the same at eps_c_high", "states"),
    _f("n_points", INT, "εtrain values"), _f("n_runs", INT, "runs fitted"),
    _f("n_boot", INT, "bootstrap replicas requested"),
    _f("boot_success", F, "fraction of replicas whose fit converged"),
    _f("message", S, "why a fit is not defined (else empty)"),
    title="results/tables/{experiment}.critical.parquet: one row per (cluster, J2, target, "
          "arch)",
)
SCALING = _schema(
    _f("experiment", S, "experiment name"), _f("j2", F, "J2/J1"),
    _f("target", S, "sign or amplitude"), _f("arch", S, "architecture"),
    _f("exponent", F, "b of n_c ∝ K^b (weighted least squares over the defined clusters)"),
    _f("exponent_se", F, "its standard error"),
    _f("exponent_low", F, "b − z·se"), _f("exponent_high", F, "b + z·se"),
    _f("intercept", F, "log10 n_c at K = 1 of the fitted line"),
    _f("chi2", F, "Σ (residual/σ)² of the fit"),
    _f("unique_exponent", F, "the same exponent for n_c_unique"),
    _f("unique_exponent_se", F, "its standard error"),
    _f("unique_exponent_low", F, "lower end"), _f("unique_exponent_high", F, "upper end"),
    _f("unique_intercept", F, "log10 n_c_unique at K = 1"),
    _f("dimension_min", F, "smallest K of the fit"), _f("dimension_max", F, "largest K"),
    _f("n_c_min", F, "n_c at the smallest K", "draws"),
    _f("n_c_max", F, "n_c at the largest K", "draws"),
    _f("growth", F, "n_c(K_max) / n_c(K_min)"),
    _f("growth_low", F, "from the intervals' ends"), _f("growth_high", F, "from the "
                                                                          "intervals' ends"),
    _f("unique_growth", F, "n_c_unique(K_max) / n_c_unique(K_min)"),
    _f("n_clusters", INT, "clusters in the series"),
    _f("n_defined", INT, "clusters with a defined εc"),
    _f("all_bracketed", B, "every εc of the series bracketed by its grid"),
    _f("message", S, "why no exponent (else empty)"),
    title="results/tables/{experiment}.scaling.parquet: one row per (J2, target, arch)",
)
TRANSITIONS = _schema(
    _f("experiment", S, "experiment name"), _f("source", S, "train or vmc"),
    _f("cluster", S, "cluster"), _f("lattice", S, "lattice"),
    _f("target", S, "target"), _f("arch", S, "architecture"),
    _f("eps_train", F, "εtrain of the curve (NaN for VMC)"),
    _f("j2_c", F, "J2 of the steepest loss of generalisation (interval midpoint)"),
    _f("j2_c_low", F, "bootstrap interval, lower end"),
    _f("j2_c_high", F, "bootstrap interval, upper end"),
    _f("j2_left", F, "grid J2 left of the steepest drop"),
    _f("j2_right", F, "grid J2 right of the steepest drop"),
    _f("drop", F, "mean overlap lost across the interval"), _f("drop_se", F, "its SE"),
    _f("slope", F, "drop per unit J2"),
    _f("agreement", F, "fraction of bootstrap replicas choosing the same interval"),
    _f("n_points", INT, "J2 values"), _f("n_runs", INT, "runs"),
    _f("defined", B, "a drop was found"), _f("significant", B, "drop > 2 drop_se"),
    _f("message", S, "why not defined (else empty)"),
    _f("region_low", F, "literature frustrated region of the lattice, lower end"),
    _f("region_high", F, "upper end"),
    _f("inside_region", B, "j2_c inside the region"),
    title="results/tables/{experiment}.transitions.parquet: one row per curve",
)


def table(rows: Iterable[Mapping] | Mapping[str, list], schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from rows (dicts) or columns; absent columns are null, and a
    column the schema does not know is an error (a typo in a writer must not pass)."""
    if isinstance(rows, Mapping):
        columns = dict(rows)
        n = len(next(iter(columns.values()))) if columns else 0
    else:
        rows = list(rows)
        n = len(rows)
        columns = {k: [row.get(k) for row in rows] for row in rows[:1] for k in row}
        for row in rows:
            if set(row) != set(columns):
                raise ValueError(f"rows have different keys: {sorted(set(row) ^ set(columns))}")
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"columns not in the schema '{schema.metadata[b'title'].decode()}': "
                         f"{sorted(unknown)}")
    arrays = [pa.array(columns[f.name], type=f.type) if f.name in columns
              else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def publish_run(out_dir, schema: pa.Schema, tables: Mapping[str, list[dict]]) -> None:
    """Publish one run directory atomically (:func:`nqsgen.publish.atomic_directory`): each
    ``{file name: rows}`` of ``tables`` as a parquet file of ``schema`` (no rows: an empty
    table with the schema), e.g. ``metrics.parquet`` (one row) and ``curves.parquet``."""
    import pyarrow.parquet as pq

    from nqsgen import publish

    with publish.atomic_directory(out_dir) as tmp:
        for name, rows in tables.items():
            pq.write_table(table(rows, schema) if rows else schema.empty_table(), tmp / name)


def markdown(schema: pa.Schema) -> str:
    """The schema as a Markdown table (column, type, unit, meaning)."""
    lines = [f"### {schema.metadata[b'title'].decode()}", "",
             "| column | type | unit | meaning |", "|---|---|---|---|"]
    for f in schema:
        meta = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
        lines.append(f"| `{f.name}` | {f.type} | {meta.get('unit', '')} | "
                     f"{meta.get('description', '')} |")
    return "\n".join(lines) + "\n"


CORRELATION = _schema(
    _f("experiment", S, "experiment name"),
    _f("cluster", S, "cluster, or pooled (all clusters of the experiment together)"),
    _f("lattice", S, "lattice (comma-separated when pooled)"),
    _f("target", S, "supervised target"), _f("arch", S, "supervised architecture"),
    _f("eps_train", F, "εtrain of the supervised runs"),
    _f("rho", F, "Spearman's ρ between the supervised test overlap and the SR overlap over "
                 "the J2 points (means over seeds)"),
    _f("rho_low", F, "bootstrap interval (J2 points resampled), lower end"),
    _f("rho_high", F, "upper end"),
    _f("pearson", F, "Pearson's r of the same pairs"),
    _f("n_points", INT, "J2 points with both overlaps"),
    _f("boot_success", F, "fraction of bootstrap replicas with a defined ρ"),
    title="results/tables/{experiment}.correlation.parquet: one row per (cluster or pooled, "
          "target, arch, εtrain)",
)
BASELINE = _schema(
    *RUN_IDENTITY,
    _f("baseline", S, "marshall: the Marshall sign rule (−1)^(up spins on sublattice B)"),
    _f("overlap", F, "|Σ ψ² s s_M| / Σ ψ² over the whole basis (NaN without a bipartite J1 "
                     "graph)"),
    _f("overlap_se", F, "its standard error (0 when summed exactly)"),
    _f("overlap_method", S, "exact, monte_carlo, or none"),
    _f("overlap_samples", INT, "states summed, or Monte-Carlo draws"),
    _f("ground_state", S, "ground-state directory"),
    _f("nqsgen_version", S, "nqsgen version"), _f("host", S, "machine"),
    _f("created", S, "UTC time the row was written (ISO 8601)"),
    title="results/baselines/{cluster}/J2={j2}/marshall.parquet: one row",
)
_LEVEL = pa.struct([("label", S), ("momentum", pa.list_(S)), ("irrep_dimension", INT),
                    ("c2_parity", INT), ("spin_inversion", INT), ("dimension", INT),
                    ("status", S), ("energy", F), ("residual", F), ("lower_estimate", F),
                    ("matvecs", INT), ("seconds", F)])
GROUND_STATE_CHECKS = _schema(
    _f("ground_state_sector_complete", B, "true: no sector of any momentum lies lower than the "
                                          "stored state by more than 1e-8·abs(E0) (always true "
                                          "for full-sector solves); false: the stored state is "
                                          "an excited state; null: not checked"),
    _f("lowest_energy_all_sectors", F, "lowest level over every sector (null: not checked)",
       "σ units"),
    _f("lowest_sector_all_sectors", S, "its sector: label of T ⋊ {E, C2} × Z2, e.g. "
                                       "k=+-(1/3,1/2) Z+ (symmetric solves)"),
    _f("lowest_sector_momentum", pa.list_(S), "its momentum (k·a1/2π, k·a2/2π) as fractions"),
    _f("lowest_sector_irrep_dimension", INT, "1, or 2 for a complex pair (k, −k)"),
    _f("degenerate", B, "(E1 − E0)/abs(E0) < 1e-8 in the scanned sectors, a proven degeneracy, or "
                        "a lower sector elsewhere: the sign structure is not unique"),
    _f("degeneracy", INT, "proven lower bound on the ground-level multiplicity (null: not "
                          "checked)"),
    _f("degeneracy_proof", pa.list_(S), "the symmetries or sectors that prove it"),
    _f("symmetry_overlaps", pa.map_(S, F), "full-sector solves: ⟨ψ0, g·ψ0⟩ per generator g "
                                           "(translations, point group, Z)"),
    _f("symmetry_gram_rank", INT, "full-sector solves: rank of ⟨g·ψ0, h·ψ0⟩ over the group"),
    _f("symmetry_sector_from_overlaps", S, "full-sector solves: ψ0's one-dimensional sector "
                                           "label (null when degenerate)"),
    _f("symmetry_check_s", F, "full-sector solves: time of the symmetry-image check", "s"),
    _f("sector_completeness", pa.struct([("status", S), ("scope", S), ("lowest_sector", S),
                                         ("lowest_energy", F), ("lowest_1d_energy", F),
                                         ("unresolved", pa.list_(S)),
                                         ("sectors", pa.list_(_LEVEL))]),
       "the completeness scan: status (done / skipped: why), scope, tolerances (tol, "
       "screen_tol, degeneracy_tol), rigour, and per sector its lowest level and status "
       "(converged / dense / main scan / ruled out / not converged / empty)"),
    title="results/ground_states/{cluster}/J2={j2}/metadata.json: keys of the completeness "
          "and degeneracy checks (other keys: README, Ground states)",
)
PUBLISHED = (TRAIN_METRICS, TRAIN_CURVES, VMC_METRICS, VMC_TRAJECTORY, POINTS, CRITICAL,
             SCALING, TRANSITIONS, CORRELATION, BASELINE, GROUND_STATE_CHECKS)


def frame_table(frame, schema: pa.Schema) -> pa.Table:
    """A pandas DataFrame as a table of ``schema`` (columns in schema order)."""
    if frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[list(schema.names)], schema=schema,
                                preserve_index=False)


def document() -> str:
    """Every published schema as Markdown (``docs/outputs.md``)."""
    return ("# Output columns\n\nGenerated by `python -m nqsgen.schemas > docs/outputs.md` "
            "from the schemas the writers use (`nqsgen.schemas`).  Energies in σ units "
            "(H = Σ J σ·σ) unless marked S·S.\n\n" + "\n".join(markdown(s) for s in PUBLISHED))


if __name__ == "__main__":
    sys.stdout.write(document())
