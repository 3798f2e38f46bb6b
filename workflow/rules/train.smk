# Stage 3, train: supervised learning of the sign structure or the amplitudes of one exact
# ground state from an εtrain·K sample of |ψ|², with the overlap measured on every other basis
# state (python -m nqsgen.train; protocol in the nqsgen.train docstring).
#
# One job per (cluster, J2, target, architecture, εtrain, seed).  The stage writes
# metrics.parquet (one row, the test overlap in column `overlap`) and curves.parquet (one row
# per epoch) into the run directory and publishes the directory by renaming a finished
# temporary sibling (.seed=<seed>.tmp-*), so the declared outputs never exist half-written.  The
# run directories form a hive-style tree: pyarrow.dataset.dataset("results/train",
# partitioning="hive") reads every run at once (nqsgen.train.read_runs reads metrics only).
#
# Hyper-parameters come from the config's `train:` section (a params value: editing one reruns
# the affected jobs).  Resources: `threads` CPU threads (torch and numba, set explicitly so
# runs are reproducible), `gpu` GPUs per job — 0 by default (CPU, e.g. locally); a SLURM
# profile sets `set-resources: {train: {gpu: 1}}` (or the config `train.gpus`) and the stage's
# `--device auto` then uses CUDA.  `mem_mb` and `runtime` (minutes) from the config.


rule train:
    input:
        unpack(train_input),
    output:
        metrics="results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}/metrics.parquet",
        curves="results/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}/curves.parquet",
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.metrics),
        gsdir=lambda wildcards, input: os.path.dirname(input.ground_state),
        stale=lambda wildcards, output: "{0}/.{1}.tmp-* {0}/.{1}.old-*".format(
            *os.path.split(os.path.dirname(output.metrics))
        ),
        options=train_options,
    log:
        "logs/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}.log",
    benchmark:
        "results/benchmarks/train/{cluster}/J2={j2}/{target}/{arch}/eps={eps}/seed={seed}.tsv"
    threads: train_threads
    resources:
        gpu=train_gpus,
        mem_mb=train_mem_mb,
        runtime=train_runtime,
    conda:
        "../../envs/train.yaml"
    shell:
        "rm -rf {params.stale}; "
        "python -m nqsgen.train --cluster {wildcards.cluster} --j2 {wildcards.j2}"
        " --target {wildcards.target} --arch {wildcards.arch} --eps {wildcards.eps}"
        " --seed {wildcards.seed} --out {params.outdir} --ground-state {params.gsdir}"
        " --config {input.spec} --device auto --threads {threads} {params.options}"
        " > {log} 2>&1"
