"""`select_on: test_optimistic`: top-1 on the test split after every training epoch, logged for selection.

A callback rather than a second validation loader, so validation metrics and the default mode stay untouched.
Non-monitoring callbacks run before Lightning's checkpoint callback at the end of an epoch, so the value it
logs is there when `SelectionCheckpoint` looks for it.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_warn

from skelact.errors import ConfigError
from skelact.evaluation.selection import MONITORS, OPTIMISTIC_WARNING

MONITOR = MONITORS["test_optimistic"]


def mean_over_unique(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Mean of `values` counting each sample index once (distributed samplers pad shards with repeats)."""
    _, first = np.unique(index.cpu().numpy(), return_index=True)
    return values[torch.from_numpy(first).to(values.device)].float().mean()


class OptimisticTestTop1(Callback):
    """Logs `test_optimistic/top1` every epoch: clip-averaged softmax top-1, as `skelact test` reports it.

    Needs a module with `net.clip_scores` (an `InputModel`) and a datamodule with a test split. Under DDP each
    rank scores its shard; hits are gathered and the sampler's padding repeats dropped by sample index, so
    the value is exactly the top-1 that `test` reports.

    `every_n_epochs` evaluates after epochs n, 2n, ... only (CMD/HaLP's linear evaluation: every 5); `history`
    keeps every value by epoch and travels in checkpoints, so a resumed run knows the earlier ones. `warn`
    is off where the value is only recorded, not used to pick weights.
    """

    def __init__(self, every_n_epochs: int = 1, warn: bool = True) -> None:
        if every_n_epochs < 1:
            raise ConfigError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs, self.warn = every_n_epochs, warn
        self.history: dict[int, float] = {}
        self._loader: Any = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._loader = None
        if self.warn:
            rank_zero_warn(OPTIMISTIC_WARNING)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        if (epoch + 1) % self.every_n_epochs:
            return
        top1 = self.top1(trainer, pl_module)
        self.history[epoch] = float(top1)
        pl_module.log(MONITOR, top1, prog_bar=True)

    def state_dict(self) -> dict[str, Any]:
        return {"history": dict(self.history)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = {int(k): float(v) for k, v in state_dict.get("history", {}).items()}

    @torch.no_grad()
    def top1(self, trainer: L.Trainer, pl_module: L.LightningModule) -> torch.Tensor:
        if self._loader is None:  # built once, so loader workers are not respawned every epoch
            if trainer.datamodule is None:
                raise ConfigError("select_on=test_optimistic needs a datamodule with a test split")
            self._loader = trainer.datamodule.test_dataloader()
        was_training = pl_module.training
        pl_module.eval()
        hits, indices = [], []
        try:
            for batch in self._loader:
                net, device = pl_module.net, pl_module.device
                others = {name: value.to(device) for name, value in net.batch_inputs(batch).items()}
                _, probs = net.clip_scores(batch["keypoint"].to(device), **others)
                hits.append((probs.argmax(1) == batch["label"].to(pl_module.device)).long())
                indices.append(batch["index"].to(pl_module.device))
        finally:
            pl_module.train(was_training)
        hit, index = torch.cat(hits), torch.cat(indices)
        if trainer.world_size > 1:
            hit, index = pl_module.all_gather(hit).flatten(), pl_module.all_gather(index).flatten()
        return mean_over_unique(hit, index)
