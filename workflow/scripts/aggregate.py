"""Snakemake adapter of rules aggregate_j2_sweep and aggregate_eps_sweep: read the
experiment's runs, write its tables (nqsgen.aggregate).  Progress and errors go to the log."""

import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd

from nqsgen.aggregate import (
    critical_table,
    points_table,
    read_train_runs,
    read_vmc_runs,
    scaling_table,
    transitions_table,
    write_table,
)
from nqsgen.basis import SzBasis
from nqsgen.clusters import cluster_from_spec
from nqsgen.config import load_cluster_specs

smk = snakemake  # noqa: F821 - injected by Snakemake's script directive


def cluster_info(spec_files):
    info = {}
    for path in spec_files:
        for name, spec in load_cluster_specs(path).items():
            cluster = cluster_from_spec(name, spec)
            info[name] = {"lattice": cluster.lattice.name, "n_sites": cluster.n_sites,
                          "dimension": SzBasis(cluster.n_sites).dimension}
    return info


def main():
    name = smk.wildcards.experiment
    stats = smk.params.statistics
    boot = dict(n_boot=stats["bootstrap"], ci=stats["confidence"], seed=stats["seed"])
    runs = read_train_runs(smk.input.runs)
    print(f"{name}: {len(runs)} training runs", flush=True)
    if smk.input.vmc:
        vmc = read_vmc_runs(smk.input.vmc, cluster_info(smk.input.specs))
        print(f"{name}: {len(vmc)} VMC runs", flush=True)
        runs = pd.concat([runs, vmc], ignore_index=True)
    points = points_table(runs, name)
    write_table(points, smk.output.points)
    print(f"{name}: {len(points)} points -> {smk.output.points}", flush=True)
    if "transitions" in smk.output.keys():
        table = transitions_table(runs, name, smk.params.regions, **boot)
        write_table(table, smk.output.transitions)
        for row in table.itertuples():
            print(f"  transition {row.source} {row.cluster} {row.target} {row.arch}: "
                  f"J2c = {row.j2_c:g} [{row.j2_c_low:g}, {row.j2_c_high:g}] "
                  f"(grid {row.j2_left:g}-{row.j2_right:g}, drop {row.drop:.3f} "
                  f"± {row.drop_se:.3f}) {row.message}", flush=True)
    if "critical" in smk.output.keys():
        table = critical_table(runs, name, min_step=stats["min_step"], **boot)
        write_table(table, smk.output.critical)
        for row in table.itertuples():
            print(f"  critical {row.cluster} J2={row.j2:g} {row.target} {row.arch}: "
                  f"eps_c = {row.eps_c:.3g} [{row.eps_c_low:.3g}, {row.eps_c_high:.3g}], "
                  f"n_c = {row.n_c:.3g} draws, {row.n_c_unique:.3g} distinct; "
                  f"defined={row.defined} bracketed={row.bracketed} {row.message}", flush=True)
        if "scaling" in smk.output.keys():
            scaling = scaling_table(table, name, ci=stats["confidence"])
            write_table(scaling, smk.output.scaling)
            for row in scaling.itertuples():
                print(f"  scaling J2={row.j2:g} {row.target} {row.arch}: n_c ∝ K^"
                      f"{row.exponent:.3f} ± {row.exponent_se:.3f} (distinct states: "
                      f"{row.unique_exponent:.3f} ± {row.unique_exponent_se:.3f}), growth "
                      f"×{row.growth:.3g} over {row.n_defined} clusters {row.message}",
                      flush=True)


with open(smk.log[0], "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
    try:
        main()
        status = 0
    except Exception:
        traceback.print_exc()
        status = 1
sys.exit(status)
