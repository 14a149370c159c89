"""Ensembles: fusion equals a hand computation, alignment by id, clear errors, presets, val-only search."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from skelact.errors import ConfigError, FormatError
from skelact.evaluation import ensemble
from skelact.evaluation.ensemble import (
    check_validation_only,
    evaluate,
    fuse,
    fused_score_file,
    load_streams,
    match_streams,
    preset_weights,
    search_weights,
)
from skelact.evaluation.scores import ScoreFile

CLASSES = ("wave", "clap", "throw")


def score_file(
    probs: np.ndarray,
    labels: list[int] | np.ndarray,
    ids: list[str] | None = None,
    meta: dict | None = None,
    classes: tuple[str, ...] = CLASSES,
) -> ScoreFile:
    probs = np.asarray(probs, dtype=np.float32)
    return ScoreFile(
        sample_ids=np.asarray(ids if ids is not None else [f"s{i}" for i in range(len(probs))]),
        labels=np.asarray(labels, dtype=np.int64),
        logits=np.log(probs),
        probs=probs,
        class_names=classes,
        meta=meta or {},
    )


# Four samples, three classes; labels 0, 1, 2, 0. Each stream alone gets 2 of 4 right, the 2:1 fusion 4 of 4.
LABELS = [0, 1, 2, 0]
STREAM_A = [[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]]
STREAM_B = [[0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.8, 0.1, 0.1]]


def write_pair(tmp_path: Path, meta_a: dict | None = None, meta_b: dict | None = None) -> list[Path]:
    a = score_file(STREAM_A, LABELS, meta=meta_a).write(tmp_path / "a.npz")
    b = score_file(STREAM_B, LABELS, meta=meta_b).write(tmp_path / "b.npz")
    return [a, b]


def test_fused_accuracy_equals_a_hand_computed_fusion(tmp_path: Path) -> None:
    streams = load_streams(write_pair(tmp_path))
    result = evaluate(streams, [2, 1], "probs", "given")
    # By hand, 2/3 A + 1/3 B: sample 0 (0.467, 0.433, 0.1) -> 0; sample 1 (0.367, 0.533, 0.1) -> 1;
    # sample 2 (0.233, 0.167, 0.6) -> 2; sample 3 (0.467, 0.3, 0.233) -> 0. All four right.
    assert [s["metrics"]["top1"] for s in result.streams] == [0.5, 0.5]
    assert result.fused["top1"] == 1.0 and result.fused["mean_class_accuracy"] == 1.0
    expected = (2 * np.array(STREAM_A) + np.array(STREAM_B)) / 3
    np.testing.assert_allclose(fuse(streams.probs, [2, 1]), expected, rtol=1e-6)
    # Equal weights flip sample 0 to "clap" (0.4 vs 0.5) and sample 2 stays "throw": 3 of 4.
    assert evaluate(streams, [1, 1], "probs", "given").fused["top1"] == 0.75


def test_fusion_matches_a_loop_on_random_scores(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, k, weights = 50, 7, [0.6, 0.6, 0.4, 0.4]
    labels = rng.integers(0, k, n)
    logits = rng.standard_normal((4, n, k)) * 2
    classes = tuple(str(c) for c in range(k))
    paths = []
    for s in range(4):
        probs = np.exp(logits[s]) / np.exp(logits[s]).sum(1, keepdims=True)
        file = score_file(probs, labels, classes=classes)
        file.logits = logits[s].astype(np.float32)
        paths.append(file.write(tmp_path / f"{s}.npz"))
    streams = load_streams(paths)
    for mode, field in (
        ("logits", logits),
        ("probs", np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)),
    ):
        hits = hits5 = 0
        for i in range(n):
            row = sum(w * field[s, i] for s, w in enumerate(weights))  # CTR-GCN's unnormalised sum
            hits += int(np.argmax(row) == labels[i])
            hits5 += int(labels[i] in np.argsort(row)[-5:])
        fused = evaluate(streams, weights, mode, "given").fused
        assert fused["top1"] == pytest.approx(hits / n) and fused["top5"] == pytest.approx(hits5 / n)


def test_rows_are_aligned_by_sample_id_not_position(tmp_path: Path) -> None:
    a = score_file(STREAM_A, LABELS).write(tmp_path / "a.npz")
    order = [2, 0, 3, 1]
    b = score_file(
        np.asarray(STREAM_B)[order], np.asarray(LABELS)[order], ids=[f"s{i}" for i in order]
    ).write(tmp_path / "b.npz")
    streams = load_streams([a, b])
    assert streams.sample_ids.tolist() == ["s0", "s1", "s2", "s3"]
    np.testing.assert_allclose(streams.probs[1], STREAM_B, rtol=1e-6)
    assert evaluate(streams, [2, 1], "probs", "given").fused["top1"] == 1.0


def test_different_sample_sets_name_both_files(tmp_path: Path) -> None:
    a = score_file(STREAM_A, LABELS).write(tmp_path / "a.npz")
    b = score_file(STREAM_B, LABELS, ids=["s0", "s1", "s2", "other"]).write(tmp_path / "b.npz")
    with pytest.raises(FormatError, match="cover different samples") as info:
        load_streams([a, b])
    message = str(info.value)
    assert str(a) in message and str(b) in message and "'s3'" in message and "'other'" in message
    assert "np.str_" not in message


def test_fewer_samples_is_an_error(tmp_path: Path) -> None:
    a = score_file(STREAM_A, LABELS).write(tmp_path / "a.npz")
    b = score_file(STREAM_B[:3], LABELS[:3]).write(tmp_path / "b.npz")
    with pytest.raises(FormatError, match="lacks 1 of the 4 samples"):
        load_streams([a, b])


@pytest.mark.parametrize(
    ("classes", "fragment"),
    [
        (("wave", "clap", "throw", "kick"), "4 classes, but"),
        (("wave", "clap", "jump"), "class 2 is named 'jump'"),
    ],
)
def test_class_mismatch_names_both_files(tmp_path: Path, classes: tuple[str, ...], fragment: str) -> None:
    a = score_file(STREAM_A, LABELS).write(tmp_path / "a.npz")
    probs = np.full((4, len(classes)), 1 / len(classes))
    b = score_file(probs, LABELS, classes=classes).write(tmp_path / "b.npz")
    with pytest.raises(FormatError, match=fragment) as info:
        load_streams([a, b])
    assert str(a) in str(info.value) and str(b) in str(info.value)


def test_label_disagreement_and_duplicate_ids_are_errors(tmp_path: Path) -> None:
    a = score_file(STREAM_A, LABELS).write(tmp_path / "a.npz")
    b = score_file(STREAM_B, [0, 1, 2, 1]).write(tmp_path / "b.npz")
    with pytest.raises(FormatError, match="sample 's3' has label 1"):
        load_streams([a, b])
    dup = score_file(STREAM_B, LABELS, ids=["s0", "s1", "s1", "s3"]).write(tmp_path / "dup.npz")
    with pytest.raises(FormatError, match="'s1' occurs 2 times") as info:
        load_streams([a, dup])
    assert info.value.path == str(dup)


def test_files_on_different_splits_are_refused(tmp_path: Path) -> None:
    paths = write_pair(tmp_path, {"split": "test"}, {"split": "val"})
    with pytest.raises(FormatError, match="different splits"):
        load_streams(paths)


def test_fused_score_file_is_a_valid_score_file(tmp_path: Path) -> None:
    streams = load_streams(write_pair(tmp_path, {"split": "test"}, {"split": "test"}))
    probs_file = fused_score_file(streams, [2, 1], "probs", {"ensemble": {"weights": [2, 1]}})
    np.testing.assert_allclose(probs_file.probs.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(probs_file.logits), probs_file.probs, rtol=1e-6)
    assert probs_file.meta == {"split": "test", "ensemble": {"weights": [2, 1]}}
    logits_file = fused_score_file(streams, [2, 1], "logits")
    expected = (2 * np.log(STREAM_A) + np.log(STREAM_B)) / 3
    np.testing.assert_allclose(logits_file.logits, expected, rtol=1e-5)
    np.testing.assert_allclose(
        logits_file.probs, np.exp(expected) / np.exp(expected).sum(1, keepdims=True), rtol=1e-5
    )
    back = ScoreFile.read(probs_file.write(tmp_path / "fused.npz"))
    assert back.meta["ensemble"] == {"weights": [2, 1]}


def test_presets_match_streams_by_recorded_modality(tmp_path: Path) -> None:
    paths = []
    for modality in ("bm", "j", "jm", "b"):
        meta = {"modality": modality}
        paths.append(score_file(STREAM_A, LABELS, ids=None, meta=meta).write(tmp_path / f"{modality}.npz"))
    streams = load_streams(paths)
    assert preset_weights("pyskl", streams) == ([1.0, 2.0, 1.0, 2.0], None)
    assert preset_weights("ctrgcn", streams) == ([0.4, 0.6, 0.4, 0.6], None)


def test_presets_fall_back_to_position_with_a_note(tmp_path: Path) -> None:
    streams = load_streams(write_pair(tmp_path))
    weights, note = preset_weights("pyskl", streams)
    assert weights == [2.0, 2.0] and "order j, b" in note


def test_preset_refuses_an_unknown_stream(tmp_path: Path) -> None:
    streams = load_streams(write_pair(tmp_path, {"modality": "j"}, {"modality": "j,b"}))
    with pytest.raises(ConfigError, match="modality 'j,b'"):
        preset_weights("pyskl", streams)
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_weights("mmaction", streams)


def test_bad_weights_are_refused(tmp_path: Path) -> None:
    streams = load_streams(write_pair(tmp_path))
    for weights, fragment in (([1], "1 weights for 2"), ([1, -1], "non-negative"), ([0, 0], "positive sum")):
        with pytest.raises(ConfigError, match=fragment):
            fuse(streams.probs, weights)


def _separable_streams(seed: int, n: int = 60, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Stream 0 informative, stream 1 weaker, stream 2 noise: (3, N, K) probabilities and labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    onehot = np.eye(k)[labels]
    logits = np.stack(
        [
            2.0 * onehot + rng.normal(0, 1, (n, k)),
            1.0 * onehot + rng.normal(0, 1, (n, k)),
            rng.normal(0, 1, (n, k)),
        ]
    )
    return np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), labels


def test_search_finds_the_grid_optimum_by_brute_force() -> None:
    scores, labels = _separable_streams(1)
    result = search_weights(scores, labels, max_weight=3)
    best = 0.0
    for w in itertools.product(range(4), repeat=3):
        if sum(w):
            fused = sum(wi * s for wi, s in zip(w, scores, strict=True))
            best = max(best, float((fused.argmax(1) == labels).mean()))
    assert result.top1 == pytest.approx(best)
    fused = np.tensordot(np.asarray(result.weights) / sum(result.weights), scores, axes=1)
    assert float((fused.argmax(1) == labels).mean()) == pytest.approx(result.top1)
    assert result.method == "grid" and np.gcd.reduce(np.asarray(result.weights, dtype=int)) == 1
    assert result.top1 >= max(float((s.argmax(1) == labels).mean()) for s in scores)


def test_search_is_deterministic_and_prefers_even_weights_on_ties() -> None:
    scores, labels = _separable_streams(2)
    assert search_weights(scores, labels).weights == search_weights(scores, labels).weights
    # Identical streams: every weight vector ties, and equal weights win the tie.
    same = np.stack([scores[0]] * 3)
    assert search_weights(same, labels).weights == [1.0, 1.0, 1.0]


def test_coordinate_ascent_beyond_the_grid_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    scores, labels = _separable_streams(3)
    monkeypatch.setattr(ensemble, "MAX_GRID_SIZE", 10)
    result = search_weights(scores, labels, max_weight=4)
    assert result.method == "coordinate"
    equal = float((scores.mean(0).argmax(1) == labels).mean())
    assert result.top1 >= equal
    assert search_weights(scores, labels, max_weight=4).weights == result.weights


def test_search_needs_labels() -> None:
    scores, labels = _separable_streams(4)
    labels[0] = -1
    with pytest.raises(ConfigError, match="labelled"):
        search_weights(scores, labels)


def test_validation_scores_must_not_be_test_scores(tmp_path: Path) -> None:
    test = load_streams(write_pair(tmp_path, {"split": "test"}, {"split": "test"}))
    (tmp_path / "v").mkdir()
    same_split = load_streams(write_pair(tmp_path / "v", {"split": "test"}, {"split": "test"}))
    with pytest.raises(ConfigError, match="'test' split"):
        check_validation_only(test, same_split)
    overlapping = load_streams(write_pair(tmp_path / "v", {"split": "val"}, {"split": "val"}))
    with pytest.raises(ConfigError, match="share 4 samples"):
        check_validation_only(test, overlapping)


def test_validation_streams_are_matched_by_modality(tmp_path: Path) -> None:
    test = load_streams(write_pair(tmp_path, {"modality": "j"}, {"modality": "b"}))
    (tmp_path / "v").mkdir()
    v_b = score_file(STREAM_B, LABELS, meta={"modality": "b"}).write(tmp_path / "v" / "b.npz")
    v_j = score_file(STREAM_A, LABELS, meta={"modality": "j"}).write(tmp_path / "v" / "j.npz")
    val, note = match_streams(test, load_streams([v_b, v_j]))
    assert note is None and val.modalities == ["j", "b"] and val.paths == [v_j, v_b]
    np.testing.assert_allclose(val.probs[0], STREAM_A, rtol=1e-6)
    v_jm = score_file(STREAM_B, LABELS, meta={"modality": "jm"}).write(tmp_path / "v" / "jm.npz")
    with pytest.raises(ConfigError, match="differ from the test streams"):
        match_streams(test, load_streams([v_jm, v_j]))
