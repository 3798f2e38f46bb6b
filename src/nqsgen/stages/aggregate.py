"""Stage ``aggregate``: one experiment's runs → its tables (:mod:`nqsgen.tables`).

    nqsgen-aggregate --experiment fig5 --kind scaling --runs results/train/square_24 ...
        [--vmc results/vmc/...] [--tables results/tables] [--bootstrap 1000]
        [--confidence 0.95] [--min-step 0.25] [--seed 0] [--config config/config.yaml]

``--runs``/``--vmc`` take metrics.parquet files or directories (every metrics.parquet below
them).  Writes ``{tables}/{experiment}.parquet`` and, by kind, ``.transitions.parquet`` and
``.correlation.parquet`` (j2_sweep), ``.critical.parquet`` (eps_sweep, scaling) and
``.scaling.parquet`` (scaling), each atomically (capacity: the points only, one per width).
``--config`` supplies the frustrated regions (``frustrated_regions``); the workflow passes
everything itself (rules ``aggregate_*``, ``workflow/scripts/aggregate.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from nqsgen import schemas
from nqsgen.config.workflow import AggregateSettings, FrustratedRegions
from nqsgen.errors import ConfigError
from nqsgen.stages.base import StageParser, run, setup_logging
from nqsgen.tables import (
    correlation_table,
    critical_table,
    points_table,
    read_baselines,
    read_train_runs,
    read_vmc_runs,
    scaling_table,
    transitions_table,
    write_table,
)

log = logging.getLogger("nqsgen.aggregate")

#: Tables of each experiment kind (besides the points), with their schemas.
TABLES = {"j2_sweep": ("transitions", "correlation"), "eps_sweep": ("critical",),
          "scaling": ("critical", "scaling"), "capacity": ()}
SCHEMAS = {"points": schemas.POINTS, "transitions": schemas.TRANSITIONS,
           "correlation": schemas.CORRELATION,
           "critical": schemas.CRITICAL, "scaling": schemas.SCALING}


def table_paths(prefix: str | Path, kind: str) -> dict[str, Path]:
    """``{table: path}`` of an experiment's tables (``prefix`` = results/tables/{name})."""
    prefix = str(prefix)
    return {"points": Path(f"{prefix}.parquet"),
            **{t: Path(f"{prefix}.{t}.parquet") for t in TABLES[kind]}}


def aggregate(name: str, kind: str, runs: list, vmc: list, outputs: dict, statistics: dict,
              regions: dict, baselines: list = ()) -> dict[str, pd.DataFrame]:
    """Read the runs (and sign baselines), write the tables of ``kind`` to ``outputs``
    ({table: path})."""
    if kind not in TABLES:
        raise ConfigError(f"unknown experiment kind {kind!r} (known: {', '.join(TABLES)})")
    boot = dict(n_boot=statistics["bootstrap"], ci=statistics["confidence"],
                seed=statistics["seed"])
    frame = read_train_runs(runs)
    log.info("%s: %d training runs", name, len(frame))
    if vmc:
        vmc_runs = read_vmc_runs(vmc)
        log.info("%s: %d VMC runs", name, len(vmc_runs))
        frame = pd.concat([frame, vmc_runs], ignore_index=True)
    if baselines:
        frame = pd.concat([frame, read_baselines(baselines)], ignore_index=True)
        log.info("%s: %d sign baselines", name, len(baselines))
    tables = {"points": points_table(frame, name)}
    if "transitions" in TABLES[kind]:
        tables["transitions"] = transitions_table(frame, name, regions, **boot)
    if "correlation" in TABLES[kind]:
        tables["correlation"] = correlation_table(tables["points"], name, **boot)
    if "critical" in TABLES[kind]:
        tables["critical"] = critical_table(frame, name, min_step=statistics["min_step"],
                                            **boot)
    if "scaling" in TABLES[kind]:
        tables["scaling"] = scaling_table(tables["critical"], name, ci=statistics["confidence"])
    for table, data in tables.items():
        write_table(data, outputs[table], SCHEMAS[table])
        log.info("%s: %d rows -> %s", table, len(data), outputs[table])
    _log_results(tables)
    return tables


