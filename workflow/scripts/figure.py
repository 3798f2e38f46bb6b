"""Adapter of the figure_* rules to nqsgen.stages.plot (outside Snakemake it is that stage's
command line: python workflow/scripts/figure.py --help)."""

import logging
import sys

from nqsgen.stages import plot
from nqsgen.stages.base import run

if "snakemake" not in globals():
    sys.exit(plot.main())
smk = snakemake  # noqa: F821 - injected by Snakemake's script directive
logging.basicConfig(filename=smk.log[0], filemode="w", level=logging.INFO, force=True,
                    format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


def draw(_):
    from nqsgen.clusters import cluster_from_spec
    from nqsgen.config import load_cluster_specs

    kind, names = smk.params.kind, smk.params.settings["clusters"]
    clusters = None
    if kind == "clusters":
        specs = {}
        for path in smk.input.specs:
            specs.update(load_cluster_specs(path))
        clusters = [cluster_from_spec(name, specs[name]) for name in names]
    tables = {name: smk.input[name] for name in smk.input.keys() if name != "specs"}
    plot.plot(kind, smk.output.pdf, tables, clusters, smk.params.regions, names)


sys.exit(run(draw, []))
