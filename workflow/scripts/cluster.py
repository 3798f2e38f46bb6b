"""Snakemake adapter of rule ``cluster``: write the cluster's spec file, then run the stage.

The spec file holds ``clusters: {name: definition}`` (the format of the stages' ``--config``
option); the stage :mod:`nqsgen.cluster` reads it and writes the geometry JSON and the PDF.
Stage output and errors go to the rule's log.
"""

import sys
from contextlib import redirect_stderr, redirect_stdout

import yaml

from nqsgen.cluster import main

smk = snakemake  # noqa: F821 - injected by Snakemake's script directive

name = smk.wildcards.cluster
with open(smk.output.spec, "w", encoding="utf-8") as fh:
    yaml.safe_dump({"clusters": {name: smk.params.definition}}, fh, sort_keys=False)

argv = ["--cluster", name, "--json", smk.output.json, "--pdf", smk.output.pdf,
        "--config", smk.output.spec]
with open(smk.log[0], "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
    status = main(argv)
sys.exit(status)
