# Stage 1: geometry (JSON), picture (PDF) and definition (spec.yaml, the `clusters:` format
# every stage's --config reads) of one cluster.  The definition is a params value: editing it
# reruns the cluster and everything downstream.


rule cluster:
    output:
        json=f"{paths.CLUSTER}.json",
        pdf=report(f"{paths.CLUSTER}.pdf", category="Clusters"),
        spec=f"{paths.CLUSTER}.spec.yaml",
    params:
        definition=PLAN.cluster_definition,
    log:
        "logs/clusters/{cluster}.log",
    localrule: True
    conda:
        "../../envs/python.yaml"
    script:
        "../scripts/cluster.py"
