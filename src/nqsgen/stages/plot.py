"""Stage ``plot``: an experiment's figure as a vector PDF (:mod:`nqsgen.plotting.figures`).

    nqsgen-plot --kind scaling --tables results/tables/fig5 --out results/figures/fig5.pdf
    nqsgen-plot --kind clusters --clusters square_24 kagome_24 --out fig1.pdf [--config C]

``--tables`` is the experiment's table prefix (its ``.parquet``, ``.transitions.parquet``,
``.critical.parquet``, ``.scaling.parquet`` as the kind needs); ``--config`` supplies user
clusters and the frustrated regions.  The PDF is written atomically and reproducibly (no
creation date).  The workflow's rules ``figure_*`` call :func:`plot` through
``workflow/scripts/figure.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from nqsgen.config.workflow import FrustratedRegions
from nqsgen.errors import ConfigError
from nqsgen.stages.base import StageParser, run, setup_logging

log = logging.getLogger("nqsgen.plot")

KINDS = ("clusters", "j2_sweep", "eps_sweep", "scaling", "capacity")


def plot(kind: str, out, tables: dict | None = None, clusters: list | None = None,
         regions: dict | None = None, panel_clusters: list[str] | None = None) -> None:
    """Draw the figure of ``kind`` from ``tables`` ({table: path}) or ``clusters`` (Cluster
    objects) and write it to ``out``."""
    from nqsgen.plotting import figures

    def read(name):
        if not Path(tables[name]).is_file():
            raise ConfigError(f"table {tables[name]} does not exist (run the experiment's "
                              "aggregation first)")
        return pd.read_parquet(tables[name])

    if kind == "clusters":
        fig = figures.clusters_figure(clusters)
    elif kind == "j2_sweep":
        fig = figures.j2_sweep_figure(read("points"), read("transitions"), regions,
                                      clusters=panel_clusters,
                                      correlation=read("correlation"))
    elif kind == "eps_sweep":
        fig = figures.eps_sweep_figure(read("points"), read("critical"), regions)
    elif kind == "scaling":
        fig = figures.scaling_figure(read("critical"), read("scaling"))
    elif kind == "capacity":
        fig = figures.capacity_figure(read("points"), regions)
    else:
        raise ConfigError(f"unknown experiment kind {kind!r} (known: {', '.join(KINDS)})")
    figures.save_pdf(fig, out)
    log.info("wrote %s", out)


def parse_args(argv=None):
    p = StageParser("nqsgen-plot", __doc__)
    a = p.add_argument
    a("--kind", required=True, choices=KINDS, help="experiment kind")
    a("--out", required=True, help="the PDF")
    a("--tables", help="table prefix, e.g. results/tables/fig3 (all kinds but clusters)")
    a("--clusters", nargs="*", default=[], help="clusters (kind clusters; panel order)")
    a("--config", help="workflow config: user clusters and frustrated_regions")
    args = p.parse_args(argv)
    if args.kind != "clusters" and not args.tables:
        raise ConfigError(f"--tables is needed for kind {args.kind}")
    if args.kind == "clusters" and not args.clusters:
        raise ConfigError("--clusters is needed for kind clusters")
    return args


def main(argv=None) -> int:
    setup_logging()

    def stage(argv):
        from nqsgen.clusters import get_cluster
        from nqsgen.config import load_cluster_specs, load_yaml
        from nqsgen.stages.aggregate import TABLES, table_paths

        args = parse_args(argv)
        regions = FrustratedRegions().model_dump()
        specs = None
        if args.config:
            regions.update(load_yaml(args.config).get("frustrated_regions") or {})
            specs = load_cluster_specs(args.config)
        tables = table_paths(args.tables, args.kind) if args.kind in TABLES else None
        clusters = [get_cluster(c, specs) for c in args.clusters]
        plot(args.kind, args.out, tables, clusters, regions, args.clusters or None)

    return run(stage, argv)


if __name__ == "__main__":
    raise SystemExit(main())
