"""The person tracker keeps identities on synthetic multi-person tracks: crossing paths, a short occlusion,
a person entering late, and detections arriving in shuffled order."""

from __future__ import annotations

import numpy as np

from skelact.video.pose import FramePoses
from skelact.video.tracker import PersonTracker, keypoint_boxes, match_cost, tracks_to_arrays

V = 17


def _person(centre: tuple[float, float], size: float = 40.0, seed: int = 0) -> np.ndarray:
    """A (V, 2) pose: joints scattered in a box of `size` pixels around `centre`, fixed per person."""
    offsets = np.random.default_rng(seed).uniform(-size / 2, size / 2, size=(V, 2))
    return (np.asarray(centre) + offsets).astype(np.float32)


def _frame(people: list[np.ndarray], order: list[int] | None = None) -> FramePoses:
    if not people:
        return FramePoses.empty(V)
    order = order or list(range(len(people)))
    keypoint = np.stack([people[i] for i in order])
    return FramePoses(keypoint, np.ones(keypoint.shape[:2], np.float32))


def _run(frames: list[FramePoses]) -> tuple[PersonTracker, list[list[int]]]:
    tracker = PersonTracker(max_gap=5)
    return tracker, [tracker.update(t, f) for t, f in enumerate(frames)]


def test_two_people_walking_past_each_other_keep_their_ids() -> None:
    # A walks right, B walks left, on nearly the same line: their boxes overlap around frame 20.
    frames, truth = [], []
    rng = np.random.default_rng(1)
    for t in range(40):
        a = _person((100 + 5 * t, 200), seed=1)
        b = _person((300 - 5 * t, 215), seed=2)
        order = [0, 1] if rng.random() < 0.5 else [1, 0]  # the backend's order means nothing
        frames.append(_frame([a, b], order))
        truth.append(order)
    _, ids = _run(frames)
    a_ids = {ids[t][truth[t].index(0)] for t in range(40)}
    b_ids = {ids[t][truth[t].index(1)] for t in range(40)}
    assert len(a_ids) == 1 and len(b_ids) == 1 and a_ids != b_ids


def test_a_short_occlusion_keeps_the_id_and_a_long_one_starts_a_new_track() -> None:
    pose = _person((200, 200))
    frames = (
        [_frame([pose])] * 5 + [_frame([])] * 3 + [_frame([pose])] * 5 + [_frame([])] * 8 + [_frame([pose])]
    )
    tracker, ids = _run(frames)
    assert ids[0] == ids[8] == [0]  # gap of 3 <= max_gap
    assert ids[-1] == [1]  # gap of 8 > max_gap: a new track
    keypoint, score, world, order = tracks_to_arrays(tracker.tracks, len(frames))
    assert keypoint.shape == (2, len(frames), V, 2) and world is None
    assert order == [0, 1]  # most frames first
    assert np.all(score[0, 5:8] == 0) and np.all(score[0, 8:13] == 1)  # absent frames are zero


def test_a_person_entering_later_gets_a_new_id_and_spurious_tracks_can_be_dropped() -> None:
    a = _person((100, 100), seed=3)
    far = _person((500, 400), seed=4)
    frames = [_frame([a])] * 10 + [_frame([far, a])] * 2 + [_frame([a])] * 5
    tracker, ids = _run(frames)
    assert ids[10] == [1, 0]
    _, _, _, order = tracks_to_arrays(tracker.tracks, len(frames), min_frames=3)
    assert order == [0]


def test_boxes_ignore_missing_joints_and_cost_prefers_overlap() -> None:
    pose = _person((100, 100))
    score = np.ones((1, V), np.float32)
    pose_missing = pose.copy()
    pose_missing[0] = 0.0  # at the origin: missing, must not stretch the box to (0, 0)
    box = keypoint_boxes(pose_missing[None], score)[0]
    assert box[0] > 50 and box[1] > 50
    near, far = keypoint_boxes(np.stack([_person((105, 100)), _person((400, 100))]), np.ones((2, V)))
    cost = match_cost(box[None], np.stack([near, far]))
    assert cost[0, 0] < cost[0, 1]
