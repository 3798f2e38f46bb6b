"""Command-line flags from a settings model (:mod:`nqsgen.config.hyperparameters`), and back.

A field ``batch_size`` is the flag ``--batch-size``; its type, choices, default and help text
come from the model.  :func:`settings_from` validates the parsed values through the model, so
a value out of range is a one-line :class:`~nqsgen.errors.ConfigError` naming the flag.
:func:`flags` renders a workflow section (a mapping of field names) as the flags of a job.
"""

from __future__ import annotations

import argparse
import types
import typing

from pydantic import BaseModel, ValidationError

from nqsgen.errors import ConfigError


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(annotation):
    """(python type, choices) of a field annotation (Optional and Literal unwrapped)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return type(args[0]), list(args)
    return annotation, None


def _help(info) -> str:
    text = info.description or ""
    if info.default is not None and "(default" not in text:
        text += f" (default {info.default:g})" if isinstance(info.default, float) else \
            f" (default {info.default})"
    return text


def add_arguments(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    """Add one flag per field of ``model`` (defaults left to the model: unset flags are None)."""
    group = parser.add_argument_group(f"{model.__name__} (hyper-parameters)")
    for name, info in model.model_fields.items():
        kind, choices = _base_type(info.annotation)
        group.add_argument(flag(name), dest=name, type=kind if kind is not str else None,
                           choices=choices, default=None, help=_help(info),
                           metavar=None if choices else kind.__name__.upper())


def settings_from(args: argparse.Namespace, model: type[BaseModel]):
    """The ``model`` instance of the flags given in ``args`` (unset ones take the defaults)."""
    values = {name: getattr(args, name) for name in model.model_fields
              if getattr(args, name, None) is not None}
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        value = values.get(name, error.get("input"))
        raise ConfigError(f"{flag(name)} {value}: {error['msg'].lower()}") from None


def flags(section: dict, model: type[BaseModel]) -> str:
    """``--name value`` for every field of ``model`` that ``section`` sets (in model order)."""
    return " ".join(f"{flag(name)} {section[name]}" for name in model.model_fields
                    if section.get(name) is not None)
