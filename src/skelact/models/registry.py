"""Model registry: a plain dict of builders filled by a decorator (DESIGN.md principle 5).

Every builder takes the keyword-only arguments ``layout``, ``in_channels``, ``num_classes`` and
``num_persons`` plus its own options. `create_model` checks option names against the builder's signature,
so a typo in a config is an error that lists the accepted names, never a silently ignored setting.

A builder is thin: ``@builds(CTRGCN)`` gives ``def ctrgcn(**kwargs): return CTRGCN(**kwargs)`` the class's
signature, so every constructor argument is reachable through `create_model` and a model's ``model_args``
without repeating (and drifting from) the class's parameter list; the builder keeps the documentation a
reader looks for (parameter counts, cost, which defaults match which paper).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from skelact.errors import ConfigError
from skelact.skeleton import Layout, get_layout

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])

_MODELS: dict[str, Callable[..., nn.Module]] = {}
COMMON_ARGS = ("layout", "in_channels", "num_classes", "num_persons")


def _parameters(builder: Callable[..., Any]) -> tuple[set[str], bool]:
    """Keyword names the builder accepts, and whether it takes **kwargs."""
    params = inspect.signature(builder).parameters.values()
    names = {
        p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    }
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def builds(cls: type[nn.Module], **fixed: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a thin builder the keyword-only signature of `cls`'s constructor, less the `fixed` arguments,
    which the builder always receives (a variant such as ``psumnet_hand`` fixing ``part="hand"``)."""
    init = inspect.signature(cls).parameters.values()
    params = [
        p.replace(kind=p.KEYWORD_ONLY)
        for p in init
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in fixed
    ]
    if unknown := sorted(set(fixed) - {p.name for p in init}):
        raise ConfigError(f"{cls.__name__} has no argument {unknown[0]!r} to fix")

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(builder)
        def build(**kwargs: Any) -> Any:
            return builder(**fixed, **kwargs)

        build.__signature__ = inspect.Signature(params, return_annotation=cls.__name__)  # type: ignore[attr-defined]
        return build

    return decorator


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder function or an `nn.Module` class under `name`."""

    def decorator(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ConfigError(f"model {name!r} is registered twice")
        names, var_kw = _parameters(builder)
        if missing := [a for a in COMMON_ARGS if a not in names and not var_kw]:
            raise ConfigError(f"model builder {name!r} must accept {', '.join(missing)}")
        _MODELS[name] = builder
        return builder

    return decorator


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_options(name: str) -> list[str]:
    """The model-specific keyword arguments `create_model(name, ...)` accepts."""
    names, _ = _parameters(_get_builder(name))
    return sorted(names - set(COMMON_ARGS))


def _get_builder(name: str) -> Callable[..., nn.Module]:
    try:
        return _MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}", hint=f"known models: {', '.join(list_models()) or 'none'}"
        ) from None


def create_model(
    name: str,
    *,
    layout: Layout | str,
    in_channels: int,
    num_classes: int,
    num_persons: int = 2,
    **kwargs: Any,
) -> nn.Module:
    """Build a registered model; `layout` may be a name, a `Layout` or its dict form."""
    builder = _get_builder(name)
    names, var_kw = _parameters(builder)
    if not var_kw and (unknown := sorted(set(kwargs) - names)):
        accepted = ", ".join(sorted(names - set(COMMON_ARGS))) or "none"
        raise ConfigError(
            f"model {name!r} got unexpected argument {unknown[0]!r}", hint=f"accepted arguments: {accepted}"
        )
    return builder(
        layout=get_layout(layout),
        in_channels=in_channels,
        num_classes=num_classes,
        num_persons=num_persons,
        **kwargs,
    )
