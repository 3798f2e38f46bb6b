# Stage 3: supervised training (nqsgen.stages.train): every run writes metrics.parquet (one
# row) and curves.parquet, published atomically into its hive-style run directory.
# Hyper-parameters are the config's `train:` section (a params value: editing one reruns the
# affected runs).
#
# The runs of the experiments are trained in ensembles (nqsgen.plan.Plan.ensembles: runs of
# one cluster, target, architecture and set of experiments, at most train.ensemble_size per
# job): one rule per ensemble, named train_<cluster>_<target>_<arch>_<id>, whose outputs are
# its runs' files, so `snakemake -n` lists every run it will train.  Rule `train` builds one
# run alone: the runs of groups of one, and any run directory requested as a target that no
# experiment plans (rules without wildcards take precedence, so planned runs go to their
# ensemble).


rule train:
    input:
        unpack(PLAN.run_input),
    output:
        metrics=f"{paths.TRAIN_RUN}/metrics.parquet",
        curves=f"{paths.TRAIN_RUN}/curves.parquet",
    params:
        outdir=output_dir,
        gsdir=ground_state_dir,
        stale=stale,
        options=PLAN.train_flags,
    log:
        "logs/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}.log",
    benchmark:
        "results/benchmarks/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}.tsv"
    threads: config["train"]["threads"]
    resources:
        gpu=config["train"]["gpus"],
        mem_mb=train_mem_mb,
        runtime=train_runtime,
    conda:
        "../../envs/train.yaml"
    shell:
        "rm -rf {params.stale}; "
        "python -m nqsgen.stages.train --cluster {wildcards.cluster} --j2 {wildcards.j2}"
        " --target {wildcards.target} --arch {wildcards.arch} --eps {wildcards.eps}"
        " --seed {wildcards.seed} --out {params.outdir} --ground-state {params.gsdir}"
        " --config {input.spec} --device auto --threads {threads} {params.options}"
        " > {log} 2>&1"


for ensemble in PLAN.ensembles:

    rule:
        name:
            ensemble.name
        input:
            **PLAN.ensemble_input(ensemble),
        output:
            metrics=ensemble.outputs("metrics"),
            curves=ensemble.outputs("curves"),
        params:
            # the loop variable is read here, when the rule is defined: the shell command is
            # formatted when the job runs, by which time `ensemble` is the last one
            cluster=ensemble.cluster,
            target=ensemble.target,
            arch=ensemble.arch,
            runs=run_dirs,
            gsdirs=ground_state_flags,
            options=PLAN.train_flags,
        log:
            f"logs/train/ensembles/{ensemble.name}.log",
        benchmark:
            f"results/benchmarks/train/ensembles/{ensemble.name}.tsv"
        threads: config["train"]["threads"]
        resources:
            gpu=config["train"]["gpus"],
            mem_mb=PLAN.ensemble_mem_mb(ensemble),
            runtime=train_runtime,
        conda:
            "../../envs/train.yaml"
        shell:
            "python -m nqsgen.stages.train --cluster {params.cluster} --target {params.target}"
            " --arch {params.arch} --runs {params.runs} {params.gsdirs} --config {input.spec}"
            " --device auto --threads {threads} {params.options} > {log} 2>&1"
