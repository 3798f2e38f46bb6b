"""Validation of the workflow configuration: the JSON schema (:mod:`nqsgen.config.schema`,
defaults filled in), then the checks a schema cannot express — each failure one line naming
its key (:class:`~nqsgen.errors.ConfigError`), before any job is planned.

``--config`` values: Snakemake reads ``--config key=value`` with YAML's base loader, so every
scalar arrives as a string; :func:`typed_overrides` re-reads them as YAML scalars (numbers,
booleans, and numbers written like ``1e-4`` that YAML 1.1 leaves as strings).
"""

from __future__ import annotations

import copy
import math
import re

import jsonschema
from jsonschema import Draft202012Validator, validators

from nqsgen.config.schema import json_schema
from nqsgen.errors import ConfigError, NqsgenError
from nqsgen.paths import j2_dirname, number

_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _with_defaults(validator_class):
    """A validator that also fills in every ``default`` of ``properties`` (jsonschema FAQ)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def scalar(text):
    """A string from ``--config`` as the YAML scalar it spells (else the string)."""
    import yaml

    if not isinstance(text, str):
        return text
    if _FLOAT.match(text.strip()):
        value = float(text)
        return int(text) if re.fullmatch(r"[-+]?\d+", text.strip()) else value
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, bool | int | float) or value is None else text


def typed_overrides(value):
    """``value`` (a ``--config`` entry: nested dicts/lists of strings) with typed scalars."""
    if isinstance(value, dict):
        return {k: typed_overrides(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_overrides(v) for v in value]
    return scalar(value)


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _interval(schema: dict) -> str:
    lo = schema.get("exclusiveMinimum", schema.get("minimum", "-inf"))
    hi = schema.get("exclusiveMaximum", schema.get("maximum", "inf"))
    return ("(" if "exclusiveMinimum" in schema else "[") + f"{lo}, {hi}" + (
        ")" if "exclusiveMaximum" in schema or "maximum" not in schema else "]")


def schema_problem(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(key, one-line problem) of a jsonschema error."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.schema.get("properties"):
        allowed = sorted(error.schema["properties"])
        extra = sorted(set(error.instance) - set(allowed))
        return _key(path + extra[:1]), f"unknown key (allowed: {', '.join(allowed)})"
    if "propertyNames" in error.absolute_schema_path:
        return _key(path + [error.instance]), "bad name (use letters, digits and _ only)"
    if error.validator == "minItems" and error.validator_value == 1:
        return _key(path), "must not be empty"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _key(path), f"{error.instance!r} is outside {_interval(error.schema)}"
    if error.validator == "type" and isinstance(error.instance, str) and \
            _FLOAT.match(error.instance.strip()):
        return _key(path), (f"{error.instance!r} is a string, not a number (YAML reads 1e-4 "
                            "as a string: write 1.0e-4)")
    return _key(path), " ".join(error.message.split())


def check_schema(config: dict) -> dict:
    """Validate ``config`` in place against the schema, filling in defaults."""
    schema = json_schema()
    plain = Draft202012Validator(schema)
    # first without defaults: filling defaults assumes every "properties" instance is a
    # mapping, which a wrong type (a list in place of a mapping) is not
    error = jsonschema.exceptions.best_match(plain.iter_errors(config))
    if error is None:
        error = jsonschema.exceptions.best_match(
            _with_defaults(Draft202012Validator)(schema).iter_errors(config))
    if error is not None:
        raise ConfigError("{}: {}".format(*schema_problem(error)))
    return config


def check_j2(key: str, j2: float) -> None:
    """A J2 value must be finite and survive its J2=<format(j2, 'g')> directory name."""
    if not math.isfinite(j2):
        raise ConfigError(f"{key}: {j2} is not a finite number")
    if float(number(j2)) != j2:
        raise ConfigError(f"{key}: {j2!r} has more than 6 significant digits; its directory "
                          f"would be {j2_dirname(j2)}")


def check_eps(key: str, eps: float) -> None:
    if not math.isfinite(eps) or not 0 < eps <= 1:
        raise ConfigError(f"{key}: {eps!r} is not a training fraction in (0, 1]")
    if float(number(eps)) != eps:
        raise ConfigError(f"{key}: {eps!r} has more than 6 significant digits; its directory "
                          f"would be eps={number(eps)}")


def eps_values(grids) -> list[float]:
    """Every εtrain value of an experiment's `eps` (a number, a list, or cluster -> list)."""
    if isinstance(grids, dict):
        return [eps for grid in grids.values() for eps in grid]
    return grids if isinstance(grids, list) else [grids]


