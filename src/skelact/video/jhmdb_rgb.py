"""`skelact prepare jhmdb-rgb`: the 928 J-HMDB videos, posed by skelact's own MediaPipe path (docs/rgb.md).

``--raw`` is the folder with ``videos/<class>/<clip>.avi`` and the official ``splits.zip``
(``splits/<class>_test_split<k>.txt``, one line ``<clip>.avi 1|2`` per clip, 1 = train, 2 = test). Each
clip goes through `extract_poses` with `MediaPipePose`, exactly what `skelact video` runs, so the store
holds the ``mediapipe33`` layout: x, y in pixels of the 320x240 frame plus MediaPipe's visibility as the
score. Every clip is kept, also one where MediaPipe sees nobody (one all-zero person, counted in the
provenance): the official splits stay complete and the RGB modality still has the clip.

Each sample links to its video for the ``rgb`` modality: ``meta["video"]`` is the path relative to
``video_root`` in the store's provenance (`skelact.data.rgb`). Membership of the three splits is in the
meta (``split1`` .. ``split3``) and becomes the splits ``split<k>_train`` / ``split<k>_test``.

Pose estimation is the slow part, so each clip's poses are written to a cache folder as soon as they are
computed (one ``.npz`` per clip, atomically): an interrupted run resumes where it stopped, and the store
itself is written atomically by the runner. This module lives in `skelact.video` because the data layer
may not import the pose backends; the ``skelact prepare`` command imports it to register the recipe.
"""

from __future__ import annotations

import functools
import operator
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelact.atomic import atomic_write
from skelact.data.formats.jhmdb_ddnet import JHMDB21_CLASSES
from skelact.data.prepare.jhmdb import JhmdbSplits
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.prepare.runner import PrepareSummary
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError, SkelactError
from skelact.options import Options, option
from skelact.video.mediapipe_pose import INSTALL_HINT, NUM_LANDMARKS, MediaPipePose, mediapipe_available

DATASET_NAME = "J-HMDB-21 RGB with MediaPipe poses"
SPLIT_PARTS = {"1": "train", "2": "test"}
CACHE_VERSION = 1  # bump when the cached arrays change meaning


@dataclass(frozen=True)
class JhmdbVideo:
    """One clip: its class, its file relative to the raw folder, and its part in each official split."""

    label: int
    class_name: str
    file: str  # "videos/<class>/<clip>.avi"
    splits: tuple[tuple[str, str], ...]  # (("split1", "train"), ...)

    @property
    def sample_id(self) -> str:
        return f"{self.class_name}/{Path(self.file).stem}"


@dataclass(frozen=True, kw_only=True)
class JhmdbRgbOptions(Options):
    """`skelact prepare jhmdb-rgb` options."""

    cache: Path | None = option(
        "folder of per-clip pose files, reused when the run is repeated or resumed (default: OUT.poses, "
        "beside the store)",
        None,
    )
    min_detection_confidence: float = option("MediaPipe's person detection threshold", 0.5)
    min_tracking_confidence: float = option("MediaPipe's landmark tracking threshold", 0.5)


