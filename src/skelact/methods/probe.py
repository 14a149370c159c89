"""Evaluating a pre-trained encoder: linear probing and fine-tuning (semi-supervised, transfer).

Both start from a skelact checkpoint (a self-supervised pre-training, or any supervised run), rebuild its
encoder from the checkpoint's pipeline record, load its weights and put a new classification head on top for
the store being trained on:

- ``linear``: the encoder is frozen *and kept in eval mode* (BatchNorm statistics frozen, as CMD/HaLP's linear
  evaluation does); only the new fc (2048 -> classes, N(0, 0.01), bias 0) learns.
- ``finetune``: the whole network learns (CMD's semi-supervised and transfer protocols).

Which encoder, modality and model options were used is read from the checkpoint, so a probe config names only
`pretrained` and the training recipe. The test split is evaluated every `eval_every` epochs: the best of those
evaluations is what CMD and HaLP report (optimistic); the last epoch is skelact's headline number, and the
test report records both (specs/halp.md §6).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal

from lightning.pytorch.callbacks import Callback

from skelact.errors import ConfigError
from skelact.evaluation.protocol_table import write_protocol_table
from skelact.inference.pipeline import (
    InputModel,
    PipelineRecord,
    load_checkpoint,
    load_input_model,
    read_record,
)
from skelact.methods.moco import PRETRAINING_KEY
from skelact.methods.optimistic_test import OptimisticTestTop1
from skelact.methods.pretrained import load_pretrained_encoder
from skelact.methods.registry import register_method
from skelact.methods.supervised import DATA_FACTS, SupervisedClassifier
from skelact.methods.test_report import find_test_report
from skelact.skeleton.layout import get_layout


def load_pretrained(path: str) -> tuple[InputModel, PipelineRecord]:
    """The encoder network (`InputModel`) and pipeline record of a skelact checkpoint, weights loaded: the
    query encoder of a contrastive pre-training (MoCo, HaLP), or the network of any supervised run."""
    record = read_record(load_checkpoint(path), path)
    if record.extra.get(PRETRAINING_KEY):
        return load_pretrained_encoder(path)
    return load_input_model(path)


def check_transferable(record: PipelineRecord, layout: Any, num_channels: int, source: str) -> None:
    """One clear error when the pre-trained encoder cannot read the store's samples."""
    theirs, ours = get_layout(record.layout), get_layout(layout)
    if theirs.name != ours.name or theirs.num_joints != ours.num_joints:
        raise ConfigError(
            f"{source} was pre-trained on layout {theirs.name!r} ({theirs.num_joints} joints) but the store "
            f"holds {ours.name!r} ({ours.num_joints} joints)",
            hint="prepare the target store in the pre-training layout, or pre-train on this one",
        )
    if record.num_channels != num_channels:
        raise ConfigError(
            f"{source} was pre-trained on {record.num_channels} input channels per joint but the store gives "
            f"{num_channels}",
            hint="use stores with the same coordinates (2D/3D) and score channel",
        )