def _log_results(tables: dict) -> None:
    for row in tables.get("transitions", pd.DataFrame()).itertuples():
        log.info("transition %s %s %s %s: J2c = %g [%g, %g] (grid %g-%g, drop %.3f ± %.3f) %s",
                 row.source, row.cluster, row.target, row.arch, row.j2_c, row.j2_c_low,
                 row.j2_c_high, row.j2_left, row.j2_right, row.drop, row.drop_se, row.message)
    for row in tables.get("critical", pd.DataFrame()).itertuples():
        log.info("critical %s J2=%g %s %s: eps_c = %.3g [%.3g, %.3g], n_c = %.3g draws, %.3g "
                 "distinct; defined=%s bracketed=%s %s", row.cluster, row.j2, row.target,
                 row.arch, row.eps_c, row.eps_c_low, row.eps_c_high, row.n_c, row.n_c_unique,
                 row.defined, row.bracketed, row.message)
    for row in tables.get("correlation", pd.DataFrame()).itertuples():
        log.info("correlation %s %s %s: Spearman rho = %.3f [%.3f, %.3f] over %d J2 points",
                 row.cluster, row.target, row.arch, row.rho, row.rho_low, row.rho_high,
                 row.n_points)
    for row in tables.get("scaling", pd.DataFrame()).itertuples():
        log.info("scaling J2=%g %s %s: n_c ∝ K^%.3f ± %.3f (distinct states %.3f ± %.3f), "
                 "growth ×%.3g over %d clusters %s", row.j2, row.target, row.arch,
                 row.exponent, row.exponent_se, row.unique_exponent, row.unique_exponent_se,
                 row.growth, row.n_defined, row.message)


def metrics_files(items: list[str]) -> list[str]:
    """The metrics.parquet files named by ``items`` (files, or directories searched)."""
    files = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(str(p) for p in path.rglob("metrics.parquet")
                            if not any(part.startswith(".") for part in p.parts))
        else:
            files.append(str(path))
    return files


def parse_args(argv=None):
    p = StageParser("nqsgen-aggregate", __doc__)
    a = p.add_argument
    a("--experiment", required=True, help="experiment name (the tables' prefix)")
    a("--kind", required=True, choices=list(TABLES), help="experiment kind")
    a("--runs", nargs="+", default=[], help="training metrics files or directories")
    a("--vmc", nargs="*", default=[], help="VMC metrics files or directories")
    a("--baselines", nargs="*", default=[], help="sign-baseline files (marshall.parquet)")
    a("--tables", default="results/tables", help="output directory (default results/tables)")
    a("--config", help="workflow config to take frustrated_regions from")
    defaults = AggregateSettings()
    for name in AggregateSettings.model_fields:
        a(f"--{name.replace('_', '-')}", type=type(getattr(defaults, name)),
          default=getattr(defaults, name))
    return p.parse_args(argv)


def main(argv=None) -> int:
    setup_logging()

    def stage(argv):
        args = parse_args(argv)
        regions = FrustratedRegions().model_dump()
        if args.config:
            from nqsgen.config import load_yaml

            regions.update(load_yaml(args.config).get("frustrated_regions") or {})
        statistics = AggregateSettings(**{k: getattr(args, k) for k in
                                          AggregateSettings.model_fields}).model_dump()
        outputs = table_paths(Path(args.tables) / args.experiment, args.kind)
        aggregate(args.experiment, args.kind, metrics_files(args.runs),
                  metrics_files(args.vmc), outputs, statistics, regions, args.baselines)

    return run(stage, argv)


if __name__ == "__main__":
    raise SystemExit(main())
