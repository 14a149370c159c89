"""ST-GCN Kinetics-skeleton JSON (OpenPose COCO-18, 2D + score) and its label index (spec 2.6).

A clip file is ``{"data": [{"frame_index": int, "skeleton": [{"pose": [x0, y0, ..., x17, y17],
"score": [s0..s17]}, ...]}, ...], "label": str, "label_index": int}`` with x, y in [0, 1] of the frame; a
missing joint is (0, 0) with score 0. The index file maps clip id -> ``{has_skeleton, label, label_index}``.

Packing follows the ST-GCN/mmskeleton and MS-G3D readers: a buffer of up to `max_frames` (300) frames and
`buffer_persons` (5) person slots filled in listed order at each record's frame index (persons beyond the
fifth in a frame are ignored, frame records beyond the buffer are dropped and counted in
``meta["clipped_frames"]``, and a clip whose people all lie beyond it is an error, not an empty clip); then
coordinates are centred, joints with score 0 are zeroed, and **per frame** persons are sorted by summed
score (stable, so ties keep listed order) and the top `max_persons` (2) kept.

Decisions [design choice]:
- ``frame_index``: the sample clips run 1..T, while the format is described as 0-based. With
  ``frame_base="auto"`` a clip is read as 0-based if any record has index 0, else as 1-based; the stored
  clip starts at the base frame. ST-GCN itself indexes its buffer directly, which leaves buffer frame 0
  empty on 1-based clips; we do not reproduce that empty frame.
- The stored length is the last recorded frame inside the buffer, so frames without people inside the clip
  are kept as zeros while one stray far ``frame_index`` does not pad the clip to `max_frames`; the person
  axis holds as many slots as the busiest frame needs (<= 2).
- Coordinates: ``coords="unit"`` (default) maps [0, 1] to [-1, 1] (2x - 1), skelact's 2D convention
  (DESIGN.md); ``"stgcn"`` subtracts 0.5 as ST-GCN and MS-G3D do ([-0.5, 0.5]); ``"raw"`` keeps [0, 1].
  ``flip_y`` negates y afterwards (MS-G3D). Missing joints stay exactly zero in every mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from skelact.data.formats.registry import register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError

NUM_JOINTS = 18
COORD_MODES = ("unit", "stgcn", "raw")
CoordMode = Literal["unit", "stgcn", "raw"]
FrameBase = Literal["auto", "0", "1"]


@dataclass(frozen=True)
class KineticsOptions:
    """How a clip is packed; recorded in a store's provenance."""

    max_frames: int = 300
    buffer_persons: int = 5
    max_persons: int = 2
    coords: CoordMode = "unit"
    flip_y: bool = False
    frame_base: FrameBase = "auto"

    def __post_init__(self) -> None:
        if self.max_frames < 1 or self.buffer_persons < 1 or self.max_persons < 1:
            raise ConfigError("max_frames, buffer_persons and max_persons must be at least 1")
        if self.max_persons > self.buffer_persons:
            raise ConfigError(
                f"max_persons ({self.max_persons}) cannot exceed buffer_persons ({self.buffer_persons})"
            )
        if self.coords not in COORD_MODES:
            raise ConfigError(
                f"unknown coordinate mode {self.coords!r}; choose one of {', '.join(COORD_MODES)}"
            )
        if str(self.frame_base) not in ("auto", "0", "1"):
            raise ConfigError(f"frame_base must be 'auto', '0' or '1', got {self.frame_base!r}")


@dataclass(frozen=True)
class KineticsClip:
    """One parsed clip before labelling: keypoint (M, T, 18, 2) and score (M, T, 18), M may be 0."""

    clip_id: str
    keypoint: np.ndarray
    score: np.ndarray
    label_name: str
    label_index: int
    frame_base: int
    clipped_frames: int


@dataclass(frozen=True)
class LabelEntry:
    """One entry of a Kinetics label index file."""

    has_skeleton: bool
    label: str
    label_index: int


# ----------------------------------------------------------------------------------------------- label index


