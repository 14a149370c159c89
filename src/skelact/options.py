"""Typed option records: frozen dataclasses whose fields carry a type, a default and a help text.

A command's options are declared once, as fields; the CLI derives its flags from them
(`skelact.cli.options`) and Python callers build the records directly. Both get the same checks, made
here: lists become tuples and strings paths where the type says so, and choices are enforced. Messages
name an option by its field name in backticks (`` `val_fraction` ``), which the CLI shows as its flag.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from skelact.errors import ConfigError

SCALARS = (bool, int, float, str, Path)


def option(
    help: str,
    default: Any = dataclasses.MISSING,
    *,
    choices: Sequence[Any] | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    repeat: bool = False,
) -> Any:
    """A field with its help text; no `default` makes the option required.

    `help` describes the flag (for a bool that defaults to True, its ``--no-`` flag). `choices` is for
    values a registry decides (a `Literal` type says them otherwise); `flag` renames the flag when the
    field name cannot be it; `repeat` makes a tuple option a repeatable flag instead of one list.
    """
    given = None if choices is None else tuple(choices)
    metadata = {"help": help, "choices": given, "flag": flag, "metavar": metavar, "repeat": repeat}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One field as the CLI and the checks see it: the scalar type, whether None or many are allowed."""

    field: dataclasses.Field[Any]
    kind: type
    optional: bool
    container: type | None  # tuple or list for an option of many values
    choices: tuple[Any, ...] | None

    @property
    def many(self) -> bool:
        return self.container is not None

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def required(self) -> bool:
        return self.field.default is dataclasses.MISSING and self.field.default_factory is dataclasses.MISSING

    @property
    def default(self) -> Any:
        return None if self.required else self.field.default

    @property
    def help(self) -> str:
        return str(self.field.metadata.get("help", ""))

    def meta(self, key: str) -> Any:
        return self.field.metadata.get(key)


@functools.cache
def option_specs(cls: type) -> tuple[OptionSpec, ...]:
    """The fields of the options class `cls`, in declaration order (bases first), with resolved types."""
    hints = typing.get_type_hints(cls)
    return tuple(_spec(f, hints[f.name], cls) for f in dataclasses.fields(cls) if f.init)


def _spec(field: dataclasses.Field[Any], hint: Any, cls: type) -> OptionSpec:
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        (hint,) = [a for a in args if a is not type(None)]
    container = typing.get_origin(hint) if typing.get_origin(hint) in (tuple, list) else None
    if container is not None:
        hint = typing.get_args(hint)[0]
    choices = field.metadata.get("choices")
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        hint = type(choices[0])
    if hint not in SCALARS:
        raise TypeError(f"{cls.__name__}.{field.name}: option type {hint!r} is not supported")
    return OptionSpec(field, hint, optional, container, choices)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """Base of every option record: coerces and checks the fields; subclasses add cross-field checks
    in their own ``__post_init__`` (calling this one first)."""

    def __post_init__(self) -> None:
        for spec in option_specs(type(self)):
            value = getattr(self, spec.name)
            if value is None:
                continue
            value = _coerce(spec, value)
            object.__setattr__(self, spec.name, value)
            for item in value if spec.many else (value,):
                if spec.choices is not None and item not in spec.choices:
                    raise ConfigError(
                        f"`{spec.name}` must be one of {', '.join(map(str, spec.choices))}, got {item!r}"
                    )


def _coerce(spec: OptionSpec, value: Any) -> Any:
    def one(item: Any) -> Any:
        return Path(item) if spec.kind is Path and isinstance(item, str) else item

    if spec.container is not None:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ConfigError(f"`{spec.name}` takes a sequence of values, got {value!r}")
        return spec.container(one(item) for item in value)
    return one(value)
