"""Reading configuration files (YAML): one-line errors that name the file, line and column.

The workflow validates the whole configuration (:mod:`nqsgen.config.workflow`); package
stages that take ``--config`` only need the user-defined clusters from it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from nqsgen.errors import ConfigError


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``line L, column C: <problem>`` of a YAML error (1-based, as editors count)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return " ".join(str(problem).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {' '.join(str(problem).split())}"


def load_yaml(path) -> dict:
    """The mapping in the YAML file ``path`` ({} for an empty file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {yaml_problem(exc)}") from None
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