def read_kinetics_label_index(path: str | Path) -> dict[str, LabelEntry]:
    """Read ``kinetics_{train,val}_label.json``: clip id -> `LabelEntry`, every entry checked."""
    path = Path(path)
    data = _load_json(path)
    if not isinstance(data, dict):
        raise FormatError(f"expected an object of clip id -> entry, got {type(data).__name__}", path=path)
    index: dict[str, LabelEntry] = {}
    for clip_id, entry in data.items():
        where = f"entry {clip_id!r}"
        if not isinstance(entry, dict) or not {"has_skeleton", "label", "label_index"} <= entry.keys():
            raise FormatError("expected {has_skeleton, label, label_index}", path=path, where=where)
        has, name, number = entry["has_skeleton"], entry["label"], entry["label_index"]
        if not isinstance(has, bool) or not isinstance(name, str) or not _is_int(number) or number < 0:
            raise FormatError(
                "expected has_skeleton bool, label str, label_index int >= 0; "
                f"got {has!r}, {name!r}, {number!r}",
                path=path,
                where=where,
            )
        index[clip_id] = LabelEntry(has, name, int(number))
    return index


def class_names_from_index(index: Mapping[str, LabelEntry], *, path: str | Path | None = None) -> list[str]:
    """Class names in label order; every index 0..K-1 must name exactly one class."""
    names: dict[int, str] = {}
    for clip_id, entry in index.items():
        known = names.setdefault(entry.label_index, entry.label)
        if known != entry.label:
            raise FormatError(
                f"label_index {entry.label_index} names both {known!r} and {entry.label!r}",
                path=path,
                where=f"entry {clip_id!r}",
            )
    if not names:
        raise FormatError("the label index is empty", path=path)
    missing = sorted(set(range(max(names) + 1)) - names.keys())
    if missing:
        raise FormatError(
            f"label indices are not contiguous: {len(missing)} without a class, first {missing[:10]}",
            path=path,
        )
    ordered = [names[i] for i in range(len(names))]
    if len(set(ordered)) != len(ordered):
        raise FormatError("one class name has two label indices", path=path)
    return ordered


# ----------------------------------------------------------------------------------------------- clips


def read_kinetics_clip(path: str | Path, options: KineticsOptions | None = None) -> KineticsClip:
    """Parse and pack one clip file; raises one `FormatError` naming the file and the frame record."""
    path = Path(path)
    options = options or KineticsOptions()
    record = _load_json(path)
    if not isinstance(record, dict) or "data" not in record:
        raise FormatError("expected an object with 'data', 'label' and 'label_index'", path=path)
    data = record["data"]
    if not isinstance(data, list):
        raise FormatError(f"'data' must be a list of frame records, got {type(data).__name__}", path=path)
    label_name, label_index = record.get("label"), record.get("label_index")
    if not isinstance(label_name, str):
        raise FormatError(f"'label' must be the class name, got {label_name!r}", path=path)
    if not _is_int(label_index):
        raise FormatError(f"'label_index' must be an integer, got {label_index!r}", path=path)

    frames, slots, poses, scores, where = _collect_persons(data, options.buffer_persons, path)
    indices = np.asarray([r["frame_index"] for r in data], dtype=np.int64)
    _check_unique_frames(indices, path)
    base = _frame_base(indices, options.frame_base)
    if indices.size and indices.min() < base:
        first = int(np.argmin(indices))
        raise FormatError(
            f"frame_index {int(indices[first])} is below the frame base {base}",
            path=path,
            where=f"data[{first}]",
        )
    in_buffer = indices - base < options.max_frames
    num_frames = int(indices[in_buffer].max()) - base + 1 if in_buffer.any() else 0
    clipped = int((~in_buffer).sum())

    pose = _numeric(poses, (2 * NUM_JOINTS,), "pose", where, path).reshape(-1, NUM_JOINTS, 2)
    score = _numeric(scores, (NUM_JOINTS,), "score", where, path)
    frame = np.asarray(frames, dtype=np.int64) - base
    slot = np.asarray(slots, dtype=np.int64)
    inside = frame < options.max_frames
    if frame.size and not inside.any():  # people were detected, but only where the buffer cannot hold them
        _refuse_people_past_buffer(data, indices, base, options.max_frames, path)
    frame, slot, pose, score = frame[inside], slot[inside], pose[inside], score[inside]

    buffer = np.zeros((options.buffer_persons, num_frames, NUM_JOINTS, 2), dtype=np.float64)
    conf = np.zeros((options.buffer_persons, num_frames, NUM_JOINTS), dtype=np.float64)
    buffer[slot, frame] = pose
    conf[slot, frame] = score
    buffer = _to_coords(buffer, options)
    buffer[conf == 0] = 0.0
    keypoint, conf = _top_persons(buffer, conf, options.max_persons)
    used = int(min(options.max_persons, np.bincount(frame, minlength=1).max())) if frame.size else 0
    return KineticsClip(
        clip_id=path.stem,
        keypoint=keypoint[:used].astype(np.float32),
        score=conf[:used].astype(np.float32),
        label_name=label_name,
        label_index=int(label_index),
        frame_base=base,
        clipped_frames=clipped,
    )


