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
# One rule file per stage, each calling one module of nqsgen.stages; configuration keys are
# documented in config/README.md.

from snakemake.utils import min_version

min_version("9.0")


# A config file Snakemake cannot parse is named with its line and column (one line), first.
include: "workflow/rules/configfile.smk"


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


rule all:
    input:
        PLAN.cluster_targets(),
        PLAN.ground_state_targets(),
        PLAN.figure_targets(),
    default_target: True
    localrule: True


include: "workflow/rules/clusters.smk"  # nqsgen.stages.cluster_files
include: "workflow/rules/ground_states.smk"  # nqsgen.stages.ground_state
include: "workflow/rules/train.smk"  # nqsgen.stages.train
include: "workflow/rules/vmc.smk"  # nqsgen.stages.vmc
include: "workflow/rules/baselines.smk"  # nqsgen.stages.baseline
include: "workflow/rules/aggregate.smk"  # nqsgen.stages.aggregate
include: "workflow/rules/figures.smk"  # nqsgen.stages.figure
