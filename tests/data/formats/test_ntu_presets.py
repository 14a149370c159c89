"""NTU presets on small .skeleton files written here: who is kept, merged, trimmed, centred and rotated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.ntu_presets import PRESETS, apply_preset, get_preset
from skelact.data.formats.ntu_skeleton import NtuRecording, read_ntu_skeleton, write_ntu_skeleton
from skelact.data.sample import SkipItem
from skelact.errors import ConfigError

# A plausible upright ntu25 skeleton (metres, y up): spine base at the origin, shoulders at x = -/+0.2.
_X = [0, 0, 0, 0, -0.2, -0.3, -0.35, -0.37, 0.2, 0.3, 0.35, 0.37, -0.1, -0.1, -0.1, -0.12, 0.1, 0.1, 0.1,
      0.12, 0, -0.4, -0.38, 0.4, 0.38]  # fmt: skip
_Y = [0, 0.3, 0.55, 0.7, 0.5, 0.25, 0.02, -0.05, 0.5, 0.25, 0.02, -0.05, -0.05, -0.45, -0.85, -0.9, -0.05,
      -0.45, -0.85, -0.9, 0.5, -0.1, -0.07, -0.1, -0.07]  # fmt: skip
BASE = np.stack([_X, _Y, np.zeros(25)], axis=1)

Pose = Callable[[int], np.ndarray]


def person(x: float = 0.0, z: float = 3.0, sway: float = 0.05, scale: float = 1.0, wide: float = 1.0) -> Pose:
    """Frame t -> (25, 3): the base skeleton at (x, 0, z), swaying sideways by `sway` metres."""

    def pose(t: int) -> np.ndarray:
        xyz = BASE * scale
        xyz = xyz * np.array([wide, 1.0, 1.0])
        return (xyz + np.array([x + sway * np.sin(t / 3.0), 0.1, z])).round(6)

    return pose


def recording(
    tmp_path: Path,
    num_frames: int,
    bodies: dict[int, tuple[list[int], Pose]],
    name: str = "S001C001P001R001A050",
) -> NtuRecording:
    """Write a .skeleton file listing each body (in dict order) in its frames, and read it back."""
    frames: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(num_frames)]
    for body_id, (present, pose) in bodies.items():
        for t in present:
            frames[t].append((body_id, pose(t)))
    path = write_ntu_skeleton(tmp_path / f"{name}.skeleton", NtuRecording.from_frames(frames, name=name))
    return read_ntu_skeleton(path)


def run(rec: NtuRecording, preset: str, **kwargs: object) -> np.ndarray:
    return apply_preset(rec, get_preset(preset, **kwargs)).keypoint  # type: ignore[arg-type]


def span(a: int, b: int) -> list[int]:
    return list(range(a, b))


# ------------------------------------------------------------------------------------------ denoising


@pytest.mark.parametrize("preset", ["ctrgcn", "pyskl"])
def test_short_noisy_body_is_dropped(tmp_path: Path, preset: str) -> None:
    main = person(sway=0.3)
    rec = recording(tmp_path, 40, {1: (span(0, 40), main), 2: (span(10, 18), person(x=1.0, sway=0.6))})
    kp = run(rec, preset)
    assert kp.shape == (1, 40, 25, 3)
    if preset == "pyskl":  # stored as read
        np.testing.assert_array_equal(kp[0], np.stack([main(t) for t in range(40)]).astype(np.float32))
    result = apply_preset(rec, get_preset(preset))
    assert result.info["dropped"] == [("2", "length 8 <= 11")]


@pytest.mark.parametrize("preset", ["ctrgcn", "pyskl"])
def test_wide_body_is_dropped_by_the_spread_rule_and_a_half_wide_one_kept(
    tmp_path: Path, preset: str
) -> None:
    wide, tall = person(x=1.0, sway=0.5, wide=4.0), person(x=1.0, sway=0.5)
    mostly_wide = {t: (wide if t % 4 else tall) for t in range(40)}  # 30 of 40 frames = 75 % >= 69.754 %
    half_wide = {t: (wide if t % 2 else tall) for t in range(40)}  # 50 %
    for pattern, expected in ((mostly_wide, 1), (half_wide, 2)):
        rec = recording(
            tmp_path, 40, {1: (span(0, 40), person(sway=0.8)), 2: (span(0, 40), lambda t, p=pattern: p[t](t))}
        )
        assert run(rec, preset).shape[0] == expected
        assert [d[0] for d in apply_preset(rec, get_preset(preset)).info["dropped"]] == (
            ["2"] if expected == 1 else []
        )


@pytest.mark.parametrize("preset", ["ctrgcn", "pyskl"])
def test_fragments_of_one_person_are_merged_into_one_actor(tmp_path: Path, preset: str) -> None:
    first, again, other = person(x=1.0, sway=0.2), person(x=1.05, sway=0.2), person(sway=0.5)
    rec = recording(
        tmp_path, 40, {1: (span(0, 20), first), 2: (span(20, 40), again), 3: (span(0, 40), other)}
    )
    result = apply_preset(rec, get_preset(preset))
    assert [sorted(ids) for ids in result.info["actors"]] == [["3"], ["1", "2"]]
    if preset == "pyskl":
        kp = result.keypoint
        assert kp.shape == (2, 40, 25, 3)
        np.testing.assert_array_equal(kp[1, :20], np.stack([first(t) for t in range(20)]).astype(np.float32))
        np.testing.assert_array_equal(
            kp[1, 20:], np.stack([again(t) for t in range(20, 40)]).astype(np.float32)
        )


def test_a_fragment_overlapping_both_actors_is_discarded(tmp_path: Path) -> None:
    rec = recording(
        tmp_path,
        40,
        {
            1: (span(0, 40), person(sway=0.6)),
            2: (span(0, 40), person(x=1, sway=0.3)),
            3: (span(5, 30), person(x=2)),
        },
    )
    result = apply_preset(rec, get_preset("pyskl"))
    assert result.info["discarded"] == ["3"] and result.keypoint.shape[0] == 2


def test_length_rule_never_removes_every_body(tmp_path: Path) -> None:
    rec = recording(tmp_path, 8, {1: (span(0, 5), person(sway=0.4)), 2: (span(3, 8), person(x=1))})
    assert run(rec, "pyskl").shape[0] == 2  # the references crash here; we keep both


def test_motion_rule_is_off_by_default_and_can_be_switched_on(tmp_path: Path) -> None:
    tiny = person(x=1.0, scale=0.1, sway=0.0)  # total variance ~0.003 < 0.089925
    rec = recording(tmp_path, 30, {1: (span(0, 30), person(sway=0.3)), 2: (span(0, 30), tiny)})
    assert run(rec, "ctrgcn").shape[0] == 2
    on = get_preset("ctrgcn", options={"motion_rule": "true"})
    assert apply_preset(rec, on).keypoint.shape[0] == 1


# ------------------------------------------------------------------------------------------ quirks


def test_quirk_contiguous_frames(tmp_path: Path) -> None:
    leaves = person(sway=0.6)
    rec = recording(tmp_path, 30, {1: (span(0, 10) + span(20, 30), leaves), 2: (span(0, 30), person(x=1))})
    fixed = run(rec, "pyskl")
    assert not fixed[0, 10:20].any()
    np.testing.assert_array_equal(
        fixed[0, 20:], np.stack([leaves(t) for t in range(20, 30)]).astype(np.float32)
    )
    faithful = run(rec, "pyskl", faithful=True)  # "previous index + 1": the later frames slide to 10-19
    np.testing.assert_array_equal(faithful[0, 10:20], fixed[0, 20:30])
    assert not faithful[0, 20:].any()


def test_quirk_actor2_span_from_zero(tmp_path: Path) -> None:
    bodies = {
        1: (span(0, 40), person(sway=0.8)),
        2: (span(25, 40), person(x=1, sway=0.4)),
        3: (span(5, 21), person(x=1.1, sway=0.1)),
    }
    rec = recording(tmp_path, 40, bodies)
    fixed = apply_preset(rec, get_preset("pyskl"))
    assert fixed.info["actors"] == [["1"], ["2", "3"]]
    faithful = apply_preset(rec, get_preset("pyskl", faithful=True))
    assert faithful.info["actors"] == [["1"], ["2"]] and faithful.info["discarded"] == ["3"]
    assert not faithful.keypoint[1, 5:21].any()


def test_quirk_one_frame_overlap(tmp_path: Path) -> None:
    late = person(x=1.02, sway=0.1)
    bodies = {
        1: (span(0, 21), person(sway=0.9)),
        2: (span(0, 40), person(x=1, sway=0.5)),
        3: (span(20, 40), late),
    }
    rec = recording(tmp_path, 40, bodies)
    assert apply_preset(rec, get_preset("ctrgcn")).info["discarded"] == ["3"]
    faithful = apply_preset(rec, get_preset("ctrgcn", faithful=True))
    assert faithful.info["actors"] == [["1", "3"], ["2"]]  # sharing frame 20 counted as no overlap


# ------------------------------------------------------------------------------------------ empty frames


def test_empty_frames_per_preset(tmp_path: Path) -> None:
    noise = span(2, 6) + span(22, 24) + span(48, 52)  # 10 frames: dropped by the length rule
    people = span(6, 22) + span(24, 48)
    bodies = {
        1: (people, person(sway=0.5)),
        2: (people, person(x=1.0, sway=0.3)),
        3: (noise, person(x=2.0, sway=0.9)),
    }
    rec = recording(tmp_path, 54, bodies)  # frames 0-1 and 52-53 list no body at all
    ctrgcn, pyskl = run(rec, "ctrgcn"), run(rec, "pyskl")
    assert ctrgcn.shape == (2, 40, 25, 3) and np.all(np.any(ctrgcn != 0, axis=(0, 2, 3)))
    assert pyskl.shape == (2, 42, 25, 3)  # ends trimmed, the gap (timeline frames 16-17) kept empty
    assert not pyskl[:, 16:18].any() and np.any(pyskl[:, 15] != 0) and np.any(pyskl[:, 18] != 0)


@pytest.mark.parametrize("preset,length", [("agcn", 300), ("mmaction", 50)])
def test_listing_presets_drop_leading_and_loop_fill_trailing_empty_frames(
    tmp_path: Path, preset: str, length: int
) -> None:
    rec = recording(tmp_path, 50, {1: (span(3, 43), person(sway=0.4))})
    for faithful in (False, True):  # one person: both variants agree
        kp = run(rec, preset, faithful=faithful)
        assert kp.shape == (1, length, 25, 3)
        np.testing.assert_array_equal(kp[:, 40 : min(length, 80)], kp[:, 0 : min(length, 80) - 40])
        assert np.all(np.any(kp != 0, axis=(0, 2, 3)))


def test_listing_presets_keep_persons_in_step_unless_faithful(tmp_path: Path) -> None:
    rec = recording(tmp_path, 40, {1: (span(0, 40), person(sway=0.6)), 2: (span(20, 40), person(x=1))})
    fixed = run(rec, "mmaction")
    assert not fixed[1, :20].any() and np.all(np.any(fixed[1, 20:] != 0, axis=(1, 2)))
    faithful = run(rec, "mmaction", faithful=True)  # MS-G3D shifts person 2 to frame 0 and loops it
    assert np.all(np.any(faithful[1] != 0, axis=(1, 2)))


# ------------------------------------------------------------------------------------------ centring


def test_ctrgcn_centres_on_actor_1_first_valid_frame_and_pyskl_swaps(tmp_path: Path) -> None:
    late, early = person(x=0.5, sway=0.8), person(x=1.5, sway=0.2)
    rec = recording(tmp_path, 40, {1: (span(10, 40), late), 2: (span(0, 40), early)})
    kp = run(rec, "ctrgcn")
    assert kp.shape == (2, 40, 25, 3)
    origin = late(10)[1]
    assert not kp[0, :10].any()  # actor 1 missing there: stays exactly zero
    np.testing.assert_allclose(kp[0, 10], late(10) - origin, atol=1e-6)
    np.testing.assert_allclose(kp[1, 0], early(0) - origin, atol=1e-6)
    np.testing.assert_array_equal(kp[0, 10, 1], 0)
    pyskl = run(rec, "pyskl")  # actor 1 absent in frame 0, actor 2 present: swapped, not centred
    np.testing.assert_array_equal(pyskl[0, 0], early(0).astype(np.float32))
    np.testing.assert_array_equal(pyskl[1, 10], late(10).astype(np.float32))


@pytest.mark.parametrize("preset", ["agcn", "mmaction"])
def test_listing_presets_pick_top_energy_centre_per_frame_and_rotate(tmp_path: Path, preset: str) -> None:
    bodies = {
        1: (span(0, 30), person(x=-1, sway=0.01)),  # listed first, least energy: left out
        2: (span(0, 30), person(x=0.0, z=3.0, sway=0.5)),
        3: (span(0, 30), person(x=1.0, sway=0.2)),
    }
    rec = recording(tmp_path, 30, bodies)
    kp = run(rec, preset)
    assert kp.shape[0] == 2
    np.testing.assert_allclose(kp[0, :30, 1], 0, atol=1e-6)  # person 1's spine middle is the origin
    spine = kp[0, 0, 1] - kp[0, 0, 0]
    shoulders = kp[0, 0, 8] - kp[0, 0, 4]
    np.testing.assert_allclose(spine[:2], 0, atol=1e-5)
    assert spine[2] > 0.29
    np.testing.assert_allclose(shoulders[1:], 0, atol=1e-5)
    assert shoulders[0] > 0.39
    # Person 2 is body 3 (x = 1 m away); its distance to person 1 is kept by the rigid maps.
    d = np.linalg.norm(kp[1, 0, 1] - kp[0, 0, 1])
    assert d == pytest.approx(
        np.linalg.norm(person(x=1.0, sway=0.2)(0)[1] - person(sway=0.5)(0)[1]), abs=1e-5
    )


# ------------------------------------------------------------------------------------------ real sample


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("faithful", [False, True])
def test_a058_gives_two_persons_under_every_preset(shared_data: Path, preset: str, faithful: bool) -> None:
    path = shared_data / "ntu_rgbd_samples" / "S001C003P008R002A058.skeleton"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    rec = read_ntu_skeleton(path)
    kp = apply_preset(rec, get_preset(preset, faithful=faithful)).keypoint
    assert kp.shape[0] == 2 and kp.shape[1] == (300 if preset == "agcn" else 70)
    assert np.all(np.any(kp != 0, axis=(2, 3)))
    if preset == "pyskl":  # raw coordinates of the body with more motion first
        by_id = {b.body_id: b.xyz for b in rec.bodies}
        np.testing.assert_array_equal(kp[0], by_id["72057594037944734"].astype(np.float32))


# ------------------------------------------------------------------------------------------ options


def test_options_faithful_and_provenance() -> None:
    preset = get_preset(
        "ctrgcn", options={"length_threshold": "5", "contiguous_frames": "yes", "max_actors": "1"}
    )
    assert preset.rules.length_threshold == 5 and preset.quirks.contiguous_frames and preset.max_actors == 1
    faithful = get_preset("ctrgcn", faithful=True).quirks
    assert faithful.contiguous_frames and faithful.actor2_span_from_zero and faithful.one_frame_overlap
    assert not get_preset("pyskl", faithful=True).quirks.one_frame_overlap
    assert get_preset("agcn", faithful=True).quirks.per_person_shift_and_loop
    record = get_preset("pyskl").provenance()
    assert record["name"] == "pyskl" and record["rules"]["noisy_fraction"] == 0.69754
    assert record["rules"]["spread_ratio"] == 0.8 and record["rules"]["length_threshold"] == 11
    assert record["online_normalize"] == "center_align" and record["quirks"]["contiguous_frames"] is False
    with pytest.raises(ConfigError, match="unknown NTU preset option 'nope'"):
        get_preset("pyskl", options={"nope": "1"})
    with pytest.raises(ConfigError, match="expected a int"):
        get_preset("pyskl", options={"length_threshold": "eleven"})
    with pytest.raises(ConfigError, match="expected a bool"):
        get_preset("pyskl", options={"motion_rule": "maybe"})
    with pytest.raises(ConfigError, match="unknown NTU preset"):
        get_preset("stgcn")


def test_a_recording_without_bodies_is_skipped(tmp_path: Path) -> None:
    rec = recording(tmp_path, 5, {})
    for preset in PRESETS:
        with pytest.raises(SkipItem, match="no body"):
            apply_preset(rec, get_preset(preset))
