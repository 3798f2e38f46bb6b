# Sign baselines of one ground state (nqsgen.stages.baseline): the Marshall-sign overlap drawn
# beside every learned sign overlap.  Local-sized jobs (seconds; a minute at 30 sites).


rule baseline:
    input:
        unpack(PLAN.run_input),
    output:
        marshall=paths.BASELINE,
    params:
        gsdir=ground_state_dir,
    log:
        "logs/baselines/{cluster}/J2={j2}.log",
    benchmark:
        "results/benchmarks/baseline/{cluster}/J2={j2}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    conda:
        "../../envs/train.yaml"
    shell:
        "python -m nqsgen.stages.baseline --cluster {wildcards.cluster} --j2 {wildcards.j2}"
        " --out {output.marshall} --ground-state {params.gsdir} --config {input.spec}"
        " > {log} 2>&1"
