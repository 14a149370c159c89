"""The typed pipeline record: round trip, the untyped version-1 record, gaps named, the one builder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from skelact.data.clips import ClipSpec
from skelact.errors import FormatError, SkelactError
from skelact.inference.pipeline import (
    PipelineRecord,
    build_input_model,
    clip_average,
    load_checkpoint,
    load_input_model,
)
from skelact.skeleton.layout import get_layout


def record(**changes: object) -> PipelineRecord:
    fields = dict(
        method="supervised", model="stgcn", model_args={"base_channels": 4},
        layout=get_layout("ntu25").to_dict(), modality=("j", "b"), num_classes=3, num_channels=3,
        num_coords=3, num_persons=2, class_names=("a", "b", "c"), clip=ClipSpec(clip_len=16),
        preset="ctrgcn", extra={"select_on": "val"},
    )  # fmt: skip
    fields.update(changes)
    return PipelineRecord(**fields)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    original = record()
    again = PipelineRecord.from_dict(original.to_dict())
    assert again == original
    assert again.to_dict()["select_on"] == "val" and again.clip.clip_len == 16


def test_version_one_records_still_load() -> None:
    """The untyped dict skelact wrote before the record had a version (no method, preset in provenance)."""
    old = record().to_dict()
    for key in ("record_version", "method", "inputs"):
        old.pop(key)
    old["data"].pop("preset")
    old["data"]["store_provenance"] = {"preset": "pyskl"}
    again = PipelineRecord.from_dict(old)
    assert again.method == "supervised" and again.inputs == ("keypoint",) and again.preset == "pyskl"


def test_a_record_with_gaps_is_one_clear_error() -> None:
    broken = record().to_dict()
    del broken["num_classes"], broken["data"]["clip"]
    with pytest.raises(FormatError, match="lacks num_classes"):
        PipelineRecord.from_dict(broken, "x.ckpt")
    newer = {**record().to_dict(), "record_version": 99}
    with pytest.raises(FormatError, match="newer"):
        PipelineRecord.from_dict(newer)


def test_the_builder_follows_the_record() -> None:
    net = build_input_model(record())
    assert net.features.out_channels(3) == 6  # j + b
    clips = torch.randn(2, 3, 2, 16, 25, 3)  # N=2 samples of K=3 clips
    logits, probs = net.eval().clip_scores(clips)
    assert logits.shape == probs.shape == (2, 3)
    torch.testing.assert_close(probs.sum(1), torch.ones(2))


def test_clip_average_averages_softmax_not_logits() -> None:
    logits = torch.tensor([[[10.0, 0.0], [0.0, 1.0]]])
    mean_logits, probs = clip_average(logits)
    torch.testing.assert_close(mean_logits, torch.tensor([[5.0, 0.5]]))
    torch.testing.assert_close(probs, logits.softmax(-1).mean(1))


def test_checkpoint_loading_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SkelactError, match="is a directory"):
        load_checkpoint(tmp_path)
    with pytest.raises(SkelactError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.ckpt")
    (tmp_path / "empty.ckpt").write_bytes(b"")
    with pytest.raises(FormatError, match=r"cannot load checkpoint: .+"):
        load_checkpoint(tmp_path / "empty.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "bare.ckpt")
    with pytest.raises(FormatError, match="no skelact pipeline record"):
        load_input_model(tmp_path / "bare.ckpt")


def test_weights_that_do_not_fit_the_record_are_named(tmp_path: Path) -> None:
    state = {f"net.{k}": v for k, v in build_input_model(record()).state_dict().items()}
    torch.save({"skelact": record(num_classes=4, class_names=("a", "b", "c", "d")).to_dict(),
                "state_dict": state}, tmp_path / "x.ckpt")  # fmt: skip
    with pytest.raises(FormatError, match="do not fit the recorded model 'stgcn'"):
        load_input_model(tmp_path / "x.ckpt")
