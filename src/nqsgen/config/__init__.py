"""Configuration as package code: typed hyper-parameters of the stages, the workflow
configuration model, its JSON schema and the YAML files they are read from.

* :mod:`~nqsgen.config.files` — reading YAML (one-line errors with file, line and column);
* :mod:`~nqsgen.config.hyperparameters` — :class:`TrainSettings`, :class:`VmcSettings`;
* :mod:`~nqsgen.config.cli` — command-line flags derived from a settings model, and back;
* :mod:`~nqsgen.config.workflow` — the workflow configuration (``config/config.yaml``);
* :mod:`~nqsgen.config.schema` — its JSON schema, generated from the models.
"""

from nqsgen.config.files import load_cluster_specs, load_yaml
from nqsgen.config.hyperparameters import TrainSettings, VmcSettings

__all__ = ["TrainSettings", "VmcSettings", "load_cluster_specs", "load_yaml"]
