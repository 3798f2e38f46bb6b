"""Stage ``baseline``: the Marshall-sign overlap of one stored ground state
(:mod:`nqsgen.baselines`), the physical baseline drawn beside every learned sign.

    nqsgen-baseline --cluster kagome_24 --j2 0.5 --out results/baselines/kagome_24/J2=0.5/
        marshall.parquet [--ground-state DIR] [--config SPEC]

Writes one row (:data:`nqsgen.schemas.BASELINE`) atomically.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pyarrow.parquet as pq

from nqsgen import paths, provenance, publish, schemas
from nqsgen.baselines import marshall_overlap
from nqsgen.errors import ConfigError
from nqsgen.stages.base import StageParser, cluster_of, run, setup_logging
from nqsgen.storage import open_ground_state

log = logging.getLogger("nqsgen.baseline")


def baseline(args) -> dict:
    cluster = cluster_of(args)
    gs_dir = Path(args.ground_state or paths.ground_state_dir(cluster.name, args.j2))
    publish.check_output_location(args.out, None, inputs=[gs_dir], directory=False)
    state = open_ground_state(gs_dir, cluster, args.j2)
    result = marshall_overlap(state, cluster)
    log.info("%s J2=%g: Marshall sign overlap %.6f ± %.1e (%s, %d states)", cluster.name,
             args.j2, result["overlap"], result["overlap_se"], result["overlap_method"],
             result["overlap_samples"])
    row = {"cluster": cluster.name, "lattice": cluster.lattice.name,
           "n_sites": cluster.n_sites, "dimension": state.dimension, "j2": args.j2,
           "baseline": "marshall", **result, "ground_state": str(state.path),
           "nqsgen_version": provenance.version("nqsgen") or "", "host": provenance.host(),
           "created": provenance.created()}
    with publish.atomic_path(args.out) as tmp:
        pq.write_table(schemas.table([row], schemas.BASELINE), tmp)
    return row


def main(argv=None) -> int:
    setup_logging()

    def stage(argv):
        p = StageParser("nqsgen-baseline", __doc__)
        p.add_cluster()
        p.add_argument("--j2", required=True, type=float, help="J2/J1 of the ground state")
        p.add_argument("--out", required=True, help="the parquet file (one row)")
        p.add_argument("--ground-state", help="ground-state directory (default "
                                              "results/ground_states/{cluster}/J2={j2})")
        args = p.parse_args(argv)
        if not math.isfinite(args.j2):
            raise ConfigError(f"--j2 must be a finite number, got {args.j2}")
        baseline(args)

    return run(stage, argv)


if __name__ == "__main__":
    raise SystemExit(main())