def read_official_splits(path: Path) -> dict[str, dict[str, str]]:
    """``splits.zip`` -> {clip file name: {"split<k>": "train" | "test"}}; other codes mean "not used"."""
    if not path.is_file():
        raise ConfigError(f"{path} does not exist", hint="`raw` takes the folder with videos/ and splits.zip")
    membership: dict[str, dict[str, str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                stem = Path(name).stem
                if not name.endswith(".txt") or "_test_split" not in stem:
                    continue
                k = stem.rsplit("_test_split", 1)[1]
                for number, line in enumerate(archive.read(name).decode().splitlines(), start=1):
                    fields = line.split()
                    if not fields:
                        continue
                    if len(fields) != 2:
                        raise FormatError(
                            f"expected '<clip>.avi <1|2>', got {line!r}",
                            path=path,
                            where=f"{name} line {number}",
                        )
                    if fields[1] in SPLIT_PARTS:
                        membership.setdefault(fields[0], {})[f"split{k}"] = SPLIT_PARTS[fields[1]]
    except zipfile.BadZipFile as err:
        raise FormatError(f"not a readable zip file ({err})", path=path) from None
    if not membership:
        raise FormatError("no <class>_test_split<k>.txt lists inside", path=path)
    return membership


def find_jhmdb_videos(raw: Path) -> list[JhmdbVideo]:
    """The clips under ``raw/videos/<class>/``, in class then name order, with their split membership."""
    videos = raw / "videos"
    if not videos.is_dir():
        raise ConfigError(
            f"{videos} is not a folder", hint="`raw` takes the folder with videos/<class>/*.avi"
        )
    membership = read_official_splits(raw / "splits.zip")
    found: list[JhmdbVideo] = []
    for label, class_name in enumerate(JHMDB21_CLASSES):
        folder = videos / class_name
        if not folder.is_dir():
            raise ConfigError(f"class folder {folder} is missing (J-HMDB has 21 classes)")
        for path in sorted(folder.glob("*.avi")):
            parts = membership.pop(path.name, {})
            found.append(
                JhmdbVideo(
                    label, class_name, f"videos/{class_name}/{path.name}", tuple(sorted(parts.items()))
                )
            )
    if membership:
        missing = sorted(membership)
        raise FormatError(
            f"{len(missing)} clips listed in the splits have no video, e.g. {missing[0]}",
            path=raw / "splits.zip",
        )
    return found


def estimate_clip(
    video: JhmdbVideo, *, raw: Path, cache: Path, detection: float, tracking: float
) -> list[SkeletonSample]:
    """One clip's MediaPipe poses as one sample (runs in worker processes); cached per clip."""
    path = raw / video.file
    cached = cache / f"{video.sample_id}.npz"
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as data:
            keypoint, score, info = data["keypoint"], data["score"], data["info"]
    else:
        from skelact.video.recognize import extract_poses

        estimator = MediaPipePose(detection, tracking)
        try:
            poses = extract_poses(path, estimator)
        finally:
            estimator.close()
        keypoint, score = poses.keypoint, poses.score
        if keypoint.shape[0] == 0:  # nobody seen: one empty person keeps the clip in its splits
            keypoint = np.zeros((1, poses.info.frame_count, NUM_LANDMARKS, 2), np.float32)
            score = np.zeros(keypoint.shape[:3], np.float32)
        info = np.array(
            [poses.info.width, poses.info.height, poses.frames_with_people, CACHE_VERSION], dtype=np.float64
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(cached) as stream:
            np.savez(stream, keypoint=keypoint, score=score, info=info)
    width, height, seen = int(info[0]), int(info[1]), int(info[2])
    meta = {
        "video": video.file,
        "img_shape": [height, width],
        "frames_with_people": seen,
        "source": str(path),
        **dict(video.splits),
    }
    sample = SkeletonSample(keypoint, label=video.label, score=score, meta=meta, sample_id=video.sample_id)
    return [sample.validate(num_joints=NUM_LANDMARKS, num_channels=2, source=path)]


@register_preparer("jhmdb-rgb")
class JhmdbRgbPreparer(JobRecipe[JhmdbRgbOptions]):
    name: str
    help = "J-HMDB videos (928 clips, 21 classes, splits 1-3), posed with MediaPipe; keeps each video link"
    options_type = JhmdbRgbOptions

    def prepare(self, run: RunOptions, options: JhmdbRgbOptions) -> PrepareSummary:
        if options.cache is None:  # the default cache sits beside the store, named after it
            options = JhmdbRgbOptions(
                cache=Path(f"{Path(run.out)}.poses"),
                min_detection_confidence=options.min_detection_confidence,
                min_tracking_confidence=options.min_tracking_confidence,
            )
        return super().prepare(run, options)

    def build(self, raw: Path, options: JhmdbRgbOptions) -> PrepareJob:
        raw = Path(raw).resolve()
        if not mediapipe_available():
            raise SkelactError("`skelact prepare jhmdb-rgb` needs MediaPipe", hint=INSTALL_HINT)
        videos = find_jhmdb_videos(raw)
        if options.cache is None:
            raise ConfigError("`cache` is required when the recipe is built directly")
        cache = Path(options.cache).resolve()
        splits = sorted({int(key[len("split") :]) for v in videos for key, _ in v.splits})
        provenance = {
            "recipe": "jhmdb-rgb",
            "format": "video",
            "dataset": DATASET_NAME,
            "raw": str(raw),
            "video_root": str(raw),
            "pose_backend": "mediapipe pose (model_complexity 1, video mode), skelact.video.extract_poses",
            "min_detection_confidence": options.min_detection_confidence,
            "min_tracking_confidence": options.min_tracking_confidence,
            "coordinates": "pixels of the video frame (x right, y down); score = MediaPipe visibility",
            "pose_cache": str(cache),
        }
        return PrepareJob(
            items=videos,
            parse=functools.partial(
                estimate_clip,
                raw=raw,
                cache=cache,
                detection=options.min_detection_confidence,
                tracking=options.min_tracking_confidence,
            ),
            layout="mediapipe33",
            class_names=list(JHMDB21_CLASSES),
            splits=JhmdbSplits(splits),
            val_groups=None,
            provenance=provenance,
            describe=operator.attrgetter("file"),
        )
