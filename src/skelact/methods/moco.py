"""MoCo pre-training (He et al. 2020; the ISC/CMD/HaLP single-modality baseline, specs/halp.md §4.2).

Each sample comes as two independently cropped views (`data.num_views: 2`), each augmented on the device.
The query encoder embeds view 1 with gradient; the key encoder, an exponential moving average of it
(m = 0.999, updated before the keys are computed), embeds view 2. The loss is InfoNCE of each query against
its key and the queue of K earlier keys (τ = 0.07); then the keys are enqueued.

DDP [design choice]: every rank enqueues the keys of all ranks (gathered in rank order), so the queues stay
identical and hold the global batch's keys, as one process with the total batch would. BatchNorm statistics
stay per rank by default: each rank normalises its own batch, the official single-GPU code's batch of 64
split over the ranks. Set `trainer.sync_batchnorm: true` to compute them over the total batch instead (the
single-GPU statistics of a total batch of 64); shuffle-BN (MoCo v1's remedy for BN leaking information
between query and key) is not used, as in the official code.

Queue, pointer and the count of keys ever enqueued are buffers (`skelact.losses.key_queue`), so they are
saved in checkpoints and restored on resume. The checkpoint's pipeline record names the encoder, layout
and clip handling; `skelact.methods.pretrained.load_pretrained_encoder` returns the query encoder's trunk.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from skelact.data.clips import ClipSpec
from skelact.data.transforms.ssl_augment import SSLAugment
from skelact.errors import ConfigError
from skelact.inference.pipeline import PipelineRecord, build_input_model
from skelact.losses.contrastive import info_nce
from skelact.losses.key_queue import KeyQueue
from skelact.methods.base import SkelactMethod
from skelact.methods.contrastive_encoder import ContrastiveEncoder, momentum_update
from skelact.methods.registry import register_method
from skelact.methods.schedules import check_schedule, step_schedule
from skelact.skeleton.layout import get_layout

DATA_FACTS: dict[str, str] = {
    "layout": "layout_spec",
    "num_classes": "num_classes",
    "class_names": "class_names",
    "num_channels": "num_channels",
    "num_coords": "num_coords",
    "num_persons": "num_persons",
}
ENCODER_PREFIX = "encoder_q."  # the query encoder's keys in a checkpoint's state_dict
PRETRAINING_KEY = "pretraining"  # the record's `extra` entry that marks a pre-training checkpoint


def check_keeps_last(select_on: str) -> None:
    """A pre-training has no validation metric to select an epoch on: it keeps the last one."""
    if select_on != "last":
        raise ConfigError(f"select_on {select_on!r}: pre-training keeps the last epoch (select_on: last)")


@register_method("moco")
class MoCo(SkelactMethod):
    """Momentum-contrast pre-training of any registered backbone with `forward_features`.

    Args:
        model, model_args: the encoder backbone (registry name and builder options).
        layout, num_classes, class_names, num_channels, num_coords, num_persons: linked from the data; the
            classes are not used in pre-training but recorded for the evaluation protocols.
        modality: input features of the encoder ("j" in the paper).
        dim: embedding dimension (128).
        mlp_hidden: hidden width of the MLP projection head; None: the trunk's feature width (2048 for the
            BiGRU: the paper's 2048-2048-128); 0: a single linear layer (no MLP).
        queue_size: K, the number of negative keys (16384 in the HaLP scripts).
        key_momentum: m of the key encoder's moving average (0.999).
        temperature: τ of InfoNCE (0.07).
        augment: apply the on-device SSL augmentation to both views (one of shear / joint corruption per
            view, `skelact.data.transforms.ssl_augment.SSLAugment`); the temporal crop-resize comes from the
            data (`data.num_views: 2`, `sampling: crop_resize`, `crop_ratio: [0.1, 1.0]`).
        augment_options: `SSLAugment` options (p_shear, max_shear, corrupt_joints, p_zero, corrupt_range).
        optimizer, lr, momentum, nesterov, weight_decay: SGD (0.01, 0.9, wd 1e-4 in the scripts; all
            parameters decayed, as the official code) or AdamW.
        schedule, warmup_epochs, milestones, gamma: per-step schedule (`schedules.lr_factor`).
        seed: seeds the initial queue and every per-step random draw (with the step and the rank), so a
            resumed run draws what the uninterrupted run would have drawn.
        select_on: "last", the only choice: pre-training has no validation metric to select on.
    """

    linked_from_data: ClassVar[dict[str, str]] = DATA_FACTS

    def __init__(
        self,
        model: str = "stgcn",
        model_args: dict[str, Any] | None = None,
        layout: str | dict[str, Any] = "ntu25",
        num_classes: int = 60,
        class_names: list[str] | None = None,
        num_channels: int = 3,
        num_coords: int = 3,
        num_persons: int = 2,
        modality: str = "j",
        dim: int = 128,
        mlp_hidden: int | None = None,
        queue_size: int = 16384,
        key_momentum: float = 0.999,
        temperature: float = 0.07,
        augment: bool = True,
        augment_options: dict[str, Any] | None = None,
        optimizer: Literal["sgd", "adamw"] = "sgd",
        lr: float = 0.01,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 1e-4,
        schedule: Literal["cosine", "step", "constant"] = "step",
        warmup_epochs: float = 0.0,
        milestones: list[int] | None = None,
        gamma: float = 0.1,
        seed: int = 0,
        select_on: Literal["last"] = "last",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_keeps_last(select_on)
        check_schedule(schedule)
        if not 0.0 <= key_momentum < 1.0 or temperature <= 0:
            raise ConfigError(
                f"need 0 <= key_momentum < 1 and temperature > 0, got {key_momentum}, {temperature}"
            )
        self.layout = get_layout(layout)
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        net = build_input_model(self._record(clip=None))
        hidden = None if mlp_hidden == 0 else (mlp_hidden or int(net.backbone.num_features))
        self.encoder_q = ContrastiveEncoder(net, dim, hidden)
        self.encoder_k = copy.deepcopy(self.encoder_q).requires_grad_(False)
        self.queue = KeyQueue(queue_size, dim, generator=torch.Generator().manual_seed(seed))
        try:
            self.augment = SSLAugment(self.layout, num_coords, **(augment_options or {})) if augment else None
        except TypeError as err:
            raise ConfigError(f"bad model.augment_options: {err}") from None

    # --- the pipeline record: what the evaluation protocols rebuild the encoder from -------------------

    def _record(self, clip: ClipSpec | None, **data: Any) -> PipelineRecord:
        return self.hparams_record(clip, **data)

    def pipeline_record(self) -> PipelineRecord | None:
        facts = self.datamodule_facts()
        if not facts:
            return None
        pretraining = {
            "method": self.method_name,
            "state_prefix": ENCODER_PREFIX,
            "num_features": self.encoder_q.num_features,
            "dim": self.hparams.dim,
            "augment": dict(self.hparams.augment_options or {}) if self.hparams.augment else None,
        }
        extra = {PRETRAINING_KEY: pretraining, "precision": str(self.trainer.precision), "select_on": "last"}
        return self._record(**facts, extra=extra)

    # --- training ---------------------------------------------------------------------------------------

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        generator = self._step_generator(per_rank=True)
        query_view, key_view = self._views(batch["keypoint"], generator)
        query = F.normalize(self.encoder_q(query_view), dim=1)
        with torch.no_grad():
            momentum_update(self.encoder_k, self.encoder_q, self.hparams.key_momentum)
            key = F.normalize(self.encoder_k(key_view), dim=1)
        negatives = self.queue.keys.clone()  # the enqueue below writes into the buffer in place
        loss = info_nce(query, key, negatives, self.hparams.temperature)
        self.log("train/info_nce", loss)
        loss = loss + self.extra_loss(query, key, negatives, generator)
        self.queue.enqueue(self.gather(key))
        self.after_enqueue()
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def extra_loss(self, query: Tensor, key: Tensor, negatives: Tensor, generator: torch.Generator) -> Tensor:
        """A term added to InfoNCE before the keys are enqueued (HaLP's); none in MoCo."""
        return query.new_zeros(())

    def after_enqueue(self) -> None:
        """Called after each step's keys were enqueued (HaLP refreshes its prototypes here)."""

    def _views(self, keypoint: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """(N, views, M, T, V, C) → two augmented (N, M, T, V, C) views."""
        if keypoint.ndim != 6 or keypoint.shape[1] < 2:
            raise ConfigError(
                f"{self.method_name} needs two views of each sample, got a batch of shape "
                f"{tuple(keypoint.shape)}",
                hint="set data.num_views: 2 (configs/ssl/)",
            )
        views = keypoint[:, :2]
        if self.augment is not None:
            views = self.augment(views.flatten(0, 1), generator=generator).view_as(views)
        return views[:, 0], views[:, 1]

    def gather(self, tensor: Tensor) -> Tensor:
        """`tensor` of every rank, concatenated along dim 0 in rank order (itself without DDP)."""
        if self._trainer is None or self.trainer.world_size == 1:
            return tensor
        return self.all_gather(tensor.detach()).flatten(0, 1)

    def on_train_epoch_end(self) -> None:
        """Under DDP each rank's last step updated its own BatchNorm statistics (DDP copies rank 0's buffers
        only at the start of each forward): copy them now, so every rank ends the epoch with the state that
        rank 0 checkpoints. Queue and prototypes are equal on all ranks already; they are copied with them."""
        if self._trainer is None or self.trainer.world_size == 1 or not dist.is_initialized():
            return
        for buffer in self.buffers():
            dist.broadcast(buffer, src=0)

    def _step_generator(self, *, per_rank: bool) -> torch.Generator:
        """A CPU generator keyed by seed, step and (when `per_rank`) rank: independent of the global RNG,
        which checkpoints do not restore; without the rank, every rank draws the same numbers."""
        rank = self.global_rank if per_rank else 0
        key = (self.hparams.seed * 1_000_003 + rank) * 1_000_000_007 + self.global_step
        return torch.Generator().manual_seed(key % (2**63))

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        params = list(self.encoder_q.parameters())
        if hp.optimizer == "sgd":
            optimizer: torch.optim.Optimizer = torch.optim.SGD(
                params, lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov, weight_decay=hp.weight_decay
            )
        elif hp.optimizer == "adamw":
            optimizer = torch.optim.AdamW(params, lr=hp.lr, weight_decay=hp.weight_decay)
        else:
            raise ConfigError(f"unknown optimizer {hp.optimizer!r}; choose sgd or adamw")
        return step_schedule(optimizer, self.trainer, hp)
