"""STRL fine-tuning (SkeletonMAE's downstream protocol, specs/skeletonmae.md sections 10-12): the STRL
network (`skelact.models.backbones.strl`) with its joint embedding and every encoder copy initialised from a
SkeletonMAE pre-training, then trained end to end with labels.

    skelact fit --method strl --model.pretrained runs/mae/version_0/checkpoints/last.ckpt ...
    skelact fit --method strl --model.pretrained ... --model.encoder_init random   # the ablation row

The encoder's options (embedding width, GIN widths and layers, coordinates) are read from the pre-training's
record, so STRL always fits the checkpoint; `encoder_init: random` keeps that architecture and skips the
weights (the paper's "randomly initialised SkeletonMAE" row). Without `pretrained` the encoder options come
from `model_args` and the start is random too.

The defaults are the paper's recipe, InfoGCN's: SGD (momentum 0.9, Nesterov, weight decay 5e-4 [design
choice]), lr 0.1, 5 warm-up epochs, ×0.1 at epochs 90 and 100 (110 epochs: `trainer.max_epochs`), label
smoothing 0.1, batch 128 (`data.batch_size`). The test report carries top-1 and mean class accuracy.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, ClassVar, Literal

from skelact.errors import ConfigError
from skelact.inference.pipeline import PipelineRecord
from skelact.methods.pretrained import load_pretrained_encoder
from skelact.methods.probe import check_transferable
from skelact.methods.registry import register_method
from skelact.methods.supervised import DATA_FACTS, SupervisedClassifier
from skelact.models.backbones.skeletonmae import ENCODER_ARGS, SkeletonMAEEncoder
from skelact.models.backbones.strl import STRL


@register_method("strl")
class STRLFineTune(SupervisedClassifier):
    """STRL trained with labels, its encoders from a SkeletonMAE checkpoint (module docstring).

    Args:
        pretrained: a `--method skeletonmae` checkpoint; None: no pre-training (random encoders).
        encoder_init: "pretrained" (load the encoder) or "random" (the checkpoint's architecture only).
        model_args: `strl` options (num_layers, max_frames, pool_scales, mlp_hidden, ...); the encoder's
            options come from the checkpoint and may only repeat its values.
        Others: as `SupervisedClassifier`, with the recipe's defaults.
    """

    linked_from_data: ClassVar[dict[str, str]] = DATA_FACTS

    def __init__(
        self,
        pretrained: str | None = None,
        encoder_init: Literal["pretrained", "random"] = "pretrained",
        model_args: dict[str, Any] | None = None,
        layout: str | dict[str, Any] = "coco17",
        num_classes: int = 60,
        num_channels: int = 2,
        num_coords: int = 2,
        num_persons: int = 2,
        class_names: list[str] | None = None,
        augment: dict[str, float | list[float]] | None = None,
        lr: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        schedule: Literal["cosine", "step", "constant"] = "step",
        warmup_epochs: float = 5.0,
        milestones: list[int] | None = None,
        gamma: float = 0.1,
        label_smoothing: float = 0.1,
        augment_seed: int = 0,
        report_dir: str | None = None,
        select_on: Literal["val", "last", "test_optimistic"] = "last",
        report_worst: int = 0,
    ) -> None:
        if encoder_init not in ("pretrained", "random"):
            raise ConfigError(f"encoder_init must be 'pretrained' or 'random', got {encoder_init!r}")
        args = {"coords": num_coords, **(model_args or {})}
        encoder_state = None
        if pretrained is not None:
            encoder, record = load_pretrained_encoder(pretrained)
            if not isinstance(encoder.backbone, SkeletonMAEEncoder):
                raise ConfigError(
                    f"{pretrained}: STRL loads a SkeletonMAE encoder, this checkpoint holds {record.model!r}",
                    hint="give a checkpoint of `skelact fit --method skeletonmae`",
                )
            check_transferable(record, layout, num_channels, pretrained)
            args = _with_encoder_args(args, dict(record.model_args), pretrained)
            encoder_state = encoder.backbone.state_dict()
        # The parent builds the network from its hyper-parameters, where this frame's `model_args` (the
        # user's) wins over the argument passed below: `_record` substitutes the resolved ones.
        object.__setattr__(self, "_resolved_model_args", args)
        super().__init__(
            model="strl",
            model_args=args,
            layout=layout,
            num_classes=num_classes,
            num_channels=num_channels,
            num_coords=num_coords,
            num_persons=num_persons,
            class_names=class_names,
            modality="j",
            augment=augment,
            optimizer="sgd",
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            schedule=schedule,
            warmup_epochs=warmup_epochs,
            milestones=milestones if milestones is not None else [90, 100],
            gamma=gamma,
            label_smoothing=label_smoothing,
            augment_seed=augment_seed,
            report_dir=report_dir,
            select_on=select_on,
            report_worst=report_worst,
        )
        # The parent's save_hyperparameters() kept this frame's values where names overlap: record the
        # resolved ones, which the schedule reads.
        self.hparams["model_args"] = args
        self.hparams["milestones"] = list(self.hparams.milestones or [90, 100])
        if encoder_state is not None and encoder_init == "pretrained":
            self.strl.load_skeletonmae_encoder(encoder_state)

    def _record(self, clip: Any, **data: Any) -> PipelineRecord:
        record = super()._record(clip, **data)
        return dataclasses.replace(record, model_args=dict(self._resolved_model_args))

    @property
    def strl(self) -> STRL:
        backbone = self.net.backbone
        assert isinstance(backbone, STRL)
        return backbone

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Saves only this class's own arguments as hyper-parameters (the parent records `model` too), so
        `skelact test --ckpt_path` can rebuild this class from them."""
        super().on_save_checkpoint(checkpoint)
        own = inspect.signature(type(self).__init__).parameters
        saved = checkpoint.get("hyper_parameters")
        if saved:
            checkpoint["hyper_parameters"] = {k: v for k, v in saved.items() if k in own or k.startswith("_")}


def _with_encoder_args(args: dict[str, Any], recorded: dict[str, Any], source: str) -> dict[str, Any]:
    """STRL's options with the pre-trained encoder's; one clear error where the user set another value."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(SkeletonMAEEncoder).parameters.items()
        if name in ENCODER_ARGS
    }
    merged = dict(args)
    for name in ENCODER_ARGS:
        value = recorded.get(name, defaults[name])
        if name in args and args[name] != value and not (name == "coords" and name not in recorded):
            raise ConfigError(
                f"model_args.{name} = {args[name]!r} but {source} was pre-trained with {value!r}",
                hint=f"leave model_args.{name} out: STRL takes the encoder's options from the checkpoint",
            )
        merged[name] = value
    return merged
