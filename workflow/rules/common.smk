# Shared definitions (no rules): configuration validation, wildcard constraints and the input,
# params and resource functions of the rules.  The logic lives in the package: nqsgen.config
# (models, schema, validation), nqsgen.plan (targets, runs, resources), nqsgen.paths (layout).

import os
import sys
from pathlib import Path

# The package lives in src/ of this checkout.  The project environment has it installed
# (editable); conda environments (envs/*.yaml) cannot install it, so the workflow puts src/
# first on this process's sys.path and on the PYTHONPATH every job inherits.
NQSGEN_SRC = str(Path(workflow.basedir) / "src")
if NQSGEN_SRC not in sys.path:
    sys.path.insert(0, NQSGEN_SRC)
if NQSGEN_SRC not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ.update(
        PYTHONPATH=os.pathsep.join(filter(None, [NQSGEN_SRC, os.environ.get("PYTHONPATH")]))
    )

from nqsgen import architectures, paths  # noqa: E402
from nqsgen.tables import CaptionTable  # noqa: E402
from nqsgen.config.validate import check_config, typed_overrides  # noqa: E402
from nqsgen.errors import ConfigError  # noqa: E402
from nqsgen.plan import Plan  # noqa: E402
from nqsgen.publish import OLD_TAG, TMP_TAG  # noqa: E402
from snakemake.utils import update_config  # noqa: E402


# ----------------------------------------------------------------------------- config
# `--config key=value` arrives as strings (YAML base loader): read the overrides as YAML
# scalars again.  Every error is ONE line naming its key (SystemExit prints just that).
update_config(config, typed_overrides(dict(workflow.config_settings.config)))
try:
    check_config(config)
except ConfigError as exc:
    merged = workflow.config_settings.configfiles and not getattr(
        workflow.config_settings, "replace_workflow_config", False)
    hint = (" (--configfile is merged key by key into config/config.yaml; add "
            "--replace-workflow-config to use only your file)") if merged else ""
    raise SystemExit(f"config error: {exc}{hint}")
PLAN = Plan(config)


# ----------------------------------------------------------------------------- wildcards
# Only values a target can mean: a configured or catalogue cluster, J2 and εtrain exactly as
# nqsgen.paths writes them (format(x, "g")), εtrain in (0, 1].
wildcard_constraints:
    cluster="|".join(PLAN.clusters),
    j2=r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?(?:e[-+][0-9]+)?",
    eps=r"1|0\.[0-9]*[1-9][0-9]*|[1-9](?:\.[0-9]*[1-9])?e-[0-9]+",
    seed=r"[0-9]+",
    target=r"sign|amplitude",
    arch=paths.arch_pattern(architectures.names()),  # a name, or a width label dense2-w64


# ----------------------------------------------------------------------------- functions
def stale(wildcards, output):
    """Globs of the temporaries a killed publication of this job's output directory left
    (nqsgen.publish), removed before the job starts."""
    parent, name = os.path.split(os.path.dirname(output[0]))
    return f"{parent}/.{name}{TMP_TAG}* {parent}/.{name}{OLD_TAG}*"


def output_dir(wildcards, output):
    return os.path.dirname(output[0])


def ground_state_dir(wildcards, input):
    return os.path.dirname(input.ground_state)


def run_dirs(wildcards, output):
    """An ensemble's run directories (derived from its outputs, so not a rerun trigger)."""
    return " ".join(os.path.dirname(f) for f in output.metrics)


def ground_state_flags(wildcards, input):
    return " ".join(f"--ground-state {os.path.dirname(f)}" for f in input.ground_states)


def ground_state_mem_mb(wildcards, attempt):
    return PLAN.ground_state_mem_mb(wildcards, attempt)


def ground_state_runtime(wildcards, attempt):
    return PLAN.ground_state_runtime(wildcards, attempt)


def train_mem_mb(wildcards, attempt):
    return PLAN.run_mem_mb("train", wildcards, attempt)


def vmc_mem_mb(wildcards, attempt):
    return PLAN.run_mem_mb("vmc", wildcards, attempt)


def train_runtime(wildcards, attempt):
    return PLAN.runtime("train", attempt)


def vmc_runtime(wildcards, attempt):
    return PLAN.runtime("vmc", attempt)


def caption_table(wildcards):
    """The experiment's tables, read when the report is rendered (a custom object: not a
    rerun trigger)."""
    return CaptionTable(paths.TABLE.format(experiment=wildcards.experiment))
