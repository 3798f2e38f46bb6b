# nqsgen: generalisation of neural-network approximations to frustrated magnet ground states
# (Westerhout et al., Nat. Commun. 11, 1593 (2020)) as a Snakemake workflow.
#
#   snakemake -n                                   # the plan, in seconds
#   snakemake --cores all                          # everything configured in config/config.yaml
#   snakemake --cores all results/figures/fig3.pdf # one figure (and what it needs)
#   snakemake --profile slurm                      # on a SLURM cluster (profile in ./slurm/)
#   snakemake --report report.html                 # the figures with captions, after a run
#   snakemake --cores 2 --directory .test          # the small CI configuration (.test/config/)
#
# Rules live in workflow/rules/, configuration keys are documented in config/README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


rule all:
    input:
        cluster_targets(),
        ground_state_targets(),
        figure_targets(),
    default_target: True
    localrule: True


include: "workflow/rules/clusters.smk"
include: "workflow/rules/ground_states.smk"
include: "workflow/rules/train.smk"
# A j2_sweep experiment with `vmc: true` reads results/vmc/{cluster}/J2={j2}/seed={seed}/metrics.parquet.
include: "workflow/rules/vmc.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