def known_clusters(config: dict) -> list[str]:
    from nqsgen.clusters import CATALOGUE

    return sorted(set(CATALOGUE) | set(config["clusters"]))


def cluster_spec(config: dict, name: str) -> dict:
    """The definition of cluster ``name``: the config's ``clusters`` entry or the catalogue's."""
    from nqsgen.clusters import CATALOGUE

    return dict(config["clusters"][name] if name in config["clusters"] else CATALOGUE[name])


def check_cluster(config: dict, key: str, name: str):
    """The cluster ``name`` (it must exist, build, and have an Sz = 0 sector)."""
    from nqsgen.basis import SzBasis
    from nqsgen.clusters import cluster_from_spec

    known = known_clusters(config)
    if name not in known:
        raise ConfigError(f"{key}: unknown cluster {name!r} (known: {', '.join(known)})")
    try:
        cluster = cluster_from_spec(name, cluster_spec(config, name))
        SzBasis(cluster.n_sites)
    except NqsgenError as exc:
        raise ConfigError(f"{key}: {name}: {exc}") from None
    return cluster


def check_semantics(config: dict) -> None:
    """What the schema cannot express (see the module docstring)."""
    for name in config["clusters"]:
        check_cluster(config, f"clusters.{name}", name)
    for name, gs in config["ground_states"].items():
        key = f"ground_states.{name}"
        cluster = check_cluster(config, key, name)
        for j2 in gs["j2"]:
            check_j2(f"{key}.j2", j2)
        if gs["sectors"] != "all":
            _check_sectors(f"{key}.sectors", cluster, gs)
    for lattice, (lo, hi) in config["frustrated_regions"].items():
        if not lo < hi:
            raise ConfigError(f"frustrated_regions.{lattice}: lower end {lo} ≥ upper end {hi}")
    for name, exp in config["experiments"].items():
        check_experiment(config, f"experiments.{name}", exp)


def _check_sectors(key: str, cluster, gs: dict) -> None:
    from nqsgen.symmetry import cluster_group
    from nqsgen.symmetry.selection import resolve_symmetries, select_sectors

    symmetries = resolve_symmetries(gs["symmetries"], cluster.n_sites)
    if symmetries == "none":
        raise ConfigError(f"{key}: {gs['sectors']} applies to symmetric solves only (this "
                          f"cluster's symmetries resolve to none: set symmetries: full)")
    if gs["sectors"] == "trivial":
        return
    group = cluster_group(cluster, symmetries)
    try:
        select_sectors(group, gs["sectors"])
    except NqsgenError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def check_experiment(config: dict, key: str, exp: dict) -> None:
    for cluster in exp["clusters"]:
        check_cluster(config, f"{key}.clusters", cluster)
    for j2 in exp.get("j2") or []:
        check_j2(f"{key}.j2", j2)
    grids = exp.get("eps", 1.0)
    if isinstance(grids, dict):
        for cluster in grids:
            if cluster not in exp["clusters"]:
                raise ConfigError(f"{key}.eps.{cluster}: not one of this experiment's clusters")
        for cluster in exp["clusters"]:
            if cluster not in grids:
                raise ConfigError(f"{key}.eps: no εtrain grid for cluster {cluster}")
    for eps in eps_values(grids):
        check_eps(f"{key}.eps", eps)
    if exp["kind"] in ("j2_sweep", "capacity") and not exp.get("j2") and exp["enabled"]:
        for cluster in exp["clusters"]:
            if cluster not in config["ground_states"]:
                raise ConfigError(f"{key}.j2: not given, and cluster {cluster} has no "
                                  "ground_states entry to take its J2 grid from")


def check_config(config: dict) -> dict:
    """The validated configuration (defaults filled in, in place); :class:`ConfigError`
    naming the first bad key otherwise."""
    check_schema(config)
    check_semantics(config)
    return config