class _PretrainedClassifier(SupervisedClassifier):
    """A `SupervisedClassifier` whose network is a pre-trained encoder with a fresh head."""

    linked_from_data: ClassVar[dict[str, str]] = DATA_FACTS
    freeze_encoder: ClassVar[bool] = False

    def __init__(
        self,
        pretrained: str,
        layout: str | dict[str, Any] = "ntu25",
        num_classes: int = 60,
        num_channels: int = 3,
        num_coords: int = 3,
        num_persons: int = 2,
        class_names: list[str] | None = None,
        augment: dict[str, float | list[float]] | None = None,
        lr: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: Literal["cosine", "step", "constant"] = "step",
        milestones: list[int] | None = None,
        gamma: float = 0.1,
        eval_every: int = 5,
        report_dir: str | None = None,
        report_worst: int = 0,
    ) -> None:
        encoder, record = load_pretrained(pretrained)
        check_transferable(record, layout, num_channels, pretrained)
        super().__init__(
            model=record.model,
            model_args=dict(record.model_args),
            layout=layout,
            num_classes=num_classes,
            num_channels=num_channels,
            num_coords=num_coords,
            num_persons=num_persons,
            class_names=class_names,
            modality=",".join(record.modality),
            augment=augment,
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            schedule=schedule,
            milestones=milestones if milestones is not None else [50, 70],
            gamma=gamma,
            select_on="last",
            report_dir=report_dir,
            report_worst=report_worst,
        )
        # The parent's save_hyperparameters() collected this frame's arguments too (pretrained, eval_every).
        if eval_every < 0:
            raise ConfigError(f"eval_every must be >= 0 (0 = never), got {eval_every}")
        trunk = {k: v for k, v in encoder.state_dict().items() if not k.startswith("backbone.head.")}
        missing, unexpected = self.net.load_state_dict(trunk, strict=False)
        if unexpected or any(not key.startswith("backbone.head.") for key in missing):
            raise ConfigError(
                f"{pretrained}: the encoder's weights do not fit the rebuilt model "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        self.pretrained_record = record
        if self.freeze_encoder:
            for name, param in self.net.named_parameters():
                param.requires_grad_(name.startswith("backbone.head."))
        self.train()

    def train(self, mode: bool = True) -> _PretrainedClassifier:
        """Keeps a frozen encoder in eval mode (its BatchNorm statistics and dropout fixed) while training."""
        super().train(mode)
        if self.freeze_encoder:
            self.net.eval()
            self.net.backbone.head.train(mode)
        return self

    def on_test_end(self) -> None:
        """The protocol's table beside the test report: `<report>/<method>.json` and `.md` (last epoch, and
        the best periodic test evaluation as CMD/HaLP report it)."""
        report = find_test_report(self.trainer)
        if report is None or report.written_to is None or not self.trainer.is_global_zero:
            return
        metrics = report.report or {}
        periodic = metrics.get("best_periodic_test") or {}
        row = {
            "pretrained": str(self.hparams.pretrained),
            "pretrained_method": self.pretrained_record.method,
            "encoder": self.pretrained_record.model,
            "top1_last": metrics.get("top1"),
            "top1_best_periodic": periodic.get("top1"),
            "best_epoch": periodic.get("epoch"),
        }
        write_protocol_table(
            report.written_to,
            self.method_name,
            [row],
            list(row),
            title=f"{self.method_name} evaluation",
            facts={"split": metrics.get("split"), "selection": "last epoch (headline)"},
        )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Saves only this class's own arguments as hyper-parameters: `skelact test --ckpt_path` feeds them
        back to this class, which does not take the model settings it read from the pre-trained checkpoint."""
        super().on_save_checkpoint(checkpoint)
        own = inspect.signature(type(self).__init__).parameters
        saved = checkpoint.get("hyper_parameters")
        if saved:
            checkpoint["hyper_parameters"] = {k: v for k, v in saved.items() if k in own or k.startswith("_")}

    def on_train_epoch_start(self) -> None:
        # Lightning does not call `train()` when fitting starts (a module is built in training mode), and
        # it restores each submodule's own mode after validation: enforce the frozen encoder's eval mode.
        self.train()

    def configure_callbacks(self) -> list[Callback]:
        callbacks = super().configure_callbacks()
        if self.hparams.eval_every:
            callbacks.append(OptimisticTestTop1(every_n_epochs=self.hparams.eval_every, warn=False))
        return callbacks

    def _test_run_record(self) -> dict[str, Any]:
        record = super()._test_run_record()
        record["pretrained"] = str(self.hparams.pretrained)
        record["pretrained_method"] = self.pretrained_record.method
        callback = next((c for c in self.trainer.callbacks if isinstance(c, OptimisticTestTop1)), None)
        if callback is not None and callback.history:
            epoch, top1 = max(callback.history.items(), key=lambda item: (item[1], -item[0]))
            record["best_periodic_test"] = {
                "top1": top1,
                "epoch": epoch,
                "every_n_epochs": callback.every_n_epochs,
                "note": "best test top-1 over periodic evaluations, as CMD/HaLP report it (optimistic)",
            }
        return record


@register_method("linear")
class LinearProbe(_PretrainedClassifier):
    """Linear evaluation: frozen encoder in eval mode, a new fc trained (CMD: SGD lr 0.1, momentum 0.9,
    wd 0, 80 epochs, x0.1 at 50 and 70; HaLP's scripts use lr 0.005 on NTU)."""

    freeze_encoder = True


@register_method("finetune")
class FineTune(_PretrainedClassifier):
    """The whole pre-trained network trained with a new head (semi-supervised and transfer protocols;
    CMD: SGD lr 0.01, 80 epochs, x0.1 at 50 and 70)."""

    freeze_encoder = False
