"""The pipeline's stages: command-line entry points, one module per stage, built on the
concept modules of the package (which never import a stage).

=================  ===========================  ============================================
stage (rule)       command                      writes
=================  ===========================  ============================================
cluster            ``nqsgen-cluster``           results/clusters/{cluster}.{json,pdf,spec.yaml}
ground_state       ``nqsgen-ground-state``      results/ground_states/{cluster}/J2={j2}/
train              ``nqsgen-train``             results/train/.../seed={seed}/
vmc                ``nqsgen-vmc``               results/vmc/{cluster}/J2={j2}/seed={seed}/
aggregate_*        ``nqsgen-aggregate``         results/tables/{experiment}*.parquet
figure_*           ``nqsgen-plot``              results/figures/{experiment}.pdf
(none)             ``nqsgen-sectors``           a cluster's symmetry sectors (listing)
=================  ===========================  ============================================

Each command is also ``python -m nqsgen.stages.<module>`` (modules ``cluster_files``,
``ground_state``, ``train``, ``vmc``, ``aggregate``, ``plot``, ``list_sectors``); shared
conventions (one-line errors, exit status 2, logging) are in :mod:`nqsgen.stages.base`.
"""
