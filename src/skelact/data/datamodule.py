"""LightningDataModule over a packed store: splits, clip sampling on CPU workers, seeded randomness."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from skelact.data.clips import ClipSpec, image_size_from_meta, make_clips_and_frames
from skelact.data.modalities import KEYPOINT, check_modalities, modality_reader
from skelact.data.samplers import EpochSampler, RebalancedSampler
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError


class ClipDataset(Dataset):
    """Samples of one split as model-ready clips.

    Items are requested as (store index, epoch) pairs by `EpochSampler`, so every random choice comes from a
    generator seeded by (seed, epoch, index): a run is repeatable whatever the number of loader workers.
    With `num_views` > 1 (training only) an item holds that many clips of the sample, each its own random
    temporal sampling drawn in turn from the item's generator: the views of contrastive pre-training.
    `modalities` beyond ``keypoint`` (`skelact.data.modalities`) are read for the frames the clips show and
    stored under their names; the item then also holds those frames as "frames" (K, T).
    """

    def __init__(
        self,
        store: SkeletonStore,
        indices: np.ndarray,
        spec: ClipSpec,
        *,
        test_mode: bool,
        seed: int = 0,
        num_views: int = 1,
        up_axis: Literal["y", "-y", "z", "-z", "x", "-x"] | None = None,
        modalities: tuple[str, ...] = (KEYPOINT,),
        modality_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.store = store
        self.modalities = check_modalities(modalities)
        options = modality_options or {}
        self.readers = {name: modality_reader(name, options.get(name)) for name in self.modalities[1:]}
        self.indices = np.asarray(indices, dtype=np.int64)
        self.spec = spec
        self.test_mode = test_mode
        self.seed = seed
        self.num_views = 1 if test_mode else num_views

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        position, epoch = item if isinstance(item, tuple) else (item, 0)
        index = int(self.indices[position])
        rng = np.random.default_rng([self.seed, epoch, index])
        image_size = image_size_from_meta(self.store.meta(index)) if self.spec.normalize == "image" else None
        views = [
            make_clips_and_frames(
                lambda frames: self.store.read(index, frames),
                int(self.store.lengths[index]),
                self.spec,
                self.store.layout,
                test_mode=self.test_mode,
                rng=rng,
                image_size=image_size,
            )
            for _ in range(self.num_views)
        ]
        clips = np.concatenate([clip for clip, _ in views])
        item: dict[str, Any] = {"keypoint": torch.from_numpy(clips)}
        if len(self.modalities) > 1:
            frames = np.concatenate([shown for _, shown in views])
            item["frames"] = torch.from_numpy(frames)
            for name, reader in self.readers.items():
                item[name] = torch.as_tensor(reader(self.store, index, frames))
        return {**item, "label": int(self.store.labels[index]), "index": index}


def resolve_normalize(store: SkeletonStore, normalize: str | None) -> str:
    """The clip normalisation: the configured one, else the store's recorded one; a contradiction is an error.

    Preparation presets split their normalisation between offline and online steps (NTU ``pyskl`` stores
    need ``center_align`` online, ``ctrgcn`` stores ``none``) and record the online part; a config that
    restates it differently would train on wrongly normalised input without a sign.
    """
    recorded = store.provenance.get("online_normalize")
    if normalize is None:
        return recorded or "none"
    if recorded is not None and normalize != recorded:
        preset = store.provenance.get("preset", "its preset")
        raise ConfigError(
            f"data.normalize {normalize!r} contradicts the store {store.path}: it was prepared with preset "
            f"{preset!r}, which needs normalize {recorded!r}",
            hint="drop data.normalize (the store's value is the default) or prepare it with another preset",
        )
    return normalize


class SkeletonDataModule(L.LightningDataModule):
    """Loads the splits of one store for training, validation, testing and prediction.

    Args:
        store: path of a store written by `skelact prepare`.
        train_split, val_split, test_split: split names inside the store. `val_split=None` disables
            validation; model selection then keeps the last epoch (with a warning).
        predict_split: split used by `predict` (defaults to the test split).
        clip_len, sampling, num_test_clips, max_persons, with_score, crop_ratio, valid_frames: see `ClipSpec`.
        up_axis: the axis pointing up in the store's 3D coordinates ("y", "-y", "z", "-z", "x", "-x"),
            turned to +y before normalisation (`ClipSpec.up_axis`); None keeps them as stored.
        normalize: a `ClipSpec` normalisation. Default: the one the store's preparation recorded
            (`online_normalize` in its provenance, e.g. ``center_align`` for NTU ``--preset pyskl``), else
            "none". A value that contradicts the store's record is an error: the store was prepared for it.
        batch_size: samples per batch (test batches hold `num_test_clips` clips per sample).
        num_workers: loader worker processes.
        repeat: how many times the training split is repeated per epoch (PYSKL's RepeatDataset).
        sampler: "epoch" (every training sample `repeat` times) or "rebalanced" (BRL's tail oversampling,
            `skelact.data.samplers`, from the training split's real class counts).
        rebalance: options of the rebalanced sampler: tail_fraction (1/3), target ("max"), tail_by ("index").
        seed: seeds shuffling and every random clip choice.
        train_fraction, fraction_seed: train on a random fraction of the training split, drawn with
            `fraction_seed` (the semi-supervised protocol, `skelact semi`); 1.0 trains on all of it.
        num_views: clips per training item, each its own random temporal sampling (contrastive
            pre-training: 2 views, ``sampling: crop_resize``, ``crop_ratio: [0.1, 1.0]``, specs/halp.md 3);
            a training batch's "keypoint" is then (N, num_views, M, T, V, C). Evaluation items are unchanged.
        modalities: sample modalities loaded besides ``keypoint`` (`skelact.data.modalities`), e.g.
            ``[frame_index]``; a method adds the ones its model reads (`require_modalities`), so configs
            need not name them.
        modality_options: settings of the modality readers by name, e.g. ``{rgb: {size: 112, padding:
            0.25}}`` (`skelact.data.rgb.RgbCrops`); checked here, applied when the modality is loaded.
    """

    def __init__(
        self,
        store: str,
        train_split: str = "train",
        val_split: str | None = "val",
        test_split: str = "test",
        predict_split: str | None = None,
        clip_len: int = 64,
        sampling: Literal["uniform", "crop_resize", "sorted_random"] = "uniform",
        num_test_clips: int = 1,
        normalize: str | None = None,
        max_persons: int = 2,
        with_score: bool = False,
        crop_ratio: tuple[float, float] = (0.5, 1.0),
        valid_frames: Literal["last", "count"] = "last",
        batch_size: int = 32,
        num_workers: int = 0,
        repeat: int = 1,
        sampler: Literal["epoch", "rebalanced"] = "epoch",
        rebalance: dict[str, Any] | None = None,
        seed: int = 0,
        train_fraction: float = 1.0,
        fraction_seed: int = 0,
        num_views: int = 1,
        up_axis: Literal["y", "-y", "z", "-z", "x", "-x"] | None = None,
        modalities: list[str] | None = None,
        modality_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if batch_size < 1:  # torch's sampler would refuse it later, as a traceback
            raise ConfigError(f"data.batch_size must be at least 1, got {batch_size}")
        if not Path(store).exists():
            raise ConfigError(
                f"store {store} does not exist", hint="create one with `skelact prepare ... --out DIR`"
            )
        self.store = SkeletonStore(store)
        normalize = resolve_normalize(self.store, normalize)
        if up_axis is not None and self.store.num_channels != 3:
            raise ConfigError(
                f"data.up_axis applies to 3D keypoints, but store {store} holds "
                f"{self.store.num_channels} coordinates per joint",
                hint="2D keypoints keep image coordinates (y down): drop data.up_axis",
            )
        self.spec = ClipSpec(
            clip_len=clip_len,
            sampling=sampling,
            num_test_clips=num_test_clips,
            normalize=normalize,
            max_persons=max_persons,
            with_score=with_score,
            crop_ratio=crop_ratio,
            valid_frames=valid_frames,
            up_axis=up_axis,
        )
        for name in (train_split, val_split, test_split, predict_split):
            if name is not None:
                self.store.split(name)  # fail at construction, naming the known splits
        self.train_split, self.val_split, self.test_split = train_split, val_split, test_split
        self.predict_split = predict_split or test_split
        self.batch_size, self.num_workers, self.repeat, self.seed = batch_size, num_workers, repeat, seed
        if sampler not in ("epoch", "rebalanced"):
            raise ConfigError(f"unknown sampler {sampler!r}", hint="use 'epoch' or 'rebalanced'")
        self.sampler, self.rebalance = sampler, dict(rebalance or {})
        if not 0.0 < train_fraction <= 1.0:
            raise ConfigError(f"data.train_fraction must be in (0, 1], got {train_fraction}")
        self.train_fraction, self.fraction_seed = train_fraction, fraction_seed
        if num_views < 1:
            raise ConfigError(f"data.num_views must be at least 1, got {num_views}")
        self.num_views = num_views
        self.modalities = check_modalities(modalities or ())
        self.modality_options = dict(modality_options or {})
        for name, options in self.modality_options.items():
            if name == KEYPOINT:
                raise ConfigError("data.modality_options: the keypoint clips are set by the clip options")
            modality_reader(name, options)  # unknown names and bad options stop here
        self._samplers: list[EpochSampler] = []

    # Values linked into the model's arguments by the CLI.
    @property
    def num_classes(self) -> int:
        return self.store.num_classes

    @property
    def class_names(self) -> list[str]:
        return list(self.store.class_names)

    @property
    def layout_spec(self) -> dict[str, Any]:
        return self.store.layout.to_dict()

    @property
    def num_channels(self) -> int:
        return self.store.num_channels + int(self.spec.with_score)

    @property
    def num_coords(self) -> int:
        return self.store.num_channels

    @property
    def num_persons(self) -> int:
        return self.spec.max_persons

    @property
    def train_indices(self) -> np.ndarray:
        """Store indices trained on: the training split, or a random `train_fraction` of it (the
        semi-supervised protocol; not class-balanced, as CMD draws it), fixed by `fraction_seed`."""
        indices = self.store.split(self.train_split)
        if self.train_fraction >= 1.0:
            return indices
        count = max(1, round(self.train_fraction * len(indices)))
        chosen = np.random.default_rng(self.fraction_seed).choice(len(indices), count, replace=False)
        return indices[np.sort(chosen)]

    @property
    def train_class_counts(self) -> list[int]:
        """Samples per class trained on (long-tail losses, mixup and reports use them)."""
        labels = self.store.labels[self.train_indices]
        return np.bincount(labels, minlength=self.num_classes).tolist()

    def pipeline_facts(self) -> dict[str, Any]:
        """What a checkpoint's pipeline record needs from the data (`skelact.inference.pipeline`)."""
        return {
            "clip": self.spec,
            "preset": self.store.provenance.get("preset"),
            "store": str(self.store.path),
            "store_provenance": self.store.provenance,
        }

    def require_modalities(self, names: tuple[str, ...] | list[str]) -> None:
        """Load `names` too (the modalities a model reads); called by the method before loaders are built."""
        self.modalities = check_modalities((*self.modalities, *names))

    def _loader(self, split: str, *, train: bool) -> DataLoader:
        indices = self.train_indices if train else self.store.split(split)
        dataset = ClipDataset(
            self.store,
            indices,
            self.spec,
            test_mode=not train,
            seed=self.seed,
            num_views=self.num_views,
            modalities=self.modalities,
            modality_options=self.modality_options,
        )
        sampler = self._sampler(dataset, train=train)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=train and len(sampler) > self.batch_size,
        )

    def _sampler(self, dataset: ClipDataset, *, train: bool) -> EpochSampler:
        world = self._distributed_sampler_kwargs()
        if train and self.sampler == "rebalanced":
            labels = self.store.labels[dataset.indices]
            try:
                return RebalancedSampler(
                    labels, self.num_classes, seed=self.seed, repeat=self.repeat, **self.rebalance, **world
                )
            except TypeError as err:
                raise ConfigError(f"bad data.rebalance options: {err}") from None
        repeat = self.repeat if train else 1
        return EpochSampler(len(dataset), shuffle=train, seed=self.seed, repeat=repeat, **world)

    def _distributed_sampler_kwargs(self) -> dict[str, int]:
        """The trainer's data-parallel world (processes and this one's rank); empty outside a trainer."""
        trainer = getattr(self, "trainer", None)
        kwargs = getattr(trainer, "distributed_sampler_kwargs", None) if trainer is not None else None
        return {k: int(v) for k, v in (kwargs or {}).items() if k in ("num_replicas", "rank")}

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_split, train=True)

    def val_dataloader(self) -> DataLoader | list:
        return [] if self.val_split is None else self._loader(self.val_split, train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_split, train=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.predict_split, train=False)

    def sample_ids(self, indices: np.ndarray) -> list[str]:
        return [self.store.sample_ids[i] for i in indices]
