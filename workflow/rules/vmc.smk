# Stage 4: one stochastic-reconfiguration run (nqsgen.stages.vmc; the paper's Fig. 2 d-f).
# The stage checkpoints beside its run directory; a killed or timed-out job resumes on the
# rerun (the log is appended to), so only stale publication temporaries are removed first.


rule vmc:
    input:
        unpack(PLAN.run_input),
    output:
        metrics=f"{paths.VMC_RUN}/metrics.parquet",
        trajectory=f"{paths.VMC_RUN}/trajectory.parquet",
    params:
        outdir=output_dir,
        gsdir=ground_state_dir,
        stale=stale,
        options=PLAN.vmc_flags,
    log:
        "logs/vmc/{cluster}/J2={j2}/seed={seed}.log",
    benchmark:
        "results/benchmarks/vmc/{cluster}/J2={j2}/seed={seed}.tsv"
    threads: config["vmc"]["threads"]
    resources:
        gpu=config["vmc"]["gpus"],
        mem_mb=vmc_mem_mb,
        runtime=vmc_runtime,
    conda:
        "../../envs/train.yaml"
    shell:
        "rm -rf {params.stale}; "
        "python -m nqsgen.stages.vmc --cluster {wildcards.cluster} --j2 {wildcards.j2}"
        " --seed {wildcards.seed} --out {params.outdir} --ground-state {params.gsdir}"
        " --config {input.spec} --device auto --threads {threads} {params.options}"
        " >> {log} 2>&1"