def clip_to_sample(clip: KineticsClip, label: int, source: str | Path, **extra: Any) -> SkeletonSample:
    """A validated sample from a packed clip with at least one person."""
    meta: dict[str, Any] = {
        "source": str(source),
        "label_name": clip.label_name,
        "frame_base": clip.frame_base,
        "clipped_frames": clip.clipped_frames,
        **extra,
    }
    sample = SkeletonSample(
        keypoint=clip.keypoint, label=label, score=clip.score, meta=meta, sample_id=clip.clip_id
    )
    return sample.validate(num_joints=NUM_JOINTS, num_channels=2, source=source)


@register_format(
    "kinetics-json", description="ST-GCN Kinetics-skeleton per-clip JSON (OpenPose 18 joints, 2D)"
)
def read_kinetics_json_file(
    path: str | Path,
    options: KineticsOptions | None = None,
    class_to_index: Mapping[str, int] | None = None,
) -> SkeletonSample:
    """One clip as a sample on layout ``openpose18``.

    The label is ``class_to_index[clip label name]`` when a mapping (from the label index file) is given,
    else the clip's own ``label_index``. A clip in which nobody is detected has no sample: `FormatError`.
    """
    clip = read_kinetics_clip(path, options)
    if clip.keypoint.shape[0] == 0:
        raise FormatError("no person is detected in any frame; the clip has no skeleton", path=path)
    return clip_to_sample(clip, label_for_clip(clip, class_to_index, path), path)


def label_for_clip(clip: KineticsClip, class_to_index: Mapping[str, int] | None, path: str | Path) -> int:
    """Label by class name through the index when given (5 sample clips carry a rewritten label_index)."""
    if class_to_index is None:
        if clip.label_index < 0:
            raise FormatError(
                f"label_index {clip.label_index} is negative", path=path, where="key 'label_index'"
            )
        return clip.label_index
    if clip.label_name not in class_to_index:
        raise FormatError(
            f"class {clip.label_name!r} is not in the label index ({len(class_to_index)} classes)",
            path=path,
            where="key 'label'",
        )
    return class_to_index[clip.label_name]


# ----------------------------------------------------------------------------------------------- helpers


