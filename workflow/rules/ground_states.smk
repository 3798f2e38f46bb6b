# Stage 2, ground state: exact ground state of one cluster at one J2/J1 (python -m
# nqsgen.ground_state, MPI-parallel SLEPc or single-process scipy).
#
# The stage writes metadata.json plus parquet shards into the output directory and publishes it
# by renaming a finished temporary sibling (.J2=<j2>.tmp-*) into place, so metadata.json (the
# declared output and completion marker) never exists for a partial result.  A run killed before
# the rename leaves only the temporary sibling, which the next run deletes first.  Log and
# benchmark files live outside the output directory, which the stage replaces as a whole.
#
# Resources: `tasks` MPI ranks of one core each (`threads` = tasks, so a local run reserves that
# many cores), `mpi` the launcher (profiles for clusters override it, e.g. "srun"), `mem_mb` the
# solver's memory estimate plus a margin, `runtime` from the config (minutes).  Locally the
# launcher is `mpiexec --bind-to none`: Open MPI binds the ranks of every mpiexec to cores 0, 1,
# ... so concurrent jobs would otherwise all share the first cores.


rule ground_state:
    input:
        unpack(ground_state_input),
    output:
        metadata="results/ground_states/{cluster}/J2={j2}/metadata.json",
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.metadata),
        stale=lambda wildcards, output: "{0}/.{1}.tmp-* {0}/.{1}.old-*".format(
            *os.path.split(os.path.dirname(output.metadata))
        ),
        solver=ground_state_solver,
        symmetries=ground_state_symmetries,
        sectors=ground_state_sectors,
    log:
        "logs/ground_states/{cluster}/J2={j2}.log",
    benchmark:
        "results/benchmarks/ground_state/{cluster}/J2={j2}.tsv"
    threads: ground_state_tasks
    resources:
        mpi="mpiexec --bind-to none",
        tasks=ground_state_tasks,
        cpus_per_task=1,
        mem_mb=ground_state_mem_mb,
        runtime=ground_state_runtime,
    conda:
        "../../envs/ground_state.yaml"
    shell:
        "rm -rf {params.stale}; "
        "{resources.mpi} -n {resources.tasks} python -m nqsgen.ground_state"
        " --cluster {wildcards.cluster} --j2 {wildcards.j2} --out {params.outdir}"
        " --solver {params.solver} --config {input.spec} --threads 1"
        " --symmetries {params.symmetries} --sectors '{params.sectors}'"
        " > {log} 2>&1"
