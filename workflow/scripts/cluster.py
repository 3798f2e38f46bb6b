"""Adapter of rule cluster to nqsgen.stages.cluster_files: the spec file, then the stage."""

import sys
from contextlib import redirect_stderr, redirect_stdout

from nqsgen.stages import cluster_files

smk = snakemake  # noqa: F821 - injected by Snakemake's script directive
with open(smk.log[0], "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
    status = cluster_files.main(["--cluster", smk.wildcards.cluster, "--json", smk.output.json,
                                 "--pdf", smk.output.pdf, "--spec", smk.output.spec,
                                 "--definition", cluster_files.dump(smk.params.definition)])
sys.exit(status)
