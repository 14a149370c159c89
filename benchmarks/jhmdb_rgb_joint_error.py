"""Pixel error of skelact's MediaPipe poses against the official J-HMDB joints of the one clip that has them.

    python benchmarks/jhmdb_rgb_joint_error.py [--data ../shared/data/jhmdb_rgb] [--store STORE]

The clip is ``videos/catch/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi``; its official 2D "puppet" joints
(15 x 40 frames, pixels of the 320x240 frame) are in ``joint_positions_sample/joint_positions.yaml``. The
poses are those of ``skelact prepare jhmdb-rgb``: read from `--store` when given, else estimated now with
the same function. Joints that correspond (J-HMDB -> MediaPipe landmark): shoulders, elbows, wrists, hips,
knees and ankles one to one (12 joints); the neck is the shoulders' midpoint and the face the nose
(approximations, reported apart); the belly has no counterpart and is left out. Frames where MediaPipe saw
nobody are counted, not scored. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

CLIP = "videos/catch/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi"
JHMDB_JOINTS = (
    "neck", "belly", "face", "right_shoulder", "left_shoulder", "right_hip", "left_hip", "right_elbow",
    "left_elbow", "right_knee", "left_knee", "right_wrist", "left_wrist", "right_ankle", "left_ankle",
)  # fmt: skip
# J-HMDB joint -> MediaPipe landmark index (mediapipe33 order) for the one-to-one joints.
LIMBS = {
    "right_shoulder": 12, "left_shoulder": 11, "right_hip": 24, "left_hip": 23, "right_elbow": 14,
    "left_elbow": 13, "right_knee": 26, "left_knee": 25, "right_wrist": 16, "left_wrist": 15,
    "right_ankle": 28, "left_ankle": 27,
}  # fmt: skip


def official_joints(path: Path) -> np.ndarray:
    """(T, 15, 2) pixel joints from the OpenCV YAML (``frame_k``: 2 x 15, row 0 x, row 1 y)."""
    import cv2

    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    count = int(storage.getNode("numFrames").real())
    frames = [storage.getNode(f"frame_{k}").mat().T for k in range(1, count + 1)]
    storage.release()
    return np.stack(frames).astype(np.float64)


def estimated_joints(data: Path, store: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(T, 33, 2) keypoints and (T, 33) scores of the clip's main person, as the prepare recipe gives them."""
    if store is not None:
        from skelact.data.store import SkeletonStore

        opened = SkeletonStore(store)
        index = opened.sample_ids.index("catch/" + Path(CLIP).stem)
        keypoint, score = opened.read(index)
        return keypoint[0].astype(np.float64), score[0]
    from skelact.video.jhmdb_rgb import estimate_clip, find_jhmdb_videos

    video = next(v for v in find_jhmdb_videos(data) if v.file == CLIP)
    with tempfile.TemporaryDirectory() as cache:
        sample = estimate_clip(video, raw=data, cache=Path(cache), detection=0.5, tracking=0.5)[0]
    return sample.keypoint[0].astype(np.float64), sample.score[0]


def errors(official: np.ndarray, estimated: np.ndarray, seen: np.ndarray, swap: bool) -> dict[str, float]:
    pairs = dict(LIMBS)
    if swap:  # the puppet's sides read as image sides instead of the person's
        pairs = {
            name: LIMBS[name.replace("right", "LEFT").replace("left", "right").replace("LEFT", "left")]
            for name in LIMBS
        }
    rows = [JHMDB_JOINTS.index(name) for name in pairs]
    distance = np.linalg.norm(official[seen][:, rows] - estimated[seen][:, list(pairs.values())], axis=-1)
    neck = np.linalg.norm(official[seen][:, 0] - estimated[seen][:, [11, 12]].mean(1), axis=-1)
    face = np.linalg.norm(official[seen][:, 2] - estimated[seen][:, 0], axis=-1)
    per_joint = dict(zip(pairs, distance.mean(0).round(2).tolist(), strict=True))
    return {
        "mean_px_12_limb_joints": round(float(distance.mean()), 2),
        "median_px_12_limb_joints": round(float(np.median(distance)), 2),
        "mean_px_neck_as_shoulder_midpoint": round(float(neck.mean()), 2),
        "mean_px_face_as_nose": round(float(face.mean()), 2),
        "per_joint_mean_px": per_joint,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=here.parent / "shared" / "data" / "jhmdb_rgb")
    parser.add_argument("--store", type=Path, default=None, help="a store from `skelact prepare jhmdb-rgb`")
    args = parser.parse_args(argv)
    official = official_joints(args.data / "joint_positions_sample" / "joint_positions.yaml")
    keypoint, score = estimated_joints(args.data.resolve(), args.store)
    if keypoint.shape[0] != official.shape[0]:
        print(
            f"frame counts differ: {keypoint.shape[0]} estimated, {official.shape[0]} official",
            file=sys.stderr,
        )
        return 1
    seen = score.max(-1) > 0
    extent = official.max(1) - official.min(1)
    result = {
        "clip": CLIP,
        "frames": int(official.shape[0]),
        "frames_with_person": int(seen.sum()),
        "official_person_height_px_mean": round(float(extent[:, 1].mean()), 1),
        "sides_as_person": errors(official, keypoint, seen, swap=False),
        "sides_swapped": {
            k: v for k, v in errors(official, keypoint, seen, swap=True).items() if k.startswith("mean_px_12")
        },
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
