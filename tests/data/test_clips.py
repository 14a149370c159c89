"""ClipSpec validation and make_clips: shapes, persons, score channel, centring, crop-resize blending, the
feeders' valid-frame count."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelact.data.clips import ClipSpec, image_size_from_meta, make_clips
from skelact.data.transforms.temporal import crop_resize_positions, interpolate_frames, uniform_sample_indices
from skelact.errors import ConfigError, FormatError
from skelact.skeleton import get_layout

LAYOUT = get_layout("ntu25")
V = 25
CENTER_JOINT = 1  # ntu25 spine middle (0-based), the joint every reference centres on (spec 4.1, 4.2)


def _keypoint(m: int = 2, t: int = 20, c: int = 3, seed: int = 0) -> np.ndarray:
    """Random keypoints with no zero coordinate, so every joint is present."""
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=(m, t, V, c)).astype(np.float32)


def _frame_coded(m: int = 2, t: int = 20, c: int = 3) -> np.ndarray:
    """Every coordinate of person p in frame f is 1000 * p + f + 1, so a value tells its person and frame."""
    person = np.arange(m)[:, None, None, None] * 1000.0
    frame = np.arange(t)[None, :, None, None] + 1.0
    return np.broadcast_to(person + frame, (m, t, V, c)).astype(np.float32).copy()


def _reader(kp: np.ndarray, score: np.ndarray | None = None):
    return lambda f: (kp[:, f], None if score is None else score[:, f])


def _clips(kp, spec, *, test_mode=False, seed=0, score=None):
    return make_clips(
        _reader(kp, score), kp.shape[1], spec, LAYOUT, test_mode=test_mode, rng=np.random.default_rng(seed)
    )


# ---------------------------------------------------------------- ClipSpec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampling": "random"}, r"unknown sampling 'random'.*uniform, crop_resize"),
        ({"clip_len": 0}, "must be positive"),
        ({"num_test_clips": 0}, "must be positive"),
        ({"max_persons": 0}, "must be positive"),
        ({"valid_frames": "nonzero"}, r"unknown valid_frames rule 'nonzero'.*last, count"),
    ],
)
def test_clip_spec_rejects_bad_values(kwargs: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        ClipSpec(**kwargs)


def test_clip_spec_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match=r"unknown clip settings \['clip_length'\]"):
        ClipSpec.from_dict({"clip_length": 32})


def test_clip_spec_round_trips_through_a_dict_and_json():
    spec = ClipSpec(
        clip_len=32,
        sampling="crop_resize",
        num_test_clips=1,
        normalize="center",
        max_persons=1,
        with_score=True,
        crop_ratio=[0.3, 1],  # type: ignore[arg-type]  # lists from YAML/JSON become float tuples
        valid_frames="count",
    )
    assert spec.crop_ratio == (0.3, 1.0)
    data = spec.to_dict()
    assert data["crop_ratio"] == [0.3, 1.0]
    assert ClipSpec.from_dict(data) == spec
    assert ClipSpec.from_dict(json.loads(json.dumps(data))) == spec
    assert ClipSpec.from_dict({}) == ClipSpec()
    assert ClipSpec().valid_frames == "last"  # checkpoints without the key keep skelact's rule


def test_clip_spec_rejects_unknown_normalisation():
    with pytest.raises(ConfigError):
        ClipSpec(normalize="centre")


# ---------------------------------------------------------------- shapes and persons


@pytest.mark.parametrize(
    ("sampling", "test_mode", "k"),
    [("uniform", False, 1), ("uniform", True, 3), ("crop_resize", False, 1), ("crop_resize", True, 1)],
)
def test_output_shape_and_dtype(sampling: str, test_mode: bool, k: int):
    spec = ClipSpec(clip_len=8, sampling=sampling, num_test_clips=k, max_persons=2)
    clips = _clips(_keypoint(m=2, t=20), spec, test_mode=test_mode)
    assert clips.shape == (k, 2, 8, V, 3)
    assert clips.dtype == np.float32 and clips.flags.c_contiguous


def test_uniform_test_clips_are_the_sampled_frames():
    kp = _keypoint(m=2, t=20)
    clips = _clips(kp, ClipSpec(clip_len=8, num_test_clips=3), test_mode=True)
    frames = uniform_sample_indices(20, 8, num_clips=3, test_mode=True)
    for k in range(3):
        np.testing.assert_array_equal(clips[k], kp[:, frames[k]])


def test_missing_persons_are_zero_padded():
    kp = _keypoint(m=1, t=12)
    clips = _clips(kp, ClipSpec(clip_len=6, max_persons=3), test_mode=True)
    assert clips.shape == (1, 3, 6, V, 3)
    assert (clips[:, 0] != 0).all()
    assert (clips[:, 1:] == 0).all()


def test_extra_persons_are_dropped_keeping_the_first():
    kp = _frame_coded(m=4, t=12)
    clips = _clips(kp, ClipSpec(clip_len=6, max_persons=2), test_mode=True)
    assert clips.shape == (1, 2, 6, V, 3)
    persons = np.floor(clips[0, :, :, 0, 0] / 1000)  # person code of each (person, frame)
    np.testing.assert_array_equal(persons, [[0] * 6, [1] * 6])


# ---------------------------------------------------------------- score channel


@pytest.mark.parametrize("sampling", ["uniform", "crop_resize"])
def test_with_score_appends_the_given_scores(sampling: str):
    kp = _keypoint(m=2, t=30, c=2)
    score = np.random.default_rng(1).uniform(0.2, 1.0, size=(2, 30, V)).astype(np.float32)
    spec = ClipSpec(clip_len=8, sampling=sampling, with_score=True)
    with_score = _clips(kp, spec, score=score, test_mode=True)
    without = _clips(kp, ClipSpec(clip_len=8, sampling=sampling), score=score, test_mode=True)
    assert with_score.shape == (1, 2, 8, V, 3)
    np.testing.assert_array_equal(with_score[..., :2], without)
    if sampling == "uniform":  # whole frames: the channel is the scores of the sampled frames
        frames = uniform_sample_indices(30, 8, test_mode=True)[0]
        np.testing.assert_array_equal(with_score[0, :, :, :, 2], score[:, frames])
    else:  # blended with the same weights as the coordinates
        assert ((with_score[..., 2] >= 0.2 - 1e-6) & (with_score[..., 2] <= 1.0 + 1e-6)).all()


def test_with_score_without_scores_marks_present_joints():
    kp = _keypoint(m=2, t=10, c=2)
    kp[1] = 0  # person 1 absent
    kp[0, :, 3] = 0  # joint 3 of person 0 missing
    spec = ClipSpec(clip_len=10, with_score=True, max_persons=3)
    clips = _clips(kp, spec, test_mode=True)
    assert clips.shape == (1, 3, 10, V, 3)
    expected = np.zeros((3, 10, V), dtype=np.float32)
    expected[0] = 1
    expected[0, :, 3] = 0
    np.testing.assert_array_equal(clips[0, ..., 2], expected)


def test_with_score_marks_the_centre_joint_present_after_centring():
    kp = _keypoint(m=1, t=6, c=2)
    clips = _clips(kp, ClipSpec(clip_len=6, with_score=True, normalize="center"), test_mode=True)
    assert (clips[0, 0, :, :, 2] == 1).all()


# ---------------------------------------------------------------- normalisation


def test_center_puts_person_0_centre_joint_at_the_origin_in_frame_0():
    # fewer frames than clip_len in test mode: clip 0 starts at frame 0 and loops back to it at position 5
    kp = _keypoint(m=2, t=5)
    clips = _clips(kp, ClipSpec(clip_len=8, normalize="center"), test_mode=True)
    np.testing.assert_array_equal(clips[0, 0, 0, CENTER_JOINT], 0)
    np.testing.assert_array_equal(clips[0, 0, 5, CENTER_JOINT], 0)
    frames = [0, 1, 2, 3, 4, 0, 1, 2]
    np.testing.assert_allclose(clips[0], kp[:, frames] - kp[0, 0, CENTER_JOINT], atol=1e-6)


def test_crop_resize_refuses_several_test_clips():
    with pytest.raises(ConfigError, match="num_test_clips"):
        ClipSpec(sampling="crop_resize", num_test_clips=3)


def test_center_uses_sequence_frame_0_even_when_the_clip_skips_it():
    kp = _keypoint(m=2, t=40)
    calls: list[np.ndarray] = []

    def reader(frames: np.ndarray):
        calls.append(np.asarray(frames))
        return kp[:, frames], None

    spec = ClipSpec(clip_len=8, normalize="center")
    clips = make_clips(reader, 40, spec, LAYOUT, test_mode=False, rng=np.random.default_rng(0))
    # Normalisation needs the whole sequence: it is read once, then the clip's frames are taken from it.
    assert len(calls) == 1 and calls[0].tolist() == list(range(40))
    frames = uniform_sample_indices(40, 8, rng=np.random.default_rng(0))[0]
    expected = kp[:, frames] - kp[0, 0, CENTER_JOINT]
    np.testing.assert_allclose(clips[0], expected, atol=1e-6)


def test_center_keeps_missing_joints_and_persons_zero():
    kp = _keypoint(m=2, t=6)
    kp[1] = 0
    kp[0, :, 7] = 0
    clips = _clips(kp, ClipSpec(clip_len=6, normalize="center"), test_mode=True)
    assert (clips[0, 1] == 0).all() and (clips[0, 0, :, 7] == 0).all()


def test_center_uses_the_first_valid_frame_of_the_whole_sequence():
    kp = _keypoint(m=1, t=40)
    kp[0, :5] = 0  # person 0 appears at frame 5
    spec = ClipSpec(clip_len=8, normalize="center", max_persons=1)
    rng = np.random.default_rng(0)
    frames = uniform_sample_indices(40, 8, rng=np.random.default_rng(0))[0]
    assert frames[1] != 5  # the clip does not contain frame 5 itself
    clips = make_clips(_reader(kp), 40, spec, LAYOUT, test_mode=False, rng=rng)
    expected = (kp[:, frames] - kp[0, 5, CENTER_JOINT]) * (kp[:, frames] != 0)
    np.testing.assert_allclose(clips[0], expected, atol=1e-6)


# ---------------------------------------------------------------- crop-resize


def test_crop_resize_test_mode_blends_neighbouring_frames_exactly():
    # 100 frames, CTR-GCN's test crop keeps the central 95%: trim int(0.05 * 100 / 2) = 2 frames each end,
    # 96 frames resized to 16 -> position 2 + (i + 0.5) * 6 - 0.5 = 4.5 + 6 i, half-way between two frames
    t = np.arange(100, dtype=np.float32)
    kp = np.broadcast_to(t[None, :, None, None], (1, 100, V, 3)).copy()
    kp[..., 1] = t[:, None] ** 2  # non-linear channel: a blend of neighbours, not of the positions
    clips = _clips(kp, ClipSpec(clip_len=16, sampling="crop_resize", max_persons=1), test_mode=True)
    pos = 4.5 + 6 * np.arange(16)
    np.testing.assert_allclose(clips[0, 0, :, 0, 0], pos, rtol=1e-6)
    lo = np.floor(pos)
    np.testing.assert_allclose(clips[0, 0, :, 0, 1], 0.5 * lo**2 + 0.5 * (lo + 1) ** 2, rtol=1e-6)
    assert (clips[0, 0, :, :, 0] == clips[0, 0, :, :1, 0]).all()  # every joint blended alike


def test_crop_resize_training_follows_the_seeded_crop():
    t = np.arange(100, dtype=np.float32)
    kp = np.broadcast_to(t[None, :, None, None], (2, 100, V, 3)).copy()
    kp[..., 2] = t[:, None] ** 2
    spec = ClipSpec(clip_len=16, sampling="crop_resize", crop_ratio=(0.5, 1.0))
    clips = _clips(kp, spec, seed=3)
    pos = crop_resize_positions(100, 16, ratio=(0.5, 1.0), rng=np.random.default_rng(3))
    assert not np.allclose(pos, np.round(pos))  # the check below really tests blending
    np.testing.assert_allclose(clips[0, :, :, 4, 0], np.broadcast_to(pos, (2, 16)), rtol=1e-5)
    lo, hi = np.floor(pos), np.ceil(pos)
    w = pos - lo
    np.testing.assert_allclose(clips[0, 0, :, 4, 2], (1 - w) * lo**2 + w * hi**2, rtol=1e-5)


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("sampling", ["uniform", "crop_resize"])
def test_same_seed_same_clips(sampling: str):
    kp = _keypoint(m=2, t=150)  # > 64 frames, so crop_resize's crop length and start vary (spec 4.1)
    spec = ClipSpec(clip_len=10, sampling=sampling, normalize="center")
    first, again = _clips(kp, spec, seed=7), _clips(kp, spec, seed=7)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, _clips(kp, spec, seed=8))


def test_image_normalisation_takes_the_frame_size_from_the_sample_meta() -> None:
    assert image_size_from_meta({"img_shape": [1080, 1920]}) == (1080, 1920)
    assert image_size_from_meta({}) is None
    keypoint = np.zeros((1, 4, 17, 2), np.float32)
    keypoint[..., 0], keypoint[..., 1] = 1920.0, 540.0  # right edge, vertical middle
    spec = ClipSpec(clip_len=4, normalize="image", max_persons=1, sampling="uniform")
    clips = make_clips(
        lambda frames: (keypoint[:, frames], None),
        4,
        spec,
        get_layout("coco17"),
        test_mode=True,
        rng=np.random.default_rng(0),
        image_size=(1080, 1920),
    )
    np.testing.assert_allclose(clips[..., 0], 1.0)
    np.testing.assert_allclose(clips[..., 1], 0.0)


# ---------------------------------------------------------------- valid frames: the feeders' count


def _with_gap() -> np.ndarray:
    """20 frame-coded frames, nobody in frames 3-5 and person 1 absent before frame 8: 17 non-zero frames."""
    kp = _frame_coded(m=2, t=20)
    kp[:, 3:6] = 0
    kp[1, :8] = 0
    return kp


@pytest.mark.parametrize("test_mode", [True, False])
def test_count_crops_from_the_first_count_frames(test_mode: bool):
    """CTR-GCN's and PSUMNet's feeders crop frames 0 .. count - 1, however the empty frames lie; skelact's
    default crops up to the last non-zero frame."""
    kp = _with_gap()
    spec = ClipSpec(clip_len=8, sampling="crop_resize", valid_frames="count", crop_ratio=(0.5, 1.0))
    clips = _clips(kp, spec, test_mode=test_mode, seed=4)
    positions = crop_resize_positions(
        17, 8, ratio=(0.5, 1.0), test_mode=test_mode, rng=np.random.default_rng(4)
    )
    np.testing.assert_allclose(clips[0], interpolate_frames(kp, positions), rtol=1e-6)
    default = _clips(kp, ClipSpec(clip_len=8, sampling="crop_resize"), test_mode=test_mode, seed=4)
    last = crop_resize_positions(20, 8, ratio=(0.5, 1.0), test_mode=test_mode, rng=np.random.default_rng(4))
    np.testing.assert_allclose(default[0], interpolate_frames(kp, last), rtol=1e-6)
    assert not np.allclose(positions, last)


def test_count_applies_to_uniform_sampling_and_counts_only_kept_persons():
    kp = np.concatenate([_with_gap(), _frame_coded(m=1, t=20)])  # a third person, present throughout
    spec = ClipSpec(clip_len=6, num_test_clips=2, valid_frames="count", max_persons=2)
    clips = _clips(kp, spec, test_mode=True)
    frames = uniform_sample_indices(17, 6, num_clips=2, test_mode=True)  # the dropped person is not counted
    for k in range(2):
        np.testing.assert_array_equal(clips[k], kp[:2, frames[k]])


def test_count_of_an_empty_sequence_is_an_error():
    spec = ClipSpec(clip_len=4, sampling="crop_resize", valid_frames="count")
    with pytest.raises(FormatError, match="0 frames"):
        _clips(np.zeros((2, 6, V, 3), np.float32), spec, test_mode=True)
