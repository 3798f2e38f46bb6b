# Stage 5, aggregate: the runs of one experiment -> tables with mean, standard error
# (std/√n over seeds, ddof 1) and n per point, plus the fitted quantities
# (nqsgen.aggregate, nqsgen.statistics; columns documented there and in config/README.md).
#
#   results/tables/{experiment}.parquet              every kind but clusters: the points
#   results/tables/{experiment}.transitions.parquet  j2_sweep: J2 of the steepest loss of
#                                                    generalisation per curve, bootstrap CI
#   results/tables/{experiment}.critical.parquet     eps_sweep, scaling: critical εtrain per
#                                                    (cluster, J2, target, arch), bootstrap CI
#   results/tables/{experiment}.scaling.parquet      scaling: growth exponent of n_c with K
#
# Inputs are the experiment's own metrics files only (not a scan of results/train), so a table
# holds exactly the configured points.  With `vmc: true` a j2_sweep also reads the VMC stage's
# results/vmc/{cluster}/J2={j2}/seed={seed}/metrics.parquet (column `overlap`).
# Local rules: reading a few thousand one-row files and the bootstrap take seconds to a minute.


rule aggregate_j2_sweep:
    input:
        unpack(aggregate_input),
    output:
        points="results/tables/{experiment}.parquet",
        transitions="results/tables/{experiment}.transitions.parquet",
    params:
        settings=experiment_params,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("j2_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"


rule aggregate_eps_sweep:
    input:
        unpack(aggregate_input),
    output:
        points="results/tables/{experiment}.parquet",
        critical="results/tables/{experiment}.critical.parquet",
    params:
        settings=experiment_params,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("eps_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"


rule aggregate_scaling:
    input:
        unpack(aggregate_input),
    output:
        points="results/tables/{experiment}.parquet",
        critical="results/tables/{experiment}.critical.parquet",
        scaling="results/tables/{experiment}.scaling.parquet",
    params:
        settings=experiment_params,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("scaling"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"
