"""Predict actions from a checkpoint alone: the checkpoint carries layout, modality, clip settings and class
names (DESIGN.md principle 6), so input is handled exactly as in training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skelact.data.clips import ClipSpec, image_size_from_meta, make_clips
from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore
from skelact.data.transforms.features import ModalityFeatures
from skelact.errors import FormatError, LayoutError, SkelactError
from skelact.methods.supervised import CHECKPOINT_KEY, InputModel
from skelact.models.registry import create_model
from skelact.skeleton.layout import Layout, get_layout


@dataclass
class Prediction:
    """Top-k classes of one sample."""

    sample_id: str
    classes: list[str]
    indices: list[int]
    probabilities: list[float]
    label: int = -1


class Predictor:
    """Rebuilds the trained input pipeline and network from a checkpoint."""

    def __init__(
        self, net: InputModel, layout: Layout, spec: ClipSpec, class_names: list[str], num_coords: int
    ):
        self.net = net.eval()
        self.layout = layout
        self.spec = spec
        self.class_names = class_names
        self.num_coords = num_coords

    @classmethod
    def from_checkpoint(cls, path: str | Path, map_location: str = "cpu") -> Predictor:
        path = Path(path)
        if not path.is_file():
            raise SkelactError(f"checkpoint {path} does not exist")
        try:
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as err:  # torch raises several types for a damaged or foreign file
            raise FormatError(f"cannot load checkpoint: {err}", path=path) from None
        meta: dict[str, Any] | None = checkpoint.get(CHECKPOINT_KEY)
        if not meta or not meta.get("data"):
            raise FormatError(
                "checkpoint has no skelact pipeline record (was it written by skelact fit?)", path=path
            )
        layout = get_layout(meta["layout"])
        num_channels = int(meta["num_channels"])
        features = ModalityFeatures(
            layout,
            tuple(meta["modality"]),
            num_coords=int(meta["num_coords"]),
            score_channel=num_channels > int(meta["num_coords"]),
        )
        backbone = create_model(
            meta["model"],
            layout=layout,
            in_channels=features.out_channels(num_channels),
            num_classes=int(meta["num_classes"]),
            num_persons=int(meta["num_persons"]),
            **meta["model_args"],
        )
        net = InputModel(features, backbone)
        state = {
            k.removeprefix("net."): v for k, v in checkpoint["state_dict"].items() if k.startswith("net.")
        }
        net.load_state_dict(state)
        spec = ClipSpec.from_dict(meta["data"]["clip"])
        return cls(net, layout, spec, list(meta["class_names"]), int(meta["num_coords"]))

    def check_input(self, sample: SkeletonSample, source: str) -> None:
        """One clear error for input the model cannot take, instead of a crash deep inside the network."""
        if sample.num_frames == 0:
            raise FormatError("empty sequence (zero frames)", path=source)
        if sample.num_joints != self.layout.num_joints:
            raise LayoutError(
                f"{source}: {sample.num_joints} joints, but the checkpoint expects layout "
                f"{self.layout.name!r} with {self.layout.num_joints} joints"
            )
        if sample.num_channels != self.num_coords:
            raise FormatError(
                f"{sample.num_channels} coordinates per joint, the checkpoint expects {self.num_coords}",
                path=source,
            )

    @torch.no_grad()
    def predict_sample(self, sample: SkeletonSample, top_k: int = 5, source: str = "input") -> Prediction:
        sample.validate(source=source)
        self.check_input(sample, source)
        keypoint, score = sample.keypoint, sample.score

        def read(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            return keypoint[:, frames], None if score is None else score[:, frames]

        clips = make_clips(
            read,
            sample.num_frames,
            self.spec,
            self.layout,
            test_mode=True,
            rng=np.random.default_rng(0),
            image_size=image_size_from_meta(sample.meta),
        )
        return self._top_k(torch.from_numpy(clips)[None], sample.sample_id, sample.label, top_k)[0]

    @torch.no_grad()
    def predict_store(
        self, store: SkeletonStore, split: str | None = None, top_k: int = 5, batch_size: int = 32
    ) -> list[Prediction]:
        if store.layout.name != self.layout.name or store.layout.num_joints != self.layout.num_joints:
            raise LayoutError(
                f"store {store.path} was prepared for layout {store.layout.name!r}, "
                f"the checkpoint expects {self.layout.name!r}",
                hint="predict on data of the layout the model was trained on",
            )
        if store.num_channels != self.num_coords:
            raise FormatError(
                f"store has {store.num_channels} coordinates per joint, "
                f"the checkpoint expects {self.num_coords}",
                path=store.path,
            )
        indices = store.split(split) if split else np.arange(len(store))
        results: list[Prediction] = []
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            clips = np.stack(
                [
                    make_clips(
                        lambda f, i=int(i): store.read(i, f),
                        int(store.lengths[i]),
                        self.spec,
                        store.layout,
                        test_mode=True,
                        rng=np.random.default_rng(0),
                        image_size=image_size_from_meta(store.meta(int(i))),
                    )
                    for i in chunk
                ]
            )
            results += self._top_k(
                torch.from_numpy(clips),
                [store.sample_ids[i] for i in chunk],
                [int(store.labels[i]) for i in chunk],
                top_k,
            )
        return results

    def _top_k(self, clips: torch.Tensor, ids: Any, labels: Any, top_k: int) -> list[Prediction]:
        n, k = clips.shape[:2]
        probs = self.net(clips.flatten(0, 1)).view(n, k, -1).softmax(-1).mean(1)
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
            for row in range(n)
        ]
