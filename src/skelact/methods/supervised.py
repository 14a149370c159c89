"""Supervised action classification as a LightningModule: input features, augmentation, loss and metrics.

The backbone is a plain `nn.Module` from the registry, wrapped with its input features in an `InputModel`
(`skelact.inference.pipeline`); this module adds what training needs. Test reports come from the
`TestReport` callback, the checkpoint's pipeline record from `SkelactMethod`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

import skelact
from skelact.data.transforms.augment import BatchAugment
from skelact.data.transforms.partial_mixup import PartialMixup
from skelact.errors import ConfigError
from skelact.evaluation.selection import SELECTION_KEY, check_select_on, selection_result
from skelact.inference.pipeline import PipelineRecord, build_input_model
from skelact.losses.longtail import LongTailLoss, build_loss
from skelact.methods.base import SkelactMethod
from skelact.methods.optimistic_test import OptimisticTestTop1
from skelact.methods.param_groups import DECAY_TARGETS, decay_groups
from skelact.methods.registry import register_method
from skelact.methods.schedules import WARMUP_INTERVALS, check_schedule, step_schedule
from skelact.methods.test_report import TestReport
from skelact.models.inputs.modality import parse_modality
from skelact.skeleton.layout import get_layout

# The model learns these from the store, so configs never repeat (or contradict) them: method argument ->
# datamodule attribute, linked by `skelact fit` and copied by `SupervisedClassifier.for_data`.
DATA_FACTS: dict[str, str] = {
    "layout": "layout_spec",
    "num_classes": "num_classes",
    "class_names": "class_names",
    "num_channels": "num_channels",
    "num_coords": "num_coords",
    "num_persons": "num_persons",
}


@register_method("supervised")
class SupervisedClassifier(SkelactMethod):
    """Cross-entropy training of any registered backbone.

    A backbone that reads sample modalities besides keypoints (its ``inputs``) gets them from the batch in
    every step, and one with an ``auxiliary_loss(label)`` (M-Mixer's per-modality heads) adds it to the loss.

    Args:
        model: registry name of the backbone (`skelact.models.list_models()`).
        model_args: extra keyword arguments of the backbone builder.
        layout, num_classes, num_channels, num_coords, num_persons, class_names: linked from the data.
        modality: features fed to the model, e.g. "j", "b", "j,b,jm,bm".
        augment: `BatchAugment` settings applied on the device during training, e.g. {"rotate": 0.3}.
        optimizer, lr, momentum, nesterov, weight_decay: SGD (Nesterov, as in GCN recipes) or AdamW.
        weight_decay_on: "weights" (the default: BatchNorm and bias parameters, all 1-D, are not decayed) or
            "all" (every parameter, as the official CTR-GCN and PYSKL optimizers decay them).
        schedule, warmup_epochs, milestones, gamma: per-step schedule (`schedules.lr_factor`).
        warmup_interval: "step" (the default: the warm-up ramps every iteration) or "epoch" (one value per
            warm-up epoch, as the official CTR-GCN code sets it).
        label_smoothing: cross-entropy label smoothing.
        augment_seed: seeds the augmentation draws of each step (with the step and the rank), so a resumed
            run sees exactly the augmentation the uninterrupted run would have seen.
        report_dir: where `test` writes scores and the report; defaults to `<log dir>/test`.
        select_on: which epoch the run reports (`skelact.evaluation.selection`): "val" (best validation
            top-1, the default), "last", or "test_optimistic" (evaluates the test split every epoch and keeps
            the best test epoch, as CTR-GCN does; optimistic, warned about and recorded in the results).
        compile: run the model through `torch.compile` (in place, so checkpoints keep their parameter
            names). Off by default: it trains 0.58x as fast on the CPUs measured (skelact.methods.speed).
        loss: None (plain cross-entropy, the default) or a long-tail loss, by name or as a dict with its
            options, e.g. {"name": "action_aware", "switch_epoch": 20} (`skelact.losses.longtail`).
        mixup: BRL's rebalanced partial mixup options (`PartialMixup`: ratio, lam, kappa,
            preserve_joint_order, upper, lower), applied to the model's input features; None = off.
        class_counts: training samples per class for `loss` and `mixup`; by default the datamodule's
            training split is counted when training starts.
        report_worst: the test report renders this many worst-classified samples (lowest probability of the
            true class) as GIFs in `<report>/worst/`; 0 turns it off.
    """

    linked_from_data: ClassVar[dict[str, str]] = DATA_FACTS

    def __init__(
        self,
        model: str = "stgcn",
        model_args: dict[str, Any] | None = None,
        layout: str | dict[str, Any] = "ntu25",
        num_classes: int = 60,
        num_channels: int = 3,
        num_coords: int = 3,
        num_persons: int = 2,
        class_names: list[str] | None = None,
        modality: str = "j",
        augment: dict[str, float | list[float]] | None = None,
        optimizer: Literal["sgd", "adamw"] = "sgd",
        lr: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        schedule: Literal["cosine", "step", "constant"] = "cosine",
        warmup_epochs: float = 0.0,
        milestones: list[int] | None = None,
        gamma: float = 0.1,
        label_smoothing: float = 0.0,
        augment_seed: int = 0,
        report_dir: str | None = None,
        select_on: Literal["val", "last", "test_optimistic"] = "val",
        compile: bool = False,
        loss: str | dict[str, Any] | None = None,
        mixup: dict[str, Any] | None = None,
        class_counts: list[int] | None = None,
        report_worst: int = 5,
        warmup_interval: Literal["step", "epoch"] = "step",
        weight_decay_on: Literal["weights", "all"] = "weights",
    ) -> None:
        arguments = dict(locals())
        super().__init__()
        self.save_hyperparameters()
        # LightningCLI records only the arguments of the class it instantiated: a subclass that sets some of
        # these itself (the probes set model and modality from their checkpoint) keeps them in hparams too.
        for key, value in arguments.items():
            if key not in ("self", "__class__"):
                self.hparams.setdefault(key, value)
        check_select_on(select_on)
        check_schedule(schedule)
        if warmup_interval not in WARMUP_INTERVALS:
            known = ", ".join(WARMUP_INTERVALS)
            raise ConfigError(f"model.warmup_interval {warmup_interval!r} is unknown; choose one of {known}")
        if weight_decay_on not in DECAY_TARGETS:
            known = ", ".join(DECAY_TARGETS)
            raise ConfigError(f"model.weight_decay_on {weight_decay_on!r} is unknown; choose one of {known}")
        self.layout = get_layout(layout)
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        self.net = build_input_model(self._record(clip=None))
        self.augment = BatchAugment.from_config(self.layout, {"num_coords": num_coords, **(augment or {})})
        if loss is not None:
            build_loss(loss, [1] * num_classes)  # options checked now, not at the first training step
        if loss is not None and label_smoothing:
            raise ConfigError("label_smoothing applies to the default cross-entropy only, not to model.loss")
        self.mixup = None if mixup is None else PartialMixup(self.layout, **mixup)
        if self.mixup is not None and self.net.extra_inputs:
            raise ConfigError(
                f"model.mixup mixes keypoint features only; model {model!r} also reads "
                f"{', '.join(self.net.extra_inputs)}",
                hint="turn mixup off for multi-input models",
            )
        self._criterion: LongTailLoss | None = None
        self._counts: torch.Tensor | None = None
        top5 = min(5, num_classes)
        self.train_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.val_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.test_metrics = nn.ModuleDict(
            {
                "top1": MulticlassAccuracy(num_classes, top_k=1, average="micro"),
                "top5": MulticlassAccuracy(num_classes, top_k=top5, average="micro"),
                "mean_class_accuracy": MulticlassAccuracy(num_classes, top_k=1, average="macro"),
            }
        )
        self._loaded_selection: dict[str, Any] | None = None

    def _record(self, clip: Any, **data: Any) -> PipelineRecord:
        """The pipeline record of this classifier; `clip` and `data` come from the datamodule when known."""
        return self.hparams_record(clip, **data)

    def pipeline_record(self) -> PipelineRecord | None:
        facts = self.datamodule_facts()
        if not facts:
            return None  # no datamodule: nothing is known of the input handling, so nothing is recorded
        extra = {"select_on": self.hparams.select_on, "precision": str(self.trainer.precision)}
        return self._record(**facts, extra=extra)

    def configure_model(self) -> None:
        if self.hparams.compile:
            self.net.compile()  # nn.Module.compile: the state_dict keeps its keys (no "_orig_mod.")

    def configure_callbacks(self) -> list[Callback]:
        callbacks: list[Callback] = [
            TestReport(self.hparams.report_dir, self.hparams.report_worst, run_record=self._test_run_record)
        ]
        if self.hparams.select_on == "test_optimistic":
            callbacks.append(OptimisticTestTop1())
        return callbacks

    def forward(self, keypoint: torch.Tensor, **modalities: torch.Tensor) -> torch.Tensor:
        return self.net(keypoint, **modalities)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        generator = self._step_generator()
        keypoint = self.augment(batch["keypoint"][:, 0], generator=generator)
        # Other modalities (N, K = 1, T, ...) are not augmented: the keypoint augmentations act on
        # coordinates (docs/methods/mmixer.md).
        modalities = {name: value[:, 0] for name, value in self.net.batch_inputs(batch).items()}
        logits, loss = self._logits_and_loss(keypoint, batch["label"], generator, modalities)
        self.train_top1(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/top1", self.train_top1, on_step=False, on_epoch=True)
        return loss

    def _logits_and_loss(
        self,
        keypoint: torch.Tensor,
        label: torch.Tensor,
        generator: torch.Generator,
        modalities: dict[str, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features, BRL's partial mixup on them (between embed and classify), logits, the loss (plus the
        backbone's auxiliary loss, e.g. M-Mixer's per-modality heads, when it has one)."""
        features = self.net.embed(keypoint)
        label_b = lam = None
        if self.mixup is not None:
            _, counts = self._long_tail_setup(label.device)
            features, label_b, lam = self.mixup(features, label, counts, generator=generator)
        logits = self.net.classify(features, **(modalities or {}))
        if self.hparams.loss is None and self.mixup is None:
            loss = F.cross_entropy(logits, label, label_smoothing=self.hparams.label_smoothing)
        else:
            criterion, _ = self._long_tail_setup(label.device)
            loss = criterion(logits, label, epoch=self.current_epoch, target_b=label_b, lam=lam)
        auxiliary = getattr(self.net.backbone, "auxiliary_loss", None)
        extra = auxiliary(label) if auxiliary is not None else None
        return logits, loss if extra is None else loss + extra

    def _long_tail_setup(self, device: torch.device) -> tuple[LongTailLoss, torch.Tensor]:
        """The loss and the class counts, from `class_counts` or the training split, built once."""
        if self._criterion is None:
            counts = self.hparams.class_counts
            if counts is None:
                datamodule = self.trainer.datamodule if self._trainer is not None else None
                counts = getattr(datamodule, "train_class_counts", None)
            if counts is None or len(counts) != self.hparams.num_classes:
                raise ConfigError(
                    f"model.loss and model.mixup need {self.hparams.num_classes} training class counts",
                    hint="train with a SkeletonDataModule or set model.class_counts",
                )
            self._criterion = build_loss(self.hparams.loss or "ce", counts)
            self._counts = torch.as_tensor(counts, dtype=torch.long)
        assert self._counts is not None
        if self._counts.device != device:
            self._counts = self._counts.to(device)
        return self._criterion, self._counts

    def _step_generator(self) -> torch.Generator:
        """A CPU generator (valid for any device) keyed by seed, rank and step: independent of the global
        RNG state, which Lightning checkpoints do not restore."""
        key = (self.hparams.augment_seed * 1_000_003 + self.global_rank) * 1_000_000_007 + self.global_step
        return torch.Generator().manual_seed(key % (2**63))

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits, probs = self.net.clip_scores(batch["keypoint"], **self.net.batch_inputs(batch))
        self.val_top1(probs, batch["label"])
        self.log("val/loss", F.cross_entropy(logits, batch["label"]), sync_dist=True)
        self.log("val/top1", self.val_top1, prog_bar=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        logits, probs = self.net.clip_scores(batch["keypoint"], **self.net.batch_inputs(batch))
        for name, metric in self.test_metrics.items():
            metric(probs, batch["label"])
            self.log(f"test/{name}", metric)
        return {"logits": logits, "probs": probs, "label": batch["label"], "index": batch["index"]}

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        _, probs = self.net.clip_scores(batch["keypoint"], **self.net.batch_inputs(batch))
        return {"probs": probs, "index": batch["index"], "label": batch["label"]}

    def _test_run_record(self) -> dict[str, Any]:
        """What was tested: split, modality and model (ensembles match streams by them) and how the weights
        were selected (`selection_result`)."""
        ckpt_path = self.trainer.ckpt_path
        record = self._loaded_selection if ckpt_path is not None else None
        datamodule = self.trainer.datamodule
        return {
            "split": getattr(datamodule, "test_split", None),
            "modality": ",".join(parse_modality(self.hparams.modality)),
            "model": self.hparams.model,
            "skelact_version": skelact.__version__,
            "precision": str(self.trainer.precision),  # resolved per machine when not configured
            "train_class_counts": getattr(datamodule, "train_class_counts", None),
            **selection_result(record, None if ckpt_path is None else str(ckpt_path)),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)  # refuses a checkpoint of another layout, classes, channels
        self._loaded_selection = checkpoint.get(SELECTION_KEY)

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        groups = decay_groups(self, hp.weight_decay, hp.get("weight_decay_on", "weights"))
        if hp.optimizer == "sgd":
            optimizer = torch.optim.SGD(groups, lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov)
        else:
            optimizer = torch.optim.AdamW(groups, lr=hp.lr)
        return step_schedule(optimizer, self.trainer, hp)
