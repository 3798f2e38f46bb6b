# Stage 5: an experiment's runs -> its tables (nqsgen.stages.aggregate): the points (mean,
# SE over seeds), and per kind the transitions, critical εtrain or growth exponents.
# Inputs are the experiment's own metrics files only, so a table holds exactly its points.


rule aggregate_j2_sweep:
    input:
        unpack(PLAN.aggregate_input),
    output:
        points=f"{paths.TABLE}.parquet",
        transitions=f"{paths.TABLE}.transitions.parquet",
        correlation=f"{paths.TABLE}.correlation.parquet",
    params:
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("j2_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"


rule aggregate_eps_sweep:
    input:
        unpack(PLAN.aggregate_input),
    output:
        points=f"{paths.TABLE}.parquet",
        critical=f"{paths.TABLE}.critical.parquet",
    params:
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("eps_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"


rule aggregate_scaling:
    input:
        unpack(PLAN.aggregate_input),
    output:
        points=f"{paths.TABLE}.parquet",
        critical=f"{paths.TABLE}.critical.parquet",
        scaling=f"{paths.TABLE}.scaling.parquet",
    params:
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("scaling"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"


rule aggregate_capacity:
    input:
        unpack(PLAN.aggregate_input),
    output:
        points=f"{paths.TABLE}.parquet",
    params:
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        statistics=config["aggregate"],
    log:
        "logs/aggregate/{experiment}.log",
    benchmark:
        "results/benchmarks/aggregate/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("capacity"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/aggregate.py"