def _load_json(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise FormatError(
            f"invalid JSON: {err.msg}", path=path, where=f"line {err.lineno}, column {err.colno}"
        ) from None
    except UnicodeDecodeError as err:
        raise FormatError(f"not UTF-8 text ({err.reason})", path=path) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _collect_persons(
    data: list, buffer_persons: int, path: Path
) -> tuple[list[int], list[int], list[Any], list[Any], list[str]]:
    """Flatten the records into per-person rows (the first `buffer_persons` of each frame), checking shape."""
    frames: list[int] = []
    slots: list[int] = []
    poses: list[Any] = []
    scores: list[Any] = []
    where: list[str] = []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict) or "frame_index" not in rec or "skeleton" not in rec:
            raise FormatError(
                "expected a frame record {frame_index, skeleton}", path=path, where=f"data[{i}]"
            )
        index, people = rec["frame_index"], rec["skeleton"]
        if not _is_int(index):
            raise FormatError(f"frame_index must be an integer, got {index!r}", path=path, where=f"data[{i}]")
        if not isinstance(people, list):
            raise FormatError("'skeleton' must be a list of persons", path=path, where=f"data[{i}]")
        for j, person in enumerate(people[:buffer_persons]):
            at = f"data[{i}] (frame_index {index}) skeleton[{j}]"
            if not isinstance(person, dict) or "pose" not in person or "score" not in person:
                raise FormatError("expected a person {pose, score}", path=path, where=at)
            pose, score = person["pose"], person["score"]
            if not isinstance(pose, list) or len(pose) != 2 * NUM_JOINTS:
                got = len(pose) if isinstance(pose, list) else type(pose).__name__
                raise FormatError(
                    f"pose must hold {2 * NUM_JOINTS} numbers (x, y per joint), got {got}",
                    path=path,
                    where=at,
                )
            if not isinstance(score, list) or len(score) != NUM_JOINTS:
                got = len(score) if isinstance(score, list) else type(score).__name__
                raise FormatError(f"score must hold {NUM_JOINTS} numbers, got {got}", path=path, where=at)
            frames.append(index)
            slots.append(j)
            poses.append(pose)
            scores.append(score)
            where.append(at)
    return frames, slots, poses, scores, where


def _numeric(rows: list[Any], shape: tuple[int, ...], what: str, where: list[str], path: Path) -> np.ndarray:
    """Rows as one float64 array; a non-number or NaN/Inf raises naming its frame record and person."""
    if not rows:
        return np.zeros((0, *shape), dtype=np.float64)
    try:
        array = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        for at, row in zip(where, rows, strict=True):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
                raise FormatError(f"{what} holds a non-number", path=path, where=at) from None
        raise
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise FormatError(f"{what}[{column}] is NaN or Inf", path=path, where=where[row])
    return array


def _frame_base(indices: np.ndarray, setting: str) -> int:
    if str(setting) != "auto":
        return int(setting)
    return 0 if indices.size and (indices == 0).any() else 1


def _refuse_people_past_buffer(
    data: list, indices: np.ndarray, base: int, max_frames: int, path: Path
) -> None:
    """Every detected person lies past the buffer: say so, instead of calling the clip empty."""
    with_people = np.flatnonzero(np.asarray([bool(rec["skeleton"]) for rec in data]))
    first = int(with_people[np.argmin(indices[with_people])])
    raise FormatError(
        f"frame_index {int(indices[first])} (frame {int(indices[first]) - base + 1} of the clip) and every "
        f"later record with people lie past the {max_frames}-frame buffer, so the clip would be empty; a "
        "frame_index this large is most likely corrupt",
        path=path,
        where=f"data[{first}]",
        hint="fix the frame indices, or raise `max_frames` if the clip really is that long",
    )


def _check_unique_frames(indices: np.ndarray, path: Path) -> None:
    values, counts = np.unique(indices, return_counts=True)
    if (counts > 1).any():
        dup = int(values[counts > 1][0])
        records = np.flatnonzero(indices == dup)[:2].tolist()
        raise FormatError(
            f"frame_index {dup} appears in more than one frame record", path=path, where=f"data{records}"
        )


def _to_coords(xy: np.ndarray, options: KineticsOptions) -> np.ndarray:
    if options.coords == "stgcn":
        xy = xy - 0.5
    elif options.coords == "unit":
        xy = 2.0 * xy - 1.0
    if options.flip_y:
        xy[..., 1] = -xy[..., 1]
    return xy


def _top_persons(keypoint: np.ndarray, score: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, order the person slots by summed score (descending, stable) and keep the first `keep`."""
    order = np.argsort(-score.sum(axis=2), axis=0, kind="stable")[:keep]  # (keep, T)
    keypoint = np.take_along_axis(keypoint, order[:, :, None, None], axis=0)
    score = np.take_along_axis(score, order[:, :, None], axis=0)
    return keypoint, score
