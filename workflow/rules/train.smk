# Stage 3: one supervised training run (nqsgen.stages.train): metrics.parquet (one row) and
# curves.parquet, published atomically into a hive-style run directory.  Hyper-parameters are
# the config's `train:` section (a params value: editing one reruns the affected runs).


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
