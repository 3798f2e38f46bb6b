# Stage 2 (MPI): the exact ground state of one cluster at one J2 (nqsgen.stages.ground_state).
# Locally the launcher is `mpiexec --bind-to none` (Open MPI would bind the ranks of concurrent
# jobs to the same first cores); cluster profiles override `mpi` (e.g. srun).


rule ground_state:
    input:
        cluster=f"{paths.CLUSTER}.json",
        spec=f"{paths.CLUSTER}.spec.yaml",
    output:
        metadata=f"{paths.GROUND_STATE}/{paths.MARKERS['ground_state']}",
    params:
        outdir=output_dir,
        stale=stale,
        solver=lambda wildcards: PLAN.ground_state(wildcards)["solver"],
        symmetries=PLAN.symmetries,
        sectors=lambda wildcards: PLAN.ground_state(wildcards)["sectors"],
        completeness=lambda wildcards: PLAN.ground_state(wildcards)["completeness"],
    log:
        "logs/ground_states/{cluster}/J2={j2}.log",
    benchmark:
        "results/benchmarks/ground_state/{cluster}/J2={j2}.tsv"
    threads: PLAN.ground_state_tasks
    resources:
        mpi="mpiexec --bind-to none",
        tasks=PLAN.ground_state_tasks,
        cpus_per_task=1,
        mem_mb=ground_state_mem_mb,
        runtime=ground_state_runtime,
    conda:
        "../../envs/ground_state.yaml"
    shell:
        "rm -rf {params.stale}; "
        "{resources.mpi} -n {resources.tasks} python -m nqsgen.stages.ground_state"
        " --cluster {wildcards.cluster} --j2 {wildcards.j2} --out {params.outdir}"
        " --solver {params.solver} --config {input.spec} --threads 1"
        " --symmetries {params.symmetries} --sectors '{params.sectors}'"
        " --completeness {params.completeness}"
        " > {log} 2>&1"
