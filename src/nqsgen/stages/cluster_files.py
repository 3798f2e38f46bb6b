"""Stage ``cluster``: the geometry (JSON), picture (PDF) and definition (spec YAML) of one
periodic cluster.

    nqsgen-cluster --cluster NAME [--json OUT.json] [--pdf OUT.pdf] [--spec OUT.spec.yaml]
        [--config CONFIG.yaml | --definition YAML]

The cluster comes from the built-in catalogue (:data:`nqsgen.clusters.CATALOGUE`), from the
``clusters:`` mapping of ``--config``, or from ``--definition`` (a YAML mapping {lattice,
supercell, ...}, what the workflow passes).  ``--spec`` writes ``clusters: {NAME: definition}``,
the format every stage's ``--config`` reads, so later stages need no other access to the
workflow's configuration.  Every file is written atomically.
"""

from __future__ import annotations

import yaml

from nqsgen.errors import ConfigError
from nqsgen.stages.base import StageParser, run


def dump(definition: dict) -> str:
    """A cluster definition as one-line YAML (for ``--definition``)."""
    return yaml.safe_dump(dict(definition), default_flow_style=True, sort_keys=False).strip()


def describe(cluster) -> str:
    """A one-line summary of the cluster (printed by the stage)."""
    return (f"cluster {cluster.name}: {cluster.lattice.name}, N={cluster.n_sites}, "
            f"J1 bonds {len(cluster.j1_bonds)}, J2 bonds {len(cluster.j2_bonds)}, "
            f"point group {len(cluster.point_group)}, symmetry group "
            f"{len(cluster.symmetry_group())}, bipartite J1: "
            f"{'yes' if cluster.bipartite_j1 else 'no'}, fingerprint {cluster.fingerprint()}")


def write(args) -> str:
    from nqsgen.clusters import CATALOGUE, get_cluster
    from nqsgen.config import load_cluster_specs
    from nqsgen.publish import write_text

    specs = load_cluster_specs(args.config) if args.config else {}
    if args.definition:
        definition = yaml.safe_load(args.definition)
        if not isinstance(definition, dict):
            raise ConfigError(f"--definition must be a YAML mapping, got {args.definition!r}")
        specs = {**specs, args.cluster: definition}
    cluster = get_cluster(args.cluster, specs or None)
    if args.json:
        cluster.to_json(args.json)
    if args.pdf:
        from nqsgen.plotting.clusters import draw_cluster

        draw_cluster(cluster, args.pdf)
    if args.spec:
        definition = specs.get(args.cluster, CATALOGUE.get(args.cluster))
        write_text(args.spec, yaml.safe_dump({"clusters": {args.cluster: dict(definition)}},
                                             sort_keys=False))
    print(describe(cluster))
    return cluster.name


def main(argv=None) -> int:
    p = StageParser("nqsgen-cluster", __doc__)
    p.add_cluster()
    p.add_argument("--definition", help="YAML mapping {lattice, supercell, ...} of the cluster")
    p.add_argument("--json", help="output geometry file (.json)")
    p.add_argument("--pdf", help="output picture (.pdf)")
    p.add_argument("--spec", help="output definition (clusters: {NAME: ...}, YAML)")
    return run(lambda a: write(p.parse_args(a)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
