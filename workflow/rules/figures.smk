# Stage 6, figures: vector PDFs results/figures/{experiment}.pdf in one style
# (nqsgen.plotting.figures, nqsgen.plotting.style), each with its caption in the Snakemake
# report (snakemake --report report.html; captions are workflow/report/<kind>.rst, Jinja
# templates filled from the experiment's settings).  One rule per experiment kind; the
# experiment wildcard of each only matches experiments of its kinds.  Local rules (seconds).
#
# The main job (bin/main, README) is Fig. 3 of the default configuration:
#     snakemake --cores all results/figures/fig3.pdf


rule figure_clusters:
    input:
        unpack(figure_clusters_input),
    output:
        pdf=report(
            "results/figures/{experiment}.pdf",
            caption="../report/clusters.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "clusters"},
        ),
    params:
        kind="clusters",
        caption=experiment_caption,
        settings=experiment_params,
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("clusters"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_j2_sweep:
    input:
        points="results/tables/{experiment}.parquet",
        transitions="results/tables/{experiment}.transitions.parquet",
    output:
        pdf=report(
            "results/figures/{experiment}.pdf",
            caption="../report/j2_sweep.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "J2 sweep"},
        ),
    params:
        kind="j2_sweep",
        caption=experiment_caption,
        settings=experiment_params,
        regions=config["frustrated_regions"],
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("j2_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_eps_sweep:
    input:
        points="results/tables/{experiment}.parquet",
        critical="results/tables/{experiment}.critical.parquet",
    output:
        pdf=report(
            "results/figures/{experiment}.pdf",
            caption="../report/eps_sweep.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "εtrain sweep"},
        ),
    params:
        kind="eps_sweep",
        caption=experiment_caption,
        settings=experiment_params,
        regions=config["frustrated_regions"],
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("eps_sweep"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"


rule figure_scaling:
    input:
        points="results/tables/{experiment}.parquet",
        critical="results/tables/{experiment}.critical.parquet",
        scaling="results/tables/{experiment}.scaling.parquet",
    output:
        pdf=report(
            "results/figures/{experiment}.pdf",
            caption="../report/scaling.rst",
            category="Figures",
            labels={"figure": "{experiment}", "kind": "scaling"},
        ),
    params:
        kind="scaling",
        caption=experiment_caption,
        settings=experiment_params,
        regions=config["frustrated_regions"],
        # read when the report is rendered (not a rerun trigger): the fitted exponents
        results=lambda wildcards: CaptionTable(
            f"results/tables/{wildcards.experiment}.scaling.parquet"
        ),
    log:
        "logs/figures/{experiment}.log",
    benchmark:
        "results/benchmarks/figure/{experiment}.tsv"
    wildcard_constraints:
        experiment=experiment_pattern("scaling"),
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/figure.py"
