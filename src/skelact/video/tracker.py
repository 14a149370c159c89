"""Person tracking across frames for pose backends that return several people.

Each frame's detections are matched to the open tracks by the overlap (IoU) of their keypoint boxes, with
the distance between box centres (relative to the box size) deciding when boxes do not overlap — fast
movers and small people. Matching is greedy on the best pair first, which for the few people of a video
equals the optimal assignment in practice and needs no solver. A track unmatched for `max_gap` frames ends;
a later detection starts a new track. The cost matrix of each frame is computed in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skelact.video.pose import FramePoses


@dataclass
class Track:
    """One person's detections: frame indices and the matching rows of keypoints and scores."""

    track_id: int
    frames: list[int] = field(default_factory=list)
    keypoints: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    worlds: list[np.ndarray] = field(default_factory=list)

    @property
    def last_box(self) -> np.ndarray:
        return keypoint_boxes(self.keypoints[-1][None], self.scores[-1][None])[0]


def keypoint_boxes(keypoint: np.ndarray, score: np.ndarray, min_score: float = 0.0) -> np.ndarray:
    """(P, 4) boxes (x0, y0, x1, y1) around each person's confident, non-zero joints."""
    valid = (score > min_score) & (np.abs(keypoint).sum(-1) > 0)
    big = np.float32(np.inf)
    x, y = keypoint[..., 0], keypoint[..., 1]
    boxes = np.stack(
        [
            np.where(valid, x, big).min(-1),
            np.where(valid, y, big).min(-1),
            np.where(valid, x, -big).max(-1),
            np.where(valid, y, -big).max(-1),
        ],
        axis=-1,
    )
    return np.where(valid.any(-1, keepdims=True), boxes, 0.0).astype(np.float32)


def match_cost(tracks: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """(T, D) cost in [0, 2): 1 - IoU plus the centre distance in units of the larger box diagonal,
    capped at 1, so overlapping boxes rank by IoU and separated ones by distance."""
    a, b = tracks[:, None], detections[None]
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    iou = inter / np.maximum(area_a + area_b - inter, 1e-9)
    centre = np.linalg.norm((a[..., :2] + a[..., 2:]) / 2 - (b[..., :2] + b[..., 2:]) / 2, axis=-1)
    diagonal = np.maximum(
        np.linalg.norm(a[..., 2:] - a[..., :2], axis=-1), np.linalg.norm(b[..., 2:] - b[..., :2], axis=-1)
    )
    return (1.0 - iou) + np.minimum(centre / np.maximum(diagonal, 1e-9), 1.0)


class PersonTracker:
    """Assigns each frame's detections to persistent person tracks.

    Args:
        max_cost: a pair costlier than this is not matched (1.5: no overlap and half a diagonal apart, or
            little overlap and nearly a diagonal apart).
        max_gap: frames a track may go unmatched before it ends (a brief occlusion keeps the identity).
    """

    def __init__(self, max_cost: float = 1.5, max_gap: int = 15) -> None:
        self.max_cost = max_cost
        self.max_gap = max_gap
        self.tracks: list[Track] = []
        self._open: list[Track] = []

    def update(self, frame_index: int, poses: FramePoses) -> list[int]:
        """Match one frame; returns the track id of each detection, in detection order."""
        self._open = [t for t in self._open if frame_index - t.frames[-1] <= self.max_gap]
        ids = [-1] * poses.num_people
        if poses.num_people and self._open:
            cost = match_cost(
                np.stack([t.last_box for t in self._open]), keypoint_boxes(poses.keypoint, poses.score)
            )
            # Greedy: take pairs cheapest first; each track and each detection used once.
            order = np.argsort(cost, axis=None, kind="stable")
            used_t, used_d = set(), set()
            for flat in order:
                ti, di = divmod(int(flat), cost.shape[1])
                if cost[ti, di] > self.max_cost:
                    break
                if ti in used_t or di in used_d:
                    continue
                used_t.add(ti)
                used_d.add(di)
                ids[di] = self._extend(self._open[ti], frame_index, poses, di)
        for di in range(poses.num_people):
            if ids[di] < 0:
                track = Track(len(self.tracks))
                self.tracks.append(track)
                self._open.append(track)
                ids[di] = self._extend(track, frame_index, poses, di)
        return ids

    @staticmethod
    def _extend(track: Track, frame_index: int, poses: FramePoses, row: int) -> int:
        track.frames.append(frame_index)
        track.keypoints.append(poses.keypoint[row])
        track.scores.append(poses.score[row])
        if poses.world is not None:
            track.worlds.append(poses.world[row])
        return track.track_id


def tracks_to_arrays(
    tracks: list[Track], num_frames: int, min_frames: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[int]]:
    """Tracks as skelact arrays: keypoint (M, T, V, 2), score (M, T, V), world (M, T, V, 3) or None, and the
    track ids in that order. Persons are ordered by frames present (main actor first); absent frames are zero.
    Tracks shorter than `min_frames` are dropped as spurious."""
    kept = sorted(
        (t for t in tracks if len(t.frames) >= min_frames), key=lambda t: (-len(t.frames), t.track_id)
    )
    if not kept:
        return np.zeros((0, num_frames, 0, 2), np.float32), np.zeros((0, num_frames, 0), np.float32), None, []
    num_joints = kept[0].keypoints[0].shape[0]
    keypoint = np.zeros((len(kept), num_frames, num_joints, 2), np.float32)
    score = np.zeros((len(kept), num_frames, num_joints), np.float32)
    with_world = all(len(t.worlds) == len(t.frames) for t in kept)
    world = np.zeros((len(kept), num_frames, num_joints, 3), np.float32) if with_world else None
    for m, track in enumerate(kept):
        frames = np.asarray(track.frames)
        keypoint[m, frames] = np.stack(track.keypoints)
        score[m, frames] = np.stack(track.scores)
        if world is not None:
            world[m, frames] = np.stack(track.worlds)
    return keypoint, score, world, [t.track_id for t in kept]
