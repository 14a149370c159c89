"""Flags from option records (`skelact.options`): ``train_views`` becomes ``--train-views``, and back.

The flags are derived, never written by hand, so a command's flags, their defaults, choices and help can
not drift from what the Python API accepts.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from typing import Any

from skelact.errors import ConfigError, SkelactError
from skelact.options import OptionSpec, option_specs

_NAMED_OPTION = re.compile(r"`([a-z_][a-z0-9_]*)`")


def flag_of(spec: OptionSpec) -> str:
    """``--name-with-dashes``; ``--no-name`` for a bool that defaults to True; or the field's own `flag`."""
    if spec.meta("flag"):
        return str(spec.meta("flag"))
    dashed = spec.name.replace("_", "-")
    return f"--no-{dashed}" if spec.kind is bool and spec.default is True else f"--{dashed}"


def add_option_flags(parser: argparse.ArgumentParser, *classes: type) -> None:
    """One flag per field of `classes`, required ones first. A field that several classes inherit from
    one base is one flag that fills all of them (e.g. the seed shared by the runner and a split rule)."""
    seen: dict[str, Any] = {}
    for cls in classes:
        for spec in sorted(option_specs(cls), key=lambda s: not s.required):
            if spec.name in seen:
                if seen[spec.name] is not spec.field:
                    raise ConfigError(f"option {spec.name!r} is declared twice, in different classes")
                continue
            seen[spec.name] = spec.field
            parser.add_argument(flag_of(spec), **_argument(spec))


def _argument(spec: OptionSpec) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dest": spec.name, "help": spec.help.replace("%", "%%")}
    if spec.kind is bool and not spec.many:
        kwargs.update(action="store_false" if spec.default is True else "store_true", default=spec.default)
        return kwargs
    if spec.kind is not str:
        kwargs["type"] = spec.kind
    if spec.choices is not None:
        kwargs["choices"] = spec.choices
    if spec.meta("metavar") or spec.choices is None:  # argparse shows choices as {a,b}; else name as the flag
        kwargs["metavar"] = spec.meta("metavar") or flag_of(spec).lstrip("-").replace("-", "_").upper()
    if spec.many:
        kwargs["action" if spec.meta("repeat") else "nargs"] = "append" if spec.meta("repeat") else "+"
    if spec.required:
        kwargs["required"] = True
    else:  # argparse appends to a list default in place: a repeatable flag starts from None
        kwargs["default"] = None if spec.meta("repeat") else spec.default
    return kwargs


def options_from_namespace(cls: type, namespace: argparse.Namespace) -> Any:
    """Build `cls` from parsed flags; a flag left out (None) keeps the field's default."""
    values = {}
    for spec in option_specs(cls):
        value = getattr(namespace, spec.name)
        if value is not None or spec.default is None:
            values[spec.name] = value
    return cls(**values)


def flag_names(*classes: type) -> dict[str, str]:
    """Field name -> flag, for every option of `classes`."""
    return {spec.name: flag_of(spec) for cls in classes for spec in option_specs(cls)}


def show_flags(err: SkelactError, flags: Mapping[str, str]) -> None:
    """Rewrite the option names an error quotes (`` `field` ``) as the flags that set them, in place."""

    def render(text: str) -> str:
        return _NAMED_OPTION.sub(lambda m: flags.get(m.group(1), m.group(0)), text)

    if err.args and isinstance(err.args[0], str):
        err.args = (render(err.args[0]), *err.args[1:])
    if err.hint:
        err.hint = render(err.hint)
