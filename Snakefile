# nqsgen: generalisation of neural-network approximations to frustrated magnet ground states
# (Westerhout et al., Nat. Commun. 11, 1593 (2020)) as a Snakemake workflow.
#
#   snakemake -n                                   # the plan, in seconds
#   snakemake --cores all                          # everything configured in config/config.yaml
#   snakemake --cores 2 --directory .test          # the small CI configuration (.test/config/)
#
# Rules live in workflow/rules/, configuration keys are documented in config/README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


rule all:
    input:
        cluster_targets(),
        ground_state_targets(),
    default_target: True
    localrule: True


include: "workflow/rules/clusters.smk"
include: "workflow/rules/ground_states.smk"
include: "workflow/rules/train.smk"
