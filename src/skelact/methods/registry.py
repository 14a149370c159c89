"""Methods by name: the plug-in point of `skelact fit | validate | test` (DESIGN.md principle 5).

A method is a `LightningModule` class registered with `@register_method("name")` in its own module under
`skelact/methods/`; every module of that package is imported on the first lookup, so adding a method is
adding one module (and its configs), nothing else. A config or the command line chooses it with
``method: name``. A method outside skelact is named by its import path, ``method: my_package.module:Class``:
that module is imported by name, no code is evaluated.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TypeVar

import lightning as L

from skelact.errors import ConfigError

DEFAULT_METHOD = "supervised"

M = TypeVar("M", bound=type[L.LightningModule])
_METHODS: dict[str, type[L.LightningModule]] = {}
_loaded = False


def register_method(name: str) -> Callable[[M], M]:
    """Class decorator: register a LightningModule as method `name`."""

    def decorate(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, L.LightningModule)):
            raise ConfigError(f"method {name!r} must be a LightningModule class, got {cls!r}")
        if name in _METHODS and _METHODS[name] is not cls:
            raise ConfigError(f"method {name!r} is registered twice")
        _METHODS[name] = cls
        cls.method_name = name  # type: ignore[attr-defined]  # recorded in checkpoints
        return cls

    return decorate


def load_methods() -> dict[str, type[L.LightningModule]]:
    """Import every module of the `skelact.methods` package once; returns the registry."""
    global _loaded
    if not _loaded:
        import skelact.methods as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _loaded = True
    return _METHODS


def list_methods() -> list[str]:
    return sorted(load_methods())


def get_method(name: str) -> type[L.LightningModule]:
    """The class of method `name`, or of an import path ``package.module:Class``."""
    if ":" in name:
        return _import_method(name)
    methods = load_methods()
    if name not in methods:
        raise ConfigError(
            f"unknown method {name!r}",
            hint=f"registered methods: {', '.join(sorted(methods))}; or name one as package.module:Class",
        )
    return methods[name]


def _import_method(path: str) -> type[L.LightningModule]:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise ConfigError(f"method {path!r}: cannot import {err.name!r}") from None
    cls = getattr(module, attribute, None)
    if not (isinstance(cls, type) and issubclass(cls, L.LightningModule)):
        raise ConfigError(f"method {path!r} is not a LightningModule class")
    return cls
