"""Temporal encoders: per-modality networks that keep time, (B, T', D), for multi-modal models.

M-Mixer and the feature-concatenation baseline (specs/mmixer.md sections 5.1 and 9) take one feature
sequence per modality. An encoder is an `nn.Module` with

- ``reads``: the sample modalities it needs (``("keypoint",)`` for skeleton-derived encoders, ``("rgb",)`` for
  video frames; `skelact.data.modalities`);
- ``out_dim``: the width D of its output;
- ``forward(inputs)``: ``inputs["keypoint"]`` is the model's keypoint input (B, M, T, V, C) and any other key
  a batch modality with the clip axis already flattened, (B, T, ...); returns (B, T', out_dim).

Encoders are found by name in a plain registry. A multi-modal model builds each of its modalities from a
spec ``{"encoder": NAME, **options}`` (`build_encoder`): the options go to the encoder strictly (a typo is an
error listing the accepted names), while the model's own facts (`context`: layout, coordinates, score
channel, persons) reach only the encoders whose constructor asks for them, so an RGB encoder needs none.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from torch import Tensor, nn

from skelact.errors import ConfigError

Encoder = TypeVar("Encoder", bound=Callable[..., nn.Module])
KEYPOINT = "keypoint"


@runtime_checkable
class TemporalEncoder(Protocol):
    """What a temporal encoder provides (the class attributes and the forward of the module docstring)."""

    reads: tuple[str, ...]
    out_dim: int

    def __call__(self, inputs: Mapping[str, Tensor]) -> Tensor: ...


_ENCODERS: dict[str, Callable[..., nn.Module]] = {}


def register_temporal_encoder(name: str) -> Callable[[Encoder], Encoder]:
    """Decorator registering an encoder class (or builder) under `name`."""

    def decorator(builder: Encoder) -> Encoder:
        if name in _ENCODERS:
            raise ConfigError(f"temporal encoder {name!r} is registered twice")
        _ENCODERS[name] = builder
        return builder

    return decorator


def list_temporal_encoders() -> list[str]:
    return sorted(_ENCODERS)


def _builder(name: str) -> Callable[..., nn.Module]:
    try:
        return _ENCODERS[name]
    except KeyError:
        known = ", ".join(list_temporal_encoders()) or "none"
        raise ConfigError(f"unknown temporal encoder {name!r}", hint=f"known encoders: {known}") from None


def _accepted(builder: Callable[..., Any]) -> tuple[set[str], bool]:
    """The keyword names `builder` takes, and whether it takes any (**kwargs)."""
    if isinstance(builder, type) and builder.__init__ is nn.Module.__init__:
        return set(), False  # a module without its own constructor: torch's (*args, **kwargs) takes nothing
    params = inspect.signature(builder).parameters.values()
    names = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return names - {"self"}, any(p.kind is p.VAR_KEYWORD for p in params)


def build_temporal_encoder(name: str, **kwargs: Any) -> nn.Module:
    """The encoder `name` built with `kwargs`; an unknown name or option is one ConfigError."""
    builder = _builder(name)
    names, var_kw = _accepted(builder)
    if not var_kw and (unknown := sorted(set(kwargs) - names)):
        raise ConfigError(
            f"temporal encoder {name!r} got unexpected option {unknown[0]!r}",
            hint=f"accepted options: {', '.join(sorted(names)) or 'none'}",
        )
    encoder = builder(**kwargs)
    for attribute in ("reads", "out_dim"):
        if not hasattr(encoder, attribute):
            raise ConfigError(
                f"temporal encoder {name!r} lacks the {attribute!r} attribute (TemporalEncoder)"
            )
    return encoder


def build_encoder(spec: Mapping[str, Any], context: Mapping[str, Any], where: str) -> nn.Module:
    """The encoder of a model's modality spec ``{"encoder": NAME, **options}``; `context` fills the
    arguments the encoder's constructor takes and the spec leaves unset. `where` names the spec in errors."""
    if not isinstance(spec, Mapping) or "encoder" not in spec:
        raise ConfigError(f"{where} must be a mapping with an 'encoder' name, got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "encoder"}
    name = str(spec["encoder"])
    try:
        names, var_kw = _accepted(_builder(name))
        shared = {k: v for k, v in context.items() if (k in names or var_kw) and k not in options}
        return build_temporal_encoder(name, **shared, **options)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err.args[0]}", hint=err.hint) from None
