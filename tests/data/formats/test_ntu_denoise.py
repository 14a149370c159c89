"""Body selection building blocks: motion, spread test, greedy merge (with quirks), energy, padding."""

from __future__ import annotations

import numpy as np

from skelact.data.formats.ntu_denoise import (
    BodyTrack,
    DenoiseRules,
    Quirks,
    body_tracks,
    denoise,
    implausible_frames,
    listing_energy,
    merge_actors,
    top_energy_slots,
    total_variance,
)
from skelact.data.formats.ntu_presets import loop_pad_each_person, loop_pad_together
from skelact.data.formats.ntu_skeleton import NtuRecording


def _track(body_id: str, first: int, last: int, value: float, motion: float) -> BodyTrack:
    frames = np.arange(first, last + 1)
    return BodyTrack(body_id, frames, np.full((frames.size, 25, 3), value), motion)


def test_total_variance_and_spread_test() -> None:
    xyz = np.zeros((2, 25, 3))
    xyz[0, :, 1] = np.linspace(0, 1, 25)  # tall: x-extent 0 <= 0.8
    xyz[1, :, 0] = np.linspace(0, 1, 25)  # wide
    xyz[1, :, 1] = np.linspace(0, 1, 25)  # x-extent 1 > 0.8 * 1
    assert implausible_frames(xyz, 0.8).tolist() == [False, True]
    expected = xyz.reshape(-1, 3).var(axis=0).sum()
    assert total_variance(xyz) == expected


def test_spread_rule_updates_motion_from_plausible_frames() -> None:
    tall = np.zeros((25, 3))
    tall[:, 1] = np.linspace(0, 1.7, 25)
    wide = tall.copy()
    wide[:, 0] = np.linspace(0, 3, 25)
    xyz = np.stack([wide if t % 3 == 0 else tall + t * 0.01 for t in range(30)])  # 10 of 30 wide
    a = BodyTrack("a", np.arange(30), xyz, total_variance(xyz))
    b = BodyTrack("b", np.arange(30), np.stack([tall] * 30), 0.0)
    kept, dropped = denoise([a, b], DenoiseRules())
    assert dropped == [] and [t.body_id for t in kept] == ["a", "b"]
    assert a.motion == min(total_variance(xyz), total_variance(xyz[np.arange(30) % 3 != 0]))


def test_spread_rule_keeps_the_last_body() -> None:
    wide = np.zeros((20, 25, 3))
    wide[:, :, 0] = np.linspace(0, 2, 25)
    wide[:, :, 1] = np.linspace(0, 1, 25)
    tracks = [BodyTrack(i, np.arange(20), wide.copy(), 1.0) for i in ("a", "b")]
    kept, dropped = denoise(tracks, DenoiseRules())
    assert [t.body_id for t in kept] == ["b"] and [d[0] for d in dropped] == ["a"]


def test_merge_corrected_and_quirky_spans() -> None:
    main = _track("main", 0, 39, 1.0, 9.0)
    late = _track("late", 25, 39, 2.0, 5.0)
    early = _track("early", 5, 20, 3.0, 4.0)
    actors, members, discarded = merge_actors([main, late, early], 40)
    assert members == [["main"], ["late", "early"]] and discarded == []
    assert actors[1, 5:21].max() == 3.0 and actors[1, 25:].max() == 2.0 and not actors[1, 21:25].any()
    _, members, discarded = merge_actors([main, late, early], 40, Quirks(actor2_span_from_zero=True))
    assert members == [["main"], ["late"]] and discarded == ["early"]

    head, tail = _track("head", 0, 20, 1.0, 9.0), _track("tail", 20, 39, 2.0, 1.0)
    _, members, _ = merge_actors([head, tail], 40)
    assert members == [["head"], ["tail"]]
    actors, members, _ = merge_actors([head, tail], 40, Quirks(one_frame_overlap=True))
    assert members == [["head", "tail"], []] and actors[0, 20].max() == 2.0  # frame 20 overwritten


def test_body_tracks_timeline_skips_empty_frames_and_contiguous_quirk() -> None:
    one = np.ones((25, 3))
    frames = [[], [(5, one)], [(5, one), (6, one)], [(6, one)], [(5, one)]]
    rec = NtuRecording.from_frames(frames)
    tracks, timeline = body_tracks(rec)
    assert timeline == 4 and [t.frames.tolist() for t in tracks] == [[0, 1, 3], [1, 2]]
    tracks, _ = body_tracks(rec, contiguous_frames=True)
    assert [t.frames.tolist() for t in tracks] == [[0, 1, 2], [1, 2]]


def test_listing_energy_and_top_slots() -> None:
    rng = np.random.default_rng(0)
    frames = [[(1, rng.normal(0, 0.01, (25, 3)) + 1), (2, rng.normal(0, 1.0, (25, 3)) + 1)] for _ in range(6)]
    frames += [[(1, np.full((25, 3), 2.0))]]
    rec = NtuRecording.from_frames(frames)
    slots = rec.listing_xyz(4)
    energy = listing_energy(slots)
    assert energy[2] == energy[3] == 0 and energy[1] > energy[0] > 0
    present = slots[0][np.any(slots[0] != 0, axis=(1, 2))]
    assert energy[0] == present.reshape(-1, 3).std(axis=0).sum()
    top = top_energy_slots(rec)
    assert top.shape == (2, 7, 25, 3)
    np.testing.assert_array_equal(top[0], slots[1])
    single = NtuRecording.from_frames([[(1, np.ones((25, 3)))]] * 3)
    assert top_energy_slots(single).shape == (1, 3, 25, 3)  # zero slots left out


def test_loop_padding_variants() -> None:
    persons = np.zeros((2, 6, 25, 3))
    persons[0, 1:4] = np.arange(1, 4)[:, None, None]  # frames 1-3
    persons[1, 2:6] = np.arange(10, 14)[:, None, None]  # frames 2-5
    together = loop_pad_together(persons, 8)
    assert together[0, :, 0, 0].tolist() == [1, 2, 3, 0, 0, 1, 2, 3]
    assert together[1, :, 0, 0].tolist() == [0, 10, 11, 12, 13, 0, 10, 11]
    each = loop_pad_each_person(persons, 8)
    assert each[0, :, 0, 0].tolist() == [1, 2, 3, 1, 2, 3, 1, 2]
    assert each[1, :, 0, 0].tolist() == [10, 11, 12, 13, 10, 11, 12, 13]
