"""Supervised action classification as a LightningModule: input features, augmentation, loss and metrics.

The backbone is a plain `nn.Module` from the registry; this module adds what training needs and records the
input pipeline in every checkpoint so `skelact predict` can rebuild it (DESIGN.md principle 6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

import skelact
from skelact.data.transforms.augment import BatchAugment
from skelact.data.transforms.partial_mixup import PartialMixup
from skelact.errors import ConfigError
from skelact.evaluation.report import write_report
from skelact.evaluation.scores import ScoreFile
from skelact.evaluation.selection import (
    OPTIMISTIC_WARNING,
    SELECTION_KEY,
    check_select_on,
    selection_result,
)
from skelact.losses.longtail import LongTailLoss, build_loss
from skelact.methods.schedules import SCHEDULES, lr_factor
from skelact.models.inputs.modality import ModalityFeatures, parse_modality
from skelact.models.registry import create_model
from skelact.skeleton.layout import get_layout
from skelact.viz.worst import render_worst

CHECKPOINT_KEY = "skelact"


class InputModel(nn.Module):
    """Raw keypoints (N, M, T, V, C) → modality features → backbone logits. Used for training, prediction and
    export alike, so the feature computation can never drift between them."""

    def __init__(self, features: ModalityFeatures, backbone: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.backbone = backbone

    def forward(self, keypoint: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.features(keypoint))


def mean_over_unique(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Mean of `values` counting each sample index once (distributed samplers pad shards with repeats)."""
    _, first = np.unique(index.cpu().numpy(), return_index=True)
    return values[torch.from_numpy(first).to(values.device)].float().mean()


# The model learns these from the store, so configs never repeat (or contradict) them; the CLI links
# them and `SupervisedClassifier.for_data` copies them.
LINKED_FROM_DATA = ("num_classes", "class_names", "num_channels", "num_coords", "num_persons")


