# Stage 1, cluster: geometry file, picture and definition of one periodic cluster.
#
# The definition (the config's `clusters` entry, or the catalogue's) is a params value, so that
# editing it reruns this job and everything downstream.  The job also writes it to
# {cluster}.spec.yaml, in the `clusters:` format that every stage's --config option reads; later
# stages take that file as input and so need no other access to the workflow's config.
# A local rule: a few seconds of plotting is not worth a batch job on a cluster.


rule cluster:
    output:
        json="results/clusters/{cluster}.json",
        pdf=report("results/clusters/{cluster}.pdf", category="Clusters"),
        spec="results/clusters/{cluster}.spec.yaml",
    params:
        definition=cluster_definition,
    log:
        "logs/clusters/{cluster}.log",
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/cluster.py"
