"""The JSON schema of the workflow configuration, generated from the typed models of
:mod:`nqsgen.config.workflow` (the one source) and written to
``workflow/schemas/config.schema.yaml`` for the workflow, editors and readers::

    python -m nqsgen.config.schema [--check] [PATH]

``--check`` exits with status 1 when the file differs from what the models generate (a test
runs it).  pydantic's schema is adapted to what a configuration file needs:

* dictionaries keyed by names validate the names (``propertyNames``) and reject nothing else
  silently (``additionalProperties`` holds the value schema);
* optional fields (``X | None``, unset = derived by the stage) are plain ``X`` without a
  default, and so are the stage hyper-parameters of ``train``/``vmc``: the workflow passes a
  job only the flags the configuration sets, the stage supplies the rest (its defaults are in
  the descriptions);
* experiments are selected by ``kind`` (``if``/``then`` per kind, so that an error is reported
  against the kind's own keys);
* sections default to ``{}`` (their fields' defaults then apply); titles are dropped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from nqsgen.config.hyperparameters import TrainSettings, VmcSettings
from nqsgen.config.workflow import KINDS, WorkflowConfig

SCHEMA_PATH = Path("workflow/schemas/config.schema.yaml")  # relative to the repository root
HEADER = ("# Generated from nqsgen.config.workflow by `python -m nqsgen.config.schema`: edit the "
          "models, not this file.\n")


def _strip(node):
    """Drop titles, unwrap ``X | None``, and rewrite name-keyed dictionaries (recursively)."""
    if isinstance(node, list):
        return [_strip(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strip(v) for k, v in node.items() if k != "title"}
    options = node.get("anyOf")
    if options and {"type": "null"} in options and len(options) == 2:
        (inner,) = [o for o in options if o != {"type": "null"}]
        node = {**{k: v for k, v in node.items() if k not in ("anyOf", "default")}, **inner}
    if "patternProperties" in node:
        ((pattern, value),) = node.pop("patternProperties").items()
        node["propertyNames"] = {"pattern": pattern}
        node["additionalProperties"] = value
    return node


def _default_note(description: str, default) -> str:
    if "(default" in description or default is None:
        return description
    shown = f"{default:g}" if isinstance(default, float) else default
    return f"{description} (default {shown})"


def _stage_defaults_to_descriptions(section: dict, model) -> None:
    for name in model.model_fields:
        prop = section["properties"][name]
        prop["description"] = _default_note(prop.get("description", ""), prop.pop("default",
                                                                                  None))


def _experiment_by_kind(schema: dict) -> dict:
    refs = {kind: f"#/$defs/{model.__name__}" for kind, model in KINDS.items()}
    return {
        "type": "object",
        "description": "One study and its figure results/figures/<name>.pdf; `kind` selects "
                       "its keys: clusters (Fig. 1), j2_sweep (Figs. 2 and 4), eps_sweep "
                       "(Fig. 3), scaling (Fig. 5).",
        "required": ["kind"],
        "properties": {"kind": {"type": "string", "enum": list(KINDS)}},
        "allOf": [{"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                   "then": {"$ref": ref}} for kind, ref in refs.items()],
    }


def json_schema() -> dict:
    """The configuration's JSON schema (draft 2020-12)."""
    schema = _strip(WorkflowConfig.model_json_schema(mode="validation"))
    defs = schema["$defs"]
    _stage_defaults_to_descriptions(defs["TrainSection"], TrainSettings)
    _stage_defaults_to_descriptions(defs["VmcSection"], VmcSettings)
    defs["EpsSweepExperiment"]["properties"]["kind"] = {"type": "string",
                                                        "enum": ["eps_sweep", "scaling"]}
    defs["Experiment"] = _experiment_by_kind(schema)
    schema["properties"]["experiments"]["additionalProperties"] = {"$ref": "#/$defs/Experiment"}
    for name, prop in schema["properties"].items():
        if name not in schema.get("required", []) and "default" not in prop:
            prop["default"] = WorkflowConfig().model_dump(mode="json")[name] \
                if name == "frustrated_regions" else {}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "nqsgen workflow configuration", **schema}


def render() -> str:
    return HEADER + yaml.safe_dump(json_schema(), sort_keys=False, allow_unicode=True,
                                   width=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m nqsgen.config.schema", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", default=str(SCHEMA_PATH))
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    args = p.parse_args(argv)
    text, path = render(), Path(args.path)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m nqsgen.config.schema", file=sys.stderr)
            return 1
        return 0
    from nqsgen.publish import write_text

    write_text(path, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
