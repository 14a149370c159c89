"""BRL's six-stream fusion preset J:B:K:JM:BM:KM = 2:2:2:1:1:1 on probabilities (specs/brl.md section 7)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.errors import ConfigError
from skelact.evaluation.ensemble import PRESET_FUSE, fuse, load_streams, preset_weights
from skelact.evaluation.scores import ScoreFile

SIX = ("j", "b", "k", "jm", "bm", "km")


def write_streams(tmp_path: Path, modalities: tuple[str | None, ...]) -> list[Path]:
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 0, 1])
    paths = []
    for i, modality in enumerate(modalities):
        probs = rng.dirichlet(np.ones(3), size=5).astype(np.float32)
        scores = ScoreFile(
            sample_ids=np.array([f"s{n}" for n in range(5)]),
            labels=labels,
            logits=np.log(probs),
            probs=probs,
            class_names=("a", "b", "c"),
            meta={} if modality is None else {"modality": modality, "split": "test"},
        )
        paths.append(scores.write(tmp_path / f"{modality or i}.npz"))
    return paths


def test_brl_preset_weights_by_modality_and_by_position(tmp_path: Path) -> None:
    streams = load_streams(write_streams(tmp_path / "rec", ("km", "j", "k", "bm", "b", "jm")))
    assert preset_weights("brl", streams) == ([1.0, 2.0, 2.0, 1.0, 2.0, 1.0], None)
    assert PRESET_FUSE["brl"] == "probs"
    unnamed = load_streams(write_streams(tmp_path / "pos", (None,) * 6))
    weights, note = preset_weights("brl", unnamed)
    assert weights == [2.0, 2.0, 2.0, 1.0, 1.0, 1.0] and "j, b, k, jm, bm, km" in note
    with pytest.raises(ConfigError, match="at most 6"):
        preset_weights("brl", load_streams(write_streams(tmp_path / "seven", (None,) * 7)))
    # The four-stream presets keep their own order and limit.
    assert preset_weights("pyskl", load_streams(write_streams(tmp_path / "four", (None,) * 4)))[0] == [
        2,
        2,
        1,
        1,
    ]


def test_skelact_ensemble_preset_brl(tmp_path: Path) -> None:
    paths = write_streams(tmp_path, SIX)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ensemble", *map(str, paths), "--preset", "brl", "--json"]) == 0
    result = json.loads(out.getvalue())
    assert result["fuse"] == "probs" and result["weights"] == [2, 2, 2, 1, 1, 1]
    streams = load_streams(paths)
    fused = fuse(streams.probs, [2, 2, 2, 1, 1, 1])
    assert result["fused"]["top1"] == pytest.approx(float((fused.argmax(1) == streams.labels).mean()))
