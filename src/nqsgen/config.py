"""Reading the workflow configuration (YAML) outside Snakemake.

The workflow validates the whole configuration against ``workflow/schemas/config.schema.yaml``;
package stages that take ``--config`` only need the user-defined clusters from it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from nqsgen.errors import ConfigError


def load_yaml(path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: "
                          f"{str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping at the top level")
    return data


def load_cluster_specs(path) -> dict:
    """The ``clusters:`` mapping (name → {lattice, supercell, ...}) of a config file."""
    specs = load_yaml(path).get("clusters") or {}
    if not isinstance(specs, dict):
        raise ConfigError(f"config key 'clusters' in {path} must be a mapping of cluster names")
    return specs
