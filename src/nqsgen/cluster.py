"""Pipeline stage "cluster": geometry file (JSON) and picture (PDF) of one cluster.

Usage::

    python -m nqsgen.cluster --cluster NAME --json OUT.json --pdf OUT.pdf [--config CONFIG.yaml]

The optional YAML config may hold a ``clusters:`` mapping of user cluster specs
({lattice, supercell, lattice options}) that override or extend the built-in catalogue
(:data:`nqsgen.clusters.CATALOGUE`).  Errors print ``error: <message>`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from nqsgen.errors import ConfigError, NqsgenError


def load_user_specs(config_path: str | os.PathLike | None) -> dict | None:
    """The ``clusters:`` mapping of a YAML config file (None if absent or no file given)."""
    if config_path is None:
        return None
    import yaml

    try:
        with open(config_path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {config_path}: not found") from None
    except OSError as exc:
        raise ConfigError(f"config file {config_path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise ConfigError(f"config file {config_path}: invalid YAML: {msg}") from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {config_path}: top level must be a mapping")
    specs = data.get("clusters")
    if specs is None:
        return None
    if not isinstance(specs, dict):
        raise ConfigError(
            f"config file {config_path}: key 'clusters' must be a mapping of cluster names to specs"
        )
    return specs


def run(name: str, json_path=None, pdf_path=None, config_path=None) -> str:
    """Build cluster ``name``, write its JSON and/or PDF; return a one-line summary."""
    from nqsgen.clusters import get_cluster

    cluster = get_cluster(name, load_user_specs(config_path))
    if json_path is not None:
        cluster.to_json(json_path)
    if pdf_path is not None:
        from nqsgen.plotting.clusters import draw_cluster

        draw_cluster(cluster, pdf_path)
    return (
        f"cluster {cluster.name}: {cluster.lattice.name}, N={cluster.n_sites}, "
        f"J1 bonds {len(cluster.j1_bonds)}, J2 bonds {len(cluster.j2_bonds)}, "
        f"point group {len(cluster.point_group)}, symmetry group "
        f"{len(cluster.symmetry_group())}, bipartite J1: "
        f"{'yes' if cluster.bipartite_j1 else 'no'}, fingerprint {cluster.fingerprint()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nqsgen.cluster",
        description="Write the geometry (JSON) and picture (PDF) of one periodic cluster.",
    )
    parser.add_argument("--cluster", required=True, help="cluster name (catalogue or config)")
    parser.add_argument("--json", dest="json_path", help="output geometry file (.json)")
    parser.add_argument("--pdf", dest="pdf_path", help="output picture (.pdf)")
    parser.add_argument("--config", dest="config_path",
                        help="YAML config whose optional 'clusters:' mapping holds user specs")
    args = parser.parse_args(argv)
    try:
        summary = run(args.cluster, args.json_path, args.pdf_path, args.config_path)
    except NqsgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
