"""Predict actions from a checkpoint alone: its pipeline record (`skelact.inference.pipeline`) carries
layout, modality, clip settings, preset and class names (DESIGN.md principle 6), so input is handled exactly
as in training. Imports neither Lightning nor plotting: deployments install the core package only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skelact.data.clips import image_size_from_meta, make_clips
from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.inference.inputs import read_clip_file, sample_from_array
from skelact.inference.pipeline import InputModel, PipelineRecord, load_input_model
from skelact.skeleton.layout import Layout, get_layout
from skelact.skeleton.mapping import get_mapping, list_mappings, map_keypoints


@dataclass
class Prediction:
    """Top-k classes of one sample."""

    sample_id: str
    classes: list[str]
    indices: list[int]
    probabilities: list[float]
    label: int = -1


class Predictor:
    """The trained network and its input handling, rebuilt from a checkpoint's pipeline record."""

    def __init__(self, net: InputModel, record: PipelineRecord) -> None:
        self.net = net.eval()
        self.record = record
        self.layout = record.get_layout()
        self.spec = record.clip
        self.class_names = list(record.class_names)
        self.num_coords = record.num_coords

    @classmethod
    def from_checkpoint(cls, path: str | Path, map_location: str = "cpu") -> Predictor:
        """Load with `weights_only=True` (no code from the file runs) and rebuild the network."""
        net, record = load_input_model(path, map_location)
        extra = [name for name in record.inputs if name != "keypoint"]
        if extra:
            raise FormatError(
                f"the model needs the sample modality {', '.join(map(repr, extra))} besides keypoints; the "
                "predictor feeds keypoints only",
                path=path,
                hint="evaluate it with `skelact test` on a store that provides it",
            )
        return cls(net, record)

    def adapt(self, sample: SkeletonSample, layout: str | Layout | None = None) -> SkeletonSample:
        """The sample in the checkpoint's layout: mapped through `skelact.skeleton.mapping` when it comes in
        another layout (given, or recognised by its joint count when exactly one mapping fits)."""
        source = None if layout is None else get_layout(layout)
        if source is None and sample.num_joints != self.layout.num_joints:
            candidates = [
                a
                for a, b in list_mappings()
                if b == self.layout.name and get_layout(a).num_joints == sample.num_joints
            ]
            source = get_layout(candidates[0]) if len(candidates) == 1 else None
        if source is None or source.name == self.layout.name:
            return sample
        if sample.num_joints != source.num_joints:
            raise LayoutError(
                f"{sample.sample_id or 'input'}: {sample.num_joints} joints, but layout {source.name!r} "
                f"has {source.num_joints}"
            )
        keypoint, score = map_keypoints(sample.keypoint, source, self.layout, sample.score)
        return dataclasses.replace(sample, keypoint=keypoint, score=score)

    def check_input(self, sample: SkeletonSample, source: str) -> None:
        """One clear error for input the model cannot take, instead of a crash deep inside the network."""
        if sample.keypoint.ndim != 4 or sample.num_persons == 0 or sample.num_frames == 0:
            raise FormatError(f"empty sequence (keypoint shape {tuple(sample.keypoint.shape)})", path=source)
        if sample.num_joints != self.layout.num_joints:
            known = [a for a, b in list_mappings() if b == self.layout.name]
            raise LayoutError(
                f"{source}: {sample.num_joints} joints, but the checkpoint expects layout "
                f"{self.layout.name!r} with {self.layout.num_joints} joints",
                hint=(
                    f"name the input's layout (one of {', '.join(known)}) to map it"
                    if known
                    else "predict on data of the layout the model was trained on"
                ),
            )
        if sample.num_channels != self.num_coords:
            extra = (
                " (a confidence score goes in `score`, or pass score_channel)"
                if sample.num_channels == self.num_coords + 1
                else ""
            )
            raise FormatError(
                f"{sample.num_channels} coordinates per joint, the checkpoint expects "
                f"{self.num_coords}{extra}",
                path=source,
            )

    def clips(self, sample: SkeletonSample) -> np.ndarray:
        """The test-time clips (K, M, T, V, C') of one checked sample, exactly as in training."""
        keypoint, score = sample.keypoint, sample.score

        def read(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            return keypoint[:, frames], None if score is None else score[:, frames]

        return make_clips(
            read,
            sample.num_frames,
            self.spec,
            self.layout,
            test_mode=True,
            rng=np.random.default_rng(0),
            image_size=image_size_from_meta(sample.meta),
        )

    @torch.no_grad()
    def predict_sample(
        self,
        sample: SkeletonSample,
        top_k: int = 5,
        source: str = "input",
        layout: str | Layout | None = None,
    ) -> Prediction:
        """Top-k classes of one sample; `layout` names the input's skeleton when it is not the model's."""
        self.check_shape(sample, source)
        sample = self.adapt(sample, layout)
        self.check_input(sample, source)
        sample.validate(source=source)
        return self._top_k(torch.from_numpy(self.clips(sample))[None], sample.sample_id, sample.label, top_k)[
            0
        ]

    @torch.no_grad()
    def probabilities(self, samples: list[SkeletonSample], batch_size: int = 64) -> np.ndarray:
        """(N, classes) class probabilities of checked samples (e.g. sliding windows), batched."""
        out = []
        for start in range(0, len(samples), batch_size):
            clips = torch.from_numpy(np.stack([self.clips(s) for s in samples[start : start + batch_size]]))
            out.append(self.net.clip_scores(clips)[1].numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.class_names)), dtype=np.float32)

    def predict_array(
        self,
        array: np.ndarray,
        *,
        score: np.ndarray | None = None,
        layout: str | Layout | None = None,
        top_k: int = 5,
        sample_id: str = "array",
    ) -> Prediction:
        """Top-k classes of a (T, V, C) or (M, T, V, C) keypoint array."""
        sample = sample_from_array(array, score=score, sample_id=sample_id)
        return self.predict_sample(sample, top_k, source=sample_id, layout=layout)

    def predict_file(
        self,
        path: str | Path,
        *,
        layout: str | Layout | None = None,
        score_channel: bool = False,
        top_k: int = 5,
    ) -> Prediction:
        """Top-k classes of one clip file (`.npy`, `.csv`/`.json` keypoint table, NTU `.skeleton`)."""
        sample = read_clip_file(
            path,
            get_layout(layout) if layout else self.layout,
            score_channel=score_channel,
            ntu_preset=self.record.preset or "ctrgcn",  # a raw NTU file is denoised as the store was
        )
        return self.predict_sample(sample, top_k, source=str(path), layout=layout)

    @staticmethod
    def check_shape(sample: SkeletonSample, source: str) -> None:
        keypoint = np.asarray(sample.keypoint)
        if keypoint.ndim != 4:
            raise FormatError(f"expected keypoints shaped (M, T, V, C), got {keypoint.shape}", path=source)
        if 0 in keypoint.shape:
            raise FormatError(f"empty sequence: keypoint shape {keypoint.shape}", path=source)

    @torch.no_grad()
    def predict_store(
        self, store: SkeletonStore, split: str | None = None, top_k: int = 5, batch_size: int = 32
    ) -> list[Prediction]:
        """Top-k classes of every sample of `split` (all samples when None). A store of other class names
        has its labels translated by name (-1 where the checkpoint does not know the class), so the truth
        shown next to a prediction and the top-1 are the checkpoint's classes."""
        ours = {name: i for i, name in enumerate(self.class_names)}
        translate = None
        if list(store.class_names) != self.class_names:
            translate = [ours.get(name, -1) for name in store.class_names]
        results: list[Prediction] = []
        for clips, ids, labels in self.store_batches(store, split, batch_size):
            labels = labels if translate is None else [translate[label] for label in labels]
            results += self._top_k(clips, ids, labels, top_k)
        return results

    @torch.no_grad()
    def embed_store(
        self, store: SkeletonStore, split: str | None = None, batch_size: int = 32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, F) pooled backbone features (the mean over test clips) and (N,) labels of a split's samples:
        the embeddings of k-NN retrieval and of probes on frozen features."""
        features, labels = [], []
        for clips, _, batch_labels in self.store_batches(store, split, batch_size):
            n, k = clips.shape[:2]
            pooled = self.net.pooled_features(clips.flatten(0, 1))
            features.append(pooled.float().view(n, k, -1).mean(1))
            labels.append(torch.as_tensor(batch_labels, dtype=torch.long))
        if not features:
            raise FormatError(f"split {split!r} holds no samples", path=store.path)
        return torch.cat(features), torch.cat(labels)

    def store_batches(
        self, store: SkeletonStore, split: str | None = None, batch_size: int = 32
    ) -> Iterator[tuple[torch.Tensor, list[str], list[int]]]:
        """Test-time clips (B, K, M, T, V, C'), ids and labels of a split, batch by batch, exactly as in
        training's test step. Another layout is mapped on read when a joint mapping exists (else one clear
        LayoutError)."""
        mapping = None
        if store.layout.name != self.layout.name or store.layout.num_joints != self.layout.num_joints:
            mapping = get_mapping(store.layout, self.layout)

        def read(index: int, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            keypoint, score = store.read(index, frames)
            return (keypoint, score) if mapping is None else mapping.apply(keypoint, score)

        if store.num_channels != self.num_coords:
            raise FormatError(
                f"store has {store.num_channels} coordinates per joint, "
                f"the checkpoint expects {self.num_coords}",
                path=store.path,
            )
        needed = store.provenance.get("online_normalize")  # what the store's preparation preset needs
        if needed is not None and needed != self.spec.normalize:
            raise FormatError(
                f"the store was prepared (preset {store.provenance.get('preset')!r}) for normalize "
                f"{needed!r}, the checkpoint normalises with {self.spec.normalize!r}",
                path=store.path,
                hint="prepare the data with the preset the checkpoint's store used "
                f"({self.record.preset or 'see skelact info on it'})",
            )
        indices = store.split(split) if split else np.arange(len(store))
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            clips = np.stack(
                [
                    make_clips(
                        lambda f, i=int(i): read(i, f),
                        int(store.lengths[i]),
                        self.spec,
                        self.layout,
                        test_mode=True,
                        rng=np.random.default_rng(0),
                        image_size=image_size_from_meta(store.meta(int(i))),
                    )
                    for i in chunk
                ]
            )
            yield (
                torch.from_numpy(clips),
                [store.sample_ids[i] for i in chunk],
                [int(store.labels[i]) for i in chunk],
            )

    def _top_k(self, clips: torch.Tensor, ids: Any, labels: Any, top_k: int) -> list[Prediction]:
        if top_k < 1:  # top 0 would be an empty prediction, not an answer
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        _, probs = self.net.clip_scores(clips)
        top = probs.topk(min(top_k, probs.shape[1]), dim=1)
        ids = [ids] if isinstance(ids, str) else ids
        labels = [labels] if isinstance(labels, int) else labels
        return [
            Prediction(
                sample_id=ids[row],
                classes=[self.class_names[j] for j in top.indices[row].tolist()],
                indices=top.indices[row].tolist(),
                probabilities=top.values[row].tolist(),
                label=labels[row],
            )
            for row in range(len(probs))
        ]
