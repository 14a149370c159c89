"""PSUMNet's fusion presets (specs/psumnet.md section 8) on hand-made score files: weights per split,
streams matched by recorded model, logits by default and softmax on request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.errors import ConfigError
from skelact.evaluation.ensemble import (
    evaluate,
    fused_score_file,
    load_streams,
    match_streams,
    preset_weights,
)
from skelact.evaluation.ensemble_presets import PRESET_FUSE, PRESETS, preset_help
from skelact.evaluation.scores import ScoreFile

CLASSES = ("wave", "clap", "kick")
LABELS = np.array([1, 0, 2])
# Raw logits per stream (3 samples x 3 classes). Sample 0: body says wave, hand clap, leg kick.
LOGITS = {
    "psumnet_body": [[1.0, 0.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.5]],
    "psumnet_hand": [[0.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 1.0]],
    "psumnet_leg": [[0.0, 0.0, 3.0], [0.0, 0.0, 2.0], [0.0, 0.0, 2.0]],
}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def write(
    folder: Path, models: tuple[str, ...], record_model: bool = True, split: str = "test"
) -> list[Path]:
    paths = []
    for model in models:
        logits = np.asarray(LOGITS[model], dtype=np.float32)
        meta = {"split": split, "modality": "j", **({"model": model} if record_model else {})}
        file = ScoreFile(
            sample_ids=np.array([f"{split}{i}" for i in range(3)]),
            labels=LABELS,
            logits=logits,
            probs=softmax(logits).astype(np.float32),
            class_names=CLASSES,
            meta=meta,
        )
        paths.append(file.write(folder / split / f"{model}.npz"))
    return paths


def test_presets_hold_the_published_weights() -> None:
    expected = {
        "ntu60_xsub": (2.0, 1.8, 0.7), "ntu60_xview": (2.1, 1.6, 0.7), "ntu120_xsub": (2.2, 1.5, 0.7),
        "ntu120_xset": (2.1, 2.0, 0.8), "ntux60": (3.4, 2.0, 1.0), "ntux120": (2.4, 2.2, 1.0),
    }  # fmt: skip
    for split, weights in expected.items():
        table = PRESETS[f"psumnet_{split}"]
        assert tuple(table) == ("psumnet_body", "psumnet_hand", "psumnet_leg")
        assert tuple(table.values()) == weights and PRESET_FUSE[f"psumnet_{split}"] == "logits"
    assert "psumnet_ntu60_xsub: body:hand:leg = 2:1.8:0.7 on logits" in preset_help()


def test_streams_are_matched_by_model_and_logits_fused_by_hand(tmp_path: Path) -> None:
    streams = load_streams(write(tmp_path, ("psumnet_leg", "psumnet_body", "psumnet_hand")))
    weights, note = preset_weights("psumnet_ntu60_xsub", streams)
    assert weights == [0.7, 2.0, 1.8] and note is None
    assert streams.names() == ["psumnet_leg", "psumnet_body", "psumnet_hand"]  # modality "j" is shared
    fused = fused_score_file(streams, weights, "logits")
    body, hand, leg = (np.asarray(LOGITS[m]) for m in ("psumnet_body", "psumnet_hand", "psumnet_leg"))
    np.testing.assert_allclose(fused.logits, (2.0 * body + 1.8 * hand + 0.7 * leg) / 4.5, rtol=1e-6)
    # Sample 0 by hand: (2.0 * [1, 0, 0] + 1.8 * [0, 2, 0] + 0.7 * [0, 0, 3]) / 4.5 = [0.44, 0.8, 0.47].
    np.testing.assert_allclose(fused.logits[0], [2.0 / 4.5, 3.6 / 4.5, 2.1 / 4.5], rtol=1e-6)
    assert fused.logits.argmax(1).tolist() == [1, 0, 2]
    result = evaluate(streams, weights, "logits", "preset psumnet_ntu60_xsub")
    assert result.fused is not None and result.fused["top1"] == 1.0
    assert [s["model"] for s in result.streams] == ["psumnet_leg", "psumnet_body", "psumnet_hand"]
    # Equal weights let the confident leg stream win sample 0 (kick).
    assert fused_score_file(streams, [1, 1, 1], "logits").logits.argmax(1)[0] == 2


def test_softmax_fusion_on_request(tmp_path: Path) -> None:
    streams = load_streams(write(tmp_path, ("psumnet_body", "psumnet_hand", "psumnet_leg")))
    weights, _ = preset_weights("psumnet_ntu120_xset", streams)
    assert weights == [2.1, 2.0, 0.8]
    fused = fused_score_file(streams, weights, "probs")
    probs = [softmax(np.asarray(LOGITS[m])) for m in ("psumnet_body", "psumnet_hand", "psumnet_leg")]
    expected = (2.1 * probs[0] + 2.0 * probs[1] + 0.8 * probs[2]) / 4.9
    np.testing.assert_allclose(fused.probs, expected, rtol=1e-5)
    np.testing.assert_allclose(fused.probs.sum(1), 1.0, rtol=1e-6)


def test_unrecorded_models_fall_back_to_body_hand_leg_order(tmp_path: Path) -> None:
    streams = load_streams(
        write(tmp_path, ("psumnet_body", "psumnet_hand", "psumnet_leg"), record_model=False)
    )
    weights, note = preset_weights("psumnet_ntu60_xview", streams)
    assert weights == [2.1, 1.6, 0.7]
    assert note is not None and "record no model" in note and "psumnet_body, psumnet_hand" in note


def test_a_foreign_stream_is_refused(tmp_path: Path) -> None:
    paths = write(tmp_path, ("psumnet_body", "psumnet_hand"))
    other = ScoreFile.read(paths[1])
    paths.append(
        ScoreFile(
            other.sample_ids, other.labels, other.logits, other.probs, other.class_names, {"model": "ctrgcn"}
        ).write(tmp_path / "ctrgcn.npz")
    )
    with pytest.raises(ConfigError, match="holds model 'ctrgcn'"):
        preset_weights("psumnet_ntu60_xsub", load_streams(paths))


def test_validation_streams_are_matched_by_model(tmp_path: Path) -> None:
    test = load_streams(write(tmp_path, ("psumnet_body", "psumnet_hand", "psumnet_leg")))
    val = load_streams(write(tmp_path, ("psumnet_hand", "psumnet_leg", "psumnet_body"), split="val"))
    matched, note = match_streams(test, val)
    assert note is None and matched.models == test.models
    np.testing.assert_array_equal(matched.logits, test.logits)  # same hand-made scores, reordered
