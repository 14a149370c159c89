"""HaLP: MoCo with hallucinated latent positives (Shah et al., CVPR 2023; specs/halp.md §5).

On top of MoCo's step: once `warmup_samples` keys were enqueued (2K + 1 in the official code), the
prototypes are k-means centres of the last 256 keys (`skelact.losses.prototypes`, refreshed every 10 steps);
each key then yields 100 positives moved towards another prototype (`skelact.losses.halp.hallucinate`),
rank-filtered, and the loss becomes L = InfoNCE + μ·L_HaLP (μ = 2 for NTU, 1 for PKU-MMD II).

The schedule of the paper is two phases: MoCo, then `skelact fit --method halp --ckpt_path <MoCo ckpt>`;
the MoCo checkpoint lacks the prototype state, which starts empty. The warm-up counter (the queue's count
of enqueued keys) is checkpointed, a documented fix: the official counter restarts at 0 on every resume,
so every resume waited another 2K + 1 samples; `warmup_on_resume: restart` restores that behaviour.

DDP: the queue holds every rank's keys, so all ranks cluster the same keys with the same generator and
hold the same prototypes; the warm-up counts the keys of all ranks (the samples of the total batch); the
HaLP loss is normalised by the number of kept pairs over all ranks, so the averaged gradients equal those of
one process with the total batch.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from skelact.errors import ConfigError
from skelact.losses.halp import LOSS_FORMS, check_hardness, hallucinate, halp_loss
from skelact.losses.prototypes import PrototypeBank
from skelact.methods.moco import MoCo
from skelact.methods.registry import register_method

RESUME_MODES = ("keep", "restart")


@register_method("halp")
class HaLP(MoCo):
    """MoCo plus HaLP's hallucinated positives; every MoCo argument applies too.

    Args:
        mu: weight of the HaLP loss (2 for NTU-60/120, 1 for PKU-MMD II).
        num_prototypes: k of the spherical k-means (20).
        prototype_window: how many of the most recent queue keys are clustered (256).
        refresh_every: steps between prototype refreshes (10 in the released scripts).
        warmup_samples: keys to enqueue before HaLP starts; None: 2 × queue_size + 1 (the official value).
        num_positives: hallucinated positives per anchor (100).
        hardness: λ_pos: the step is (1 − u)·t*, u ~ U(0, λ); 0.8 in every released script; 1000 is the
            official sentinel for t* − 0.01.
        closest_candidates, skip_closest: the target prototype is drawn from those ranked skip_closest …
            skip_closest + closest_candidates − 1 by similarity (official `num_closest_to_ignore_positives`
            20 and `skip_closest_positives` 1).
        halp_form: "alignment" (the official code: −q·ĝ/τ, no negatives) or "infonce" (each positive
            against the queue, as the paper may mean [unverified]).
        kmeans_init, kmeans_centroid: `skelact.losses.spherical_kmeans` options.
        warmup_on_resume: "keep" (the counter is restored from the checkpoint, the default) or "restart"
            (the official behaviour: it restarts at 0 on every resume, and the prototypes are recomputed).
    """

    def __init__(
        self,
        *,
        mu: float = 2.0,
        num_prototypes: int = 20,
        prototype_window: int = 256,
        refresh_every: int = 10,
        warmup_samples: int | None = None,
        num_positives: int = 100,
        hardness: float = 0.8,
        closest_candidates: int = 20,
        skip_closest: int = 1,
        halp_form: Literal["alignment", "infonce"] = "alignment",
        kmeans_init: Literal["kmeans++", "kmeans++_linear", "random"] = "kmeans++",
        kmeans_centroid: Literal["frechet", "extrinsic"] = "frechet",
        warmup_on_resume: Literal["keep", "restart"] = "keep",
        **moco: Any,
    ) -> None:
        super().__init__(**moco)
        hp = self.hparams
        check_hardness(hardness)
        if halp_form not in LOSS_FORMS:
            raise ConfigError(f"unknown halp_form {halp_form!r}; choose one of {', '.join(LOSS_FORMS)}")
        if warmup_on_resume not in RESUME_MODES:
            raise ConfigError(f"warmup_on_resume must be one of {RESUME_MODES}, got {warmup_on_resume!r}")
        if not num_prototypes <= prototype_window <= hp.queue_size:
            raise ConfigError(
                f"prototype_window {prototype_window} must lie between num_prototypes {num_prototypes} "
                f"and queue_size {hp.queue_size}"
            )
        self.warmup_samples = 2 * hp.queue_size + 1 if warmup_samples is None else warmup_samples
        self.bank = PrototypeBank(
            num_prototypes, hp.dim, refresh_every=refresh_every, init=kmeans_init, centroid=kmeans_centroid
        )

    def extra_loss(self, query: Tensor, key: Tensor, negatives: Tensor, generator: torch.Generator) -> Tensor:
        hp = self.hparams
        active = bool(self.bank.ready)
        self.log("train/halp_active", float(active))
        if not active:
            return query.new_zeros(())
        made = hallucinate(
            key,
            self.bank.prototypes,
            num_positives=hp.num_positives,
            hardness=hp.hardness,
            closest_candidates=hp.closest_candidates,
            skip_closest=hp.skip_closest,
            generator=generator,
        )
        kept = made.keep.sum().float()
        total_kept = self.gather(kept.reshape(1)).sum()
        world = max(self.trainer.world_size, 1) if self._trainer is not None else 1
        loss = halp_loss(
            query,
            made.positives,
            made.keep,
            hp.temperature,
            form=hp.halp_form,
            queue=negatives,
            num_kept=total_kept / world,
        )
        self.log("train/halp_loss", loss)
        self.log("train/halp_kept", kept / made.keep.numel())
        return hp.mu * loss

    def after_enqueue(self) -> None:
        if self.bank.due(int(self.queue.seen), self.warmup_samples):
            keys = self.queue.recent(self.hparams.prototype_window)
            self.bank.refresh(keys, generator=self._step_generator(per_rank=False))

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Called before the weights load: a MoCo checkpoint gets this run's empty prototype state; with
        `warmup_on_resume: restart` the warm-up counter and the prototypes start over (official)."""
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get("state_dict")
        if state is None:
            return
        for name, value in self.bank.state_dict(prefix="bank.").items():
            state.setdefault(name, value.detach().clone())
        if self.hparams.warmup_on_resume == "restart":
            state["queue.seen"] = torch.zeros_like(state["queue.seen"])
            state["bank.ready"] = torch.zeros_like(state["bank.ready"])
            state["bank.since_refresh"] = torch.zeros_like(state["bank.since_refresh"])
