# Stage 4, vmc: stochastic-reconfiguration optimisation of two 2-layer dense networks
# (log-amplitude and phase, ψ = exp(a + iφ)) for one cluster and J2, and its overlap with the
# exact ground state over the whole basis (python -m nqsgen.vmc; the paper's Fig. 2 d-f;
# conventions in the nqsgen.vmc.stage docstring).
#
# One job per (cluster, J2, seed).  The stage writes metrics.parquet (one row: every parameter,
# `energy` ± `energy_error` in σ units, `rel_energy_error`, `overlap`, `sign_overlap`, ...) and
# trajectory.parquet (one row per SR iteration) into the run directory and publishes it by
# renaming a finished temporary sibling (.seed=<seed>.tmp-*), so the declared outputs never
# exist half-written.  results/vmc is a hive-style tree: pyarrow.dataset.dataset("results/vmc",
# partitioning="hive") reads every run (nqsgen.vmc.stage.read_runs reads one kind of file).
#
# Checkpoints: every `vmc.checkpoint_every` iterations the stage saves its state to the hidden
# sibling .seed=<seed>.checkpoint.pt (not a declared output, so Snakemake leaves it alone when
# a job fails or is killed at its time limit); the rerun — with rerun-incomplete, or the next
# `snakemake` call — resumes from it and ends exactly where an uninterrupted run ends.  The
# stage deletes it after writing the outputs.  Only the stale temporaries of an interrupted
# publication are removed before the job starts.
#
# Hyper-parameters come from the config's `vmc:` section (a params value: editing one reruns
# the affected jobs; a leftover default checkpoint of other settings is discarded by the stage,
# which then starts afresh).  The log is appended to, so a resumed job's log holds every
# attempt.  Resources: `threads` CPU threads (torch and numba, set explicitly), `gpu`
# GPUs per job — 0 by default; a SLURM profile sets `set-resources: {vmc: {gpu: 1}}` (or the
# config `vmc.gpus`) and `--device auto` then uses CUDA.  `mem_mb` and `runtime` (minutes; times
# the attempt number, so a retry after a timeout gets longer — and resumes) from the config.


rule vmc:
    input:
        unpack(vmc_input),
    output:
        metrics="results/vmc/{cluster}/J2={j2}/seed={seed}/metrics.parquet",
        trajectory="results/vmc/{cluster}/J2={j2}/seed={seed}/trajectory.parquet",
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.metrics),
        gsdir=lambda wildcards, input: os.path.dirname(input.ground_state),
        stale=lambda wildcards, output: "{0}/.{1}.tmp-* {0}/.{1}.old-*".format(
            *os.path.split(os.path.dirname(output.metrics))
        ),
        options=vmc_options,
    log:
        "logs/vmc/{cluster}/J2={j2}/seed={seed}.log",
    benchmark:
        "results/benchmarks/vmc/{cluster}/J2={j2}/seed={seed}.tsv"
    threads: vmc_threads
    resources:
        gpu=vmc_gpus,
        mem_mb=vmc_mem_mb,
        runtime=vmc_runtime,
    conda:
        "../../envs/train.yaml"
    shell:
        "rm -rf {params.stale}; "
        "python -m nqsgen.vmc --cluster {wildcards.cluster} --j2 {wildcards.j2}"
        " --seed {wildcards.seed} --out {params.outdir} --ground-state {params.gsdir}"
        " --config {input.spec} --device auto --threads {threads} {params.options}"
        " >> {log} 2>&1"
