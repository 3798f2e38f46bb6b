"""Snakemake adapter of the figure_* rules: draw one experiment's figure from its tables
(nqsgen.plotting.figures) and write it as a vector PDF.  Errors go to the log."""

import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd

from nqsgen.clusters import cluster_from_spec
from nqsgen.config import load_cluster_specs
from nqsgen.plotting import figures

smk = snakemake  # noqa: F821 - injected by Snakemake's script directive


def clusters():
    specs = {}
    for path in smk.input.specs:
        specs.update(load_cluster_specs(path))
    return [cluster_from_spec(name, specs[name]) for name in smk.params.settings["clusters"]]


def main():
    kind = smk.params.kind
    if kind == "clusters":
        fig = figures.clusters_figure(clusters())
    elif kind == "j2_sweep":
        fig = figures.j2_sweep_figure(pd.read_parquet(smk.input.points),
                                      pd.read_parquet(smk.input.transitions),
                                      smk.params.regions,
                                      clusters=smk.params.settings["clusters"])
    elif kind == "eps_sweep":
        fig = figures.eps_sweep_figure(pd.read_parquet(smk.input.points),
                                       pd.read_parquet(smk.input.critical),
                                       smk.params.regions)
    elif kind == "scaling":
        fig = figures.scaling_figure(pd.read_parquet(smk.input.critical),
                                     pd.read_parquet(smk.input.scaling))
    else:
        raise ValueError(f"unknown experiment kind {kind!r}")
    figures.save_pdf(fig, smk.output.pdf)
    print(f"{smk.wildcards.experiment}: wrote {smk.output.pdf}", flush=True)


with open(smk.log[0], "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
    try:
        main()
        status = 0
    except Exception:
        traceback.print_exc()
        status = 1
sys.exit(status)
