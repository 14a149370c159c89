"""The pipeline record: what a checkpoint needs to turn raw keypoints into the model's input, typed.

Every method saves one under the checkpoint key ``"skelact"`` (DESIGN.md principle 6); `Predictor`, export
and `skelact test` read it back. `build_input_model` is the one function that turns a record into the
network (features + backbone), so training, prediction and export can never build it differently.

Deployment code imports this module, so it imports neither Lightning nor plotting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

import skelact
from skelact.data.clips import ClipSpec
from skelact.data.modalities import KEYPOINT
from skelact.errors import ConfigError, FormatError, SkelactError
from skelact.inference.checkpoint import load_checkpoint
from skelact.inference.compatibility import state_mismatch
from skelact.models.inputs.modality import ModalityFeatures, parse_modality
from skelact.models.registry import create_model
from skelact.skeleton.layout import Layout, get_layout

CHECKPOINT_KEY = "skelact"  # top-level checkpoint key of the record
RECORD_VERSION = 2  # 1: the untyped dict of skelact <= 0.1 (same keys, no "record_version"); still read
STATE_PREFIX = "net."  # the input model's parameters inside a method's state_dict


class InputModel(nn.Module):
    """Raw keypoints (N, M, T, V, C) → modality features → backbone logits.

    `embed` and `classify` are the two halves (timm's forward_features / forward_head split), so a method can
    act on the features in between (BRL's mixup) without re-writing the forward pass. A backbone that reads
    more sample modalities than keypoints (its ``inputs``, e.g. ``("keypoint", "rgb")``) gets them as keyword
    arguments, untouched: ``backbone(features(keypoint), rgb=...)``.
    """

    def __init__(self, features: nn.Module, backbone: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.backbone = backbone

    @property
    def inputs(self) -> tuple[str, ...]:
        """The sample modalities the network reads (the backbone's ``inputs``; keypoints by default)."""
        return tuple(getattr(self.backbone, "inputs", ("keypoint",)))

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """The sample modalities it reads besides keypoints."""
        return tuple(name for name in self.inputs if name != KEYPOINT)

    def batch_inputs(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The batch's tensors of `extra_inputs`; a missing one is one FormatError naming it."""
        missing = [name for name in self.extra_inputs if name not in batch]
        if missing:
            raise FormatError(
                f"the model reads sample modality {missing[0]!r}, which the batch lacks "
                f"(it holds {', '.join(sorted(batch))})",
                where="model input",
                hint="train and test through a SkeletonDataModule: it loads the modalities the model reads",
            )
        return {name: batch[name] for name in self.extra_inputs}

    def embed(self, keypoint: torch.Tensor) -> torch.Tensor:
        return self.features(keypoint)

    def classify(self, features: torch.Tensor, **modalities: torch.Tensor) -> torch.Tensor:
        return self.backbone(features, **modalities) if modalities else self.backbone(features)

    def forward(self, keypoint: torch.Tensor, **modalities: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embed(keypoint), **modalities)

    def pooled_features(self, keypoint: torch.Tensor, **modalities: torch.Tensor) -> torch.Tensor:
        """(N, num_features): the backbone's pooled embedding before its head (k-NN, probes, SSL)."""
        features = self.embed(keypoint)
        if modalities:
            return self.backbone.forward_features(features, **modalities)
        return self.backbone.forward_features(features)

    def clip_scores(
        self, clips: torch.Tensor, **modalities: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, K clips, M, T, V, C) → clip-averaged logits and softmax probabilities, each (N, classes).
        Other modalities come as (N, K, T, ...) and are flattened over N·K the same way."""
        n, k = clips.shape[:2]
        flat = {name: value.flatten(0, 1) for name, value in modalities.items()}
        return clip_average(self(clips.flatten(0, 1), **flat).view(n, k, -1))


def clip_average(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, K, classes) per-clip logits → (mean logits, mean of the clips' softmax), in float32.

    The multi-clip test of PYSKL/CTR-GCN averages probabilities; the mean logits go into score files for
    logit-level ensembles. The one place this is computed (tests, prediction, windows of a video).
    """
    logits = logits.float()
    return logits.mean(1), logits.softmax(-1).mean(1)


@dataclass(frozen=True)
class PipelineRecord:
    """Everything between a stored sample and the network's logits, as recorded at training time.

    Attributes:
        method: registry name of the method that trained the weights (`skelact.methods`).
        model, model_args: backbone registry name and builder arguments.
        layout: the skeleton (a `Layout.to_dict()`), so custom layouts travel with the checkpoint.
        modality: the feature streams computed from the keypoints, in channel order ("j", "b", ...).
        inputs: the sample modalities the model reads; ("keypoint",) for skeleton-only models.
        num_classes, class_names: the label space.
        num_channels: channels per joint the model takes (coordinates, + 1 with a score channel).
        num_coords: coordinates per joint (2 or 3).
        num_persons: persons per clip.
        clip: temporal sampling, normalisation, persons, score channel (`ClipSpec`).
        preset: the store's preprocessing preset (e.g. NTU ``ctrgcn``), reapplied to raw files at prediction.
        store, store_provenance: where the training data came from.
        extra: method facts that travel for reports (selection mode, precision, ...).
    """

    method: str
    model: str
    layout: Mapping[str, Any]
    num_classes: int
    num_channels: int
    num_coords: int
    num_persons: int
    class_names: tuple[str, ...]
    clip: ClipSpec
    modality: tuple[str, ...] = ("j",)
    inputs: tuple[str, ...] = ("keypoint",)
    model_args: Mapping[str, Any] = field(default_factory=dict)
    preset: str | None = None
    store: str | None = None
    store_provenance: Mapping[str, Any] = field(default_factory=dict)
    skelact_version: str = skelact.__version__
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modality", parse_modality(self.modality))
        object.__setattr__(self, "class_names", tuple(str(n) for n in self.class_names))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"{len(self.class_names)} class names for {self.num_classes} classes")
        if self.num_channels < self.num_coords:
            raise ConfigError(f"num_channels {self.num_channels} < num_coords {self.num_coords}")

    @property
    def score_channel(self) -> bool:
        return self.num_channels > self.num_coords

    def get_layout(self) -> Layout:
        return get_layout(dict(self.layout))

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint form: plain builtins only (checkpoints load with weights_only=True)."""
        return {
            "record_version": RECORD_VERSION,
            "skelact_version": self.skelact_version,
            "method": self.method,
            "model": self.model,
            "model_args": dict(self.model_args),
            "layout": dict(self.layout),
            "inputs": list(self.inputs),
            "modality": list(self.modality),
            "num_classes": self.num_classes,
            "num_channels": self.num_channels,
            "num_coords": self.num_coords,
            "num_persons": self.num_persons,
            "class_names": list(self.class_names),
            "data": {
                "clip": self.clip.to_dict(),
                "num_coords": self.num_coords,
                "preset": self.preset,
                "store": self.store,
                "store_provenance": dict(self.store_provenance),
            },
            **dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path = "checkpoint") -> PipelineRecord:
        """Read a record (this version's or the untyped one of version 1); a gap is one clear error."""
        version = data.get("record_version", 1)
        if not isinstance(version, int):
            raise FormatError(f"pipeline record version {version!r} is not a number", path=source)
        if version > RECORD_VERSION:
            raise FormatError(
                f"pipeline record version {version} is newer than this skelact reads ({RECORD_VERSION})",
                path=source,
                hint="upgrade skelact",
            )
        required = ("model", "layout", "num_classes", "num_channels", "num_coords", "num_persons")
        missing = [key for key in (*required, "data") if key not in data]
        stored = data.get("data")
        if missing or not isinstance(stored, Mapping) or "clip" not in stored:
            raise FormatError(
                f"pipeline record lacks {', '.join(missing) or 'data.clip'}",
                path=source,
                hint="was it written by `skelact fit`?",
            )
        own = {f.name for f in fields(cls)} | {"record_version", "data"}
        try:
            provenance = dict(stored.get("store_provenance") or {})
            return cls(
                method=str(data.get("method", "supervised")),
                model=str(data["model"]),
                model_args=dict(data.get("model_args") or {}),
                layout=dict(data["layout"]),
                modality=tuple(data.get("modality", ("j",))),
                inputs=tuple(data.get("inputs", ("keypoint",))),
                num_classes=int(data["num_classes"]),
                num_channels=int(data["num_channels"]),
                num_coords=int(data["num_coords"]),
                num_persons=int(data["num_persons"]),
                class_names=tuple(data.get("class_names") or [str(i) for i in range(data["num_classes"])]),
                clip=ClipSpec.from_dict(stored["clip"]),
                preset=stored.get("preset", provenance.get("preset")),
                store=stored.get("store"),
                store_provenance=provenance,
                skelact_version=str(data.get("skelact_version", "unknown")),
                extra={k: v for k, v in data.items() if k not in own},
            )
        except (SkelactError, TypeError, ValueError, AttributeError) as err:  # a value of the wrong type
            raise FormatError(f"bad pipeline record: {err}", path=source) from None


def build_input_model(record: PipelineRecord) -> InputModel:
    """The network a record describes, with fresh weights: features of the record's streams + backbone."""
    layout = record.get_layout()
    features = ModalityFeatures(
        layout, record.modality, num_coords=record.num_coords, score_channel=record.score_channel
    )
    backbone = create_model(
        record.model,
        layout=layout,
        in_channels=features.out_channels(record.num_channels),
        num_classes=record.num_classes,
        num_persons=record.num_persons,
        **dict(record.model_args),
    )
    return InputModel(features, backbone)


def read_record(checkpoint: Mapping[str, Any], source: str | Path = "checkpoint") -> PipelineRecord:
    """The pipeline record of a loaded checkpoint."""
    data = checkpoint.get(CHECKPOINT_KEY)
    if not data:
        raise FormatError(
            "checkpoint has no skelact pipeline record (was it written by skelact fit?)", path=source
        )
    if not isinstance(data, Mapping):
        raise FormatError(f"the pipeline record is a {type(data).__name__}, not a mapping", path=source)
    return PipelineRecord.from_dict(data, source)


def load_input_model(path: str | Path, map_location: str = "cpu") -> tuple[InputModel, PipelineRecord]:
    """The trained network of a checkpoint file and its record; the weights are checked key for key."""
    checkpoint = load_checkpoint(path, map_location)
    record = read_record(checkpoint, path)
    try:
        net = build_input_model(record)
    except SkelactError as err:  # an unknown model, a bad layout or argument in the record
        raise FormatError(
            f"the pipeline record does not build a model: {err.args[0]}", path=path, hint=err.hint
        ) from None
    state = {
        key.removeprefix(STATE_PREFIX): value
        for key, value in checkpoint["state_dict"].items()
        if key.startswith(STATE_PREFIX)
    }
    problem = state_mismatch(net.state_dict(), state)
    if problem:
        raise FormatError(f"the weights do not fit the recorded model {record.model!r}: {problem}", path=path)
    net.load_state_dict(state)
    return net.eval(), record
