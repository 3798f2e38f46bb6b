# Stage 6: an experiment's figure as a vector PDF (nqsgen.stages.figure), with its caption in
# the Snakemake report (workflow/report/<kind>.rst, Jinja templates).  Local rules (seconds).


rule figure_clusters:
    input:
        specs=PLAN.spec_files,
    output:
        pdf=report(
            paths.FIGURE,
            caption="../report/clusters.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "clusters"},
        ),
    params:
        kind="clusters",
        caption=PLAN.caption,
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("clusters"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_j2_sweep:
    input:
        points=f"{paths.TABLE}.parquet",
        transitions=f"{paths.TABLE}.transitions.parquet",
        correlation=f"{paths.TABLE}.correlation.parquet",
    output:
        pdf=report(
            paths.FIGURE,
            caption="../report/j2_sweep.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "J2 sweep"},
        ),
    params:
        kind="j2_sweep",
        caption=PLAN.caption,
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        results=caption_table,
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("j2_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_eps_sweep:
    input:
        points=f"{paths.TABLE}.parquet",
        critical=f"{paths.TABLE}.critical.parquet",
    output:
        pdf=report(
            paths.FIGURE,
            caption="../report/eps_sweep.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "εtrain sweep"},
        ),
    params:
        kind="eps_sweep",
        caption=PLAN.caption,
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("eps_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_scaling:
    input:
        points=f"{paths.TABLE}.parquet",
        critical=f"{paths.TABLE}.critical.parquet",
        scaling=f"{paths.TABLE}.scaling.parquet",
    output:
        pdf=report(
            paths.FIGURE,
            caption="../report/scaling.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "scaling"},
        ),
    params:
        kind="scaling",
        caption=PLAN.caption,
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        results=caption_table,
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("scaling"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_capacity:
    input:
        points=f"{paths.TABLE}.parquet",
    output:
        pdf=report(
            paths.FIGURE,
            caption="../report/capacity.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "capacity"},
        ),
    params:
        kind="capacity",
        caption=PLAN.caption,
        settings=PLAN.settings,
        regions=config["frustrated_regions"],
        results=caption_table,
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=PLAN.kind_pattern("capacity"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"
