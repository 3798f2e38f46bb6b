"""Adapter of the aggregate_* rules to nqsgen.stages.aggregate (outside Snakemake it is that
stage's command line: python workflow/scripts/aggregate.py --help)."""

import logging
import sys

from nqsgen.stages import aggregate
from nqsgen.stages.base import run

if "snakemake" not in globals():
    sys.exit(aggregate.main())
smk = snakemake  # noqa: F821 - injected by Snakemake's script directive
logging.basicConfig(filename=smk.log[0], filemode="w", level=logging.INFO, force=True,
                    format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
kind = smk.params.settings["kind"]
sys.exit(run(lambda _: aggregate.aggregate(
    smk.wildcards.experiment, kind, list(smk.input.runs), list(smk.input.vmc),
    {name: smk.output[name] for name in smk.output.keys()}, smk.params.statistics,
    smk.params.regions, list(smk.input.baselines)), []))