class SupervisedClassifier(L.LightningModule):
    """Cross-entropy training of any registered backbone.

    Args:
        model: registry name of the backbone (`skelact.models.list_models()`).
        model_args: extra keyword arguments of the backbone builder.
        layout, num_classes, num_channels, num_coords, num_persons, class_names: linked from the data.
        modality: features fed to the model, e.g. "j", "b", "j,b,jm,bm".
        augment: `BatchAugment` settings applied on the device during training, e.g. {"rotate": 0.3}.
        optimizer, lr, momentum, nesterov, weight_decay: SGD (Nesterov, as in GCN recipes) or AdamW.
        schedule, warmup_epochs, milestones, gamma: per-step schedule (`schedules.lr_factor`).
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
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_select_on(select_on)
        if schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
        self.layout = get_layout(layout)
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        if len(self.class_names) != num_classes:
            raise ConfigError(f"{len(self.class_names)} class names for {num_classes} classes")
        score_channel = num_channels > num_coords
        features = ModalityFeatures(
            self.layout, parse_modality(modality), num_coords=num_coords, score_channel=score_channel
        )
        backbone = create_model(
            model,
            layout=self.layout,
            in_channels=features.out_channels(num_channels),
            num_classes=num_classes,
            num_persons=num_persons,
            **(model_args or {}),
        )
        self.net = InputModel(features, backbone)
        self.augment = BatchAugment.from_config(self.layout, {"num_coords": num_coords, **(augment or {})})
        if loss is not None:
            build_loss(loss, [1] * num_classes)  # options checked now, not at the first training step
        if loss is not None and label_smoothing:
            raise ConfigError("label_smoothing applies to the default cross-entropy only, not to model.loss")
        self.mixup = None if mixup is None else PartialMixup(self.layout, **mixup)
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
        self._test_outputs: list[dict[str, torch.Tensor]] = []
        self._loaded_selection: dict[str, Any] | None = None
        self._optimistic_loader: Any = None

    def configure_model(self) -> None:
        if self.hparams.compile:
            self.net.compile()  # nn.Module.compile: the state_dict keeps its keys (no "_orig_mod.")

    @classmethod
    def for_data(cls, datamodule: Any, **kwargs: Any) -> SupervisedClassifier:
        """A classifier for `datamodule`'s store (layout, classes, channels, persons), as `skelact fit` links
        them; `kwargs` are the other options."""
        facts = {name: getattr(datamodule, name) for name in LINKED_FROM_DATA}
        return cls(layout=datamodule.layout_spec, **facts, **kwargs)

    def forward(self, keypoint: torch.Tensor) -> torch.Tensor:
        return self.net(keypoint)

    def clip_scores(self, keypoint: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, K clips, M, T, V, C) → clip-averaged logits and softmax probabilities, each (N, classes)."""
        n, k = keypoint.shape[:2]
        logits = self(keypoint.flatten(0, 1)).view(n, k, -1).float()
        return logits.mean(1), logits.softmax(-1).mean(1)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        generator = self._step_generator()
        keypoint = self.augment(batch["keypoint"][:, 0], generator=generator)
        if self.mixup is None and self.hparams.loss is None:
            logits = self(keypoint)
            loss = F.cross_entropy(logits, batch["label"], label_smoothing=self.hparams.label_smoothing)
        else:
            logits, loss = self._long_tail_step(keypoint, batch["label"], generator)
        self.train_top1(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/top1", self.train_top1, on_step=False, on_epoch=True)
        return loss

    def _long_tail_step(
        self, keypoint: torch.Tensor, label: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features, partial mixup on them (BRL mixes the modality tensor), backbone, long-tail loss."""
        criterion, counts = self._long_tail_setup(label.device)
        features = self.net.features(keypoint)
        label_b = lam = None
        if self.mixup is not None:
            features, label_b, lam = self.mixup(features, label, counts, generator=generator)
        logits = self.net.backbone(features)
        epoch = self.current_epoch
        return logits, criterion(logits, label, epoch=epoch, target_b=label_b, lam=lam)

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

    def on_fit_start(self) -> None:
        self._optimistic_loader = None
        if self.hparams.select_on == "test_optimistic":
            rank_zero_warn(OPTIMISTIC_WARNING)

    def on_train_epoch_end(self) -> None:
        if self.hparams.select_on == "test_optimistic":
            # Logged before ModelCheckpoint runs: Lightning calls monitoring callbacks after this hook.
            self.log("test_optimistic/top1", self._test_split_top1(), prog_bar=True)

    @torch.no_grad()
    def _test_split_top1(self) -> torch.Tensor:
        """Top-1 on the test split (clip-averaged softmax, as in `test`), for select_on=test_optimistic.

        A plain loop rather than a second validation loader, so validation metrics and the default mode stay
        untouched. Under DDP each rank scores its shard; hits are gathered and the sampler's padding repeats
        dropped by sample index, so the value is exactly the top-1 that `test` reports.
        """
        if self._optimistic_loader is None:  # built once, so loader workers are not respawned every epoch
            datamodule = self.trainer.datamodule
            if datamodule is None:
                raise ConfigError("select_on=test_optimistic needs a datamodule with a test split")
            self._optimistic_loader = datamodule.test_dataloader()
        was_training = self.training
        self.eval()
        hits, indices = [], []
        try:
            for batch in self._optimistic_loader:
                _, probs = self.clip_scores(batch["keypoint"].to(self.device))
                hits.append((probs.argmax(1) == batch["label"].to(self.device)).long())
                indices.append(batch["index"].to(self.device))
        finally:
            self.train(was_training)
        hit, index = torch.cat(hits), torch.cat(indices)
        if self.trainer.world_size > 1:
            hit, index = self.all_gather(hit).flatten(), self.all_gather(index).flatten()
        return mean_over_unique(hit, index)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits, probs = self.clip_scores(batch["keypoint"])
        self.val_top1(probs, batch["label"])
        self.log("val/loss", F.cross_entropy(logits, batch["label"]), sync_dist=True)
        self.log("val/top1", self.val_top1, prog_bar=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits, probs = self.clip_scores(batch["keypoint"])
        for name, metric in self.test_metrics.items():
            metric(probs, batch["label"])
            self.log(f"test/{name}", metric)
        self._test_outputs.append(
            {"logits": logits, "probs": probs, "label": batch["label"], "index": batch["index"]}
        )

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        _, probs = self.clip_scores(batch["keypoint"])
        return {"probs": probs, "index": batch["index"], "label": batch["label"]}

    def on_test_epoch_start(self) -> None:
        self._test_outputs.clear()

    def on_test_epoch_end(self) -> None:
        gathered = {
            key: self.all_gather(torch.cat([o[key] for o in self._test_outputs])).reshape(
                -1, *self._test_outputs[0][key].shape[1:]
            )
            for key in self._test_outputs[0]
        }
        self._test_outputs.clear()
        # trainer.log_dir is a collective call under DDP: every rank must ask, not only rank 0.
        out = Path(self.hparams.report_dir or Path(self.trainer.log_dir or ".") / "test")
        if self.trainer.is_global_zero:
            self._write_test_report(gathered, out)
        # The other ranks wait for rank 0's report (rendering takes seconds), so that no process tears down
        # the process group while another still uses it.
        self.trainer.strategy.barrier("skelact_test_report")

    def _write_test_report(self, gathered: dict[str, torch.Tensor], out: Path) -> None:
        """Rank 0: the score file, metrics, figures and worst-sample animations of the whole test split."""
        index = gathered["index"].cpu().numpy()
        _, first = np.unique(index, return_index=True)  # distributed samplers may pad with repeats
        datamodule = self.trainer.datamodule
        ids = (
            datamodule.sample_ids(index[first]) if datamodule is not None else [str(i) for i in index[first]]
        )
        run = self._test_run_record()
        scores = ScoreFile(
            sample_ids=np.asarray(ids),
            labels=gathered["label"].cpu().numpy()[first],
            logits=gathered["logits"].cpu().numpy()[first],
            probs=gathered["probs"].cpu().numpy()[first],
            class_names=tuple(self.class_names),
            meta=run,
        )
        scores.write(out / "scores.npz")
        self.report = write_report(scores, out, extra=run)
        store = getattr(datamodule, "store", None)
        if self.hparams.get("report_worst", 0) > 0 and store is not None:
            render_worst(scores, store, out / "worst", self.hparams.report_worst, max_frames=32)
        self.report_dir = out

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
        self._loaded_selection = checkpoint.get(SELECTION_KEY)

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        decay, no_decay = [], []
        for param in self.parameters():
            # BatchNorm and bias terms are not decayed (PYSKL/CTR-GCN decay everything; the difference is tiny
            # and this is the common modern default). Edge-importance masks are decayed like weights.
            (no_decay if param.ndim <= 1 else decay).append(param)
        groups = [
            {"params": decay, "weight_decay": hp.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        if hp.optimizer == "sgd":
            optimizer = torch.optim.SGD(groups, lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov)
        else:
            optimizer = torch.optim.AdamW(groups, lr=hp.lr)
        total = int(self.trainer.estimated_stepping_batches)
        per_epoch = total / max(self.trainer.max_epochs or 1, 1)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: lr_factor(
                step,
                total_steps=total,
                steps_per_epoch=per_epoch,
                schedule=hp.schedule,
                warmup_epochs=hp.warmup_epochs,
                milestones=hp.milestones or (),
                gamma=hp.gamma,
            ),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        checkpoint[CHECKPOINT_KEY] = {
            "skelact_version": skelact.__version__,
            "method": "supervised",
            "model": self.hparams.model,
            "model_args": dict(self.hparams.model_args or {}),
            "layout": self.layout.to_dict(),
            "modality": list(parse_modality(self.hparams.modality)),
            "num_classes": self.hparams.num_classes,
            "num_channels": self.hparams.num_channels,
            "num_coords": self.hparams.num_coords,
            "num_persons": self.hparams.num_persons,
            "class_names": list(self.class_names),
            "data": datamodule.pipeline() if datamodule is not None else None,
            "select_on": self.hparams.select_on,
            "precision": str(self.trainer.precision),  # of training; resolved per machine when not configured
        }
