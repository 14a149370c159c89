"""A run resumed from its checkpoint continues as the uninterrupted run would have: two gaps in Lightning.

`KeepSelectionOnResume`: Lightning's `ModelCheckpoint` restores its best score, its best files and its last
file only when the folder saved in the checkpoint equals its current folder as a string; otherwise it warns
and selection restarts, so a resumed run could keep other weights than the uninterrupted run. `skelact fit`
resumes into the checkpoint's own run directory, but the same folder can be spelled differently (relative
and absolute, another working directory, a run copied or moved elsewhere). When the checkpoint being
resumed lies in the current checkpoint folder, the saved paths are moved into that folder before
`ModelCheckpoint` reads them.

Lightning also hands a checkpoint's `ModelCheckpoint` state to `skelact test` and `validate`, which run in
a run directory of their own: the folders differ, so it warned that the state "won't be reloaded" on every
test. Evaluation neither uses nor extends the fit run's selection, so that state is dropped there instead.

`RestartLoaderOnResume`: Lightning builds the training loader, and starts its workers, before it restores
the epoch from the checkpoint (`configure_optimizers` asks for the number of steps), and it sets the
sampler's epoch only afterwards. Workers have then already been handed epoch 0's order, so with
`num_workers > 0` the first epoch after a resume read epoch 0's samples (a resume was exact with
`num_workers: 0` only). On the resumed fit's start the sampler gets the restored epoch and the persistent
workers are reset, which hands them that epoch's order.
"""

from __future__ import annotations

import os
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import CombinedLoader
from torch.utils.data import DataLoader

PATH_KEYS = ("dirpath", "best_model_path", "kth_best_model_path", "last_model_path")


class KeepSelectionOnResume(L.Callback):
    """Rebases `ModelCheckpoint` states onto the current checkpoint folder when resuming from a file in it;
    drops them when a checkpoint is loaded for evaluation."""

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # Lightning calls every callback's on_load_checkpoint before any callback's load_state_dict.
        ckpt_path = trainer.ckpt_path
        states = checkpoint.get("callbacks")
        if ckpt_path is None or not states:
            return
        if trainer.state.fn != TrainerFn.FITTING:  # the fit run's selection state: not this run's business
            for callback in trainer.checkpoint_callbacks:
                states.pop(callback.state_key, None)
            return
        for callback in trainer.checkpoint_callbacks:
            if not isinstance(callback, ModelCheckpoint) or callback.dirpath is None:
                continue
            state = states.get(callback.state_key)
            saved = None if state is None else state.get("dirpath")
            if saved is None or saved == callback.dirpath:
                continue
            if _same_folder(os.path.dirname(os.fspath(ckpt_path)), os.fspath(callback.dirpath)):
                states[callback.state_key] = rebase(state, saved, os.fspath(callback.dirpath))


def rebase(state: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`state` with every path directly inside folder `old` moved into folder `new`."""

    def move(path: Any) -> Any:
        if (
            isinstance(path, str)
            and path
            and os.path.normpath(os.path.dirname(path)) == os.path.normpath(old)
        ):
            return os.path.join(new, os.path.basename(path))
        return path

    out = dict(state)
    out["dirpath"] = new
    for key in PATH_KEYS[1:]:
        if key in out:
            out[key] = move(out[key])
    if isinstance(out.get("best_k_models"), dict):
        out["best_k_models"] = {move(path): score for path, score in out["best_k_models"].items()}
    return out


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


class RestartLoaderOnResume(L.Callback):
    """Hands persistent loader workers the restored epoch's order when a fit resumes from a checkpoint."""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.ckpt_path is None:
            return
        loaders = trainer.train_dataloader
        flat = loaders.flattened if isinstance(loaders, CombinedLoader) else _flatten(loaders)
        for loader in flat:
            if not (isinstance(loader, DataLoader) and loader.persistent_workers and loader.num_workers > 0):
                continue  # without workers the order is drawn at the first batch, after the epoch is set
            set_epoch = getattr(loader.sampler, "set_epoch", None)
            if set_epoch is not None:
                set_epoch(trainer.current_epoch)
                iter(
                    loader
                )  # persistent workers: resets the iterator Lightning holds, with this epoch's order


def _flatten(loaders: Any) -> list[Any]:
    if isinstance(loaders, dict):
        return [item for value in loaders.values() for item in _flatten(value)]
    if isinstance(loaders, (list, tuple)):
        return [item for value in loaders for item in _flatten(value)]
    return [loaders]
