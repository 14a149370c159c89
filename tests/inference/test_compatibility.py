"""Whether a checkpoint fits a network, in one sentence; and a checkpoint whose record or weights are wrong
is one FormatError from `load_input_model`, never a traceback (issue 13 item 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from skelact.data.clips import ClipSpec
from skelact.errors import FormatError
from skelact.inference.compatibility import record_mismatch, state_mismatch
from skelact.inference.pipeline import PipelineRecord, build_input_model, load_input_model, read_record
from skelact.skeleton.layout import get_layout


def record(**changes: Any) -> PipelineRecord:
    fields: dict[str, Any] = dict(
        method="supervised", model="stgcn", model_args={"base_channels": 4},
        layout=get_layout("ntu25").to_dict(), modality=("j",), num_classes=3, num_channels=3,
        num_coords=3, num_persons=2, class_names=("a", "b", "c"), clip=ClipSpec(clip_len=16),
    )  # fmt: skip
    fields.update(changes)
    return PipelineRecord(**fields)


def test_the_same_network_fits() -> None:
    assert record_mismatch(record(), record(clip=ClipSpec(clip_len=64), num_persons=1)) is None


def test_another_layout_names_both_layouts_classes_and_channels() -> None:
    coco = record(layout=get_layout("coco17").to_dict(), num_coords=2, num_classes=5, class_names="abcde")
    message = record_mismatch(record(), coco)
    assert message is not None and "layout, classes, channels differ" in message
    trained, _, built = message.partition("this configuration builds")
    assert "layout ntu25 (25 joints), 3 classes, 3 channels per joint (3D)" in trained
    assert "layout coco17 (17 joints), 5 classes, 3 channels per joint (2D + score)" in built


@pytest.mark.parametrize(
    ("change", "named"), [({"modality": ("b",)}, "modality"), ({"model": "ctrgcn"}, "model")]
)
def test_modality_and_model_are_network_facts(change: dict[str, Any], named: str) -> None:
    message = record_mismatch(record(), record(**change))
    assert message is not None and f"({named} differ)" in message


def test_state_mismatch_counts_and_names_the_first_offender() -> None:
    model = {"a": torch.zeros(3), "b": torch.zeros(2, 2), "c": torch.zeros(1)}
    assert state_mismatch(model, {k: v.clone() for k, v in model.items()}) is None
    given = {"a": torch.zeros(4), "b": torch.zeros(2, 3), "d": torch.zeros(1)}
    message = state_mismatch(model, given)
    assert message == (
        "2 tensors differ in shape (first a: (4,) in the checkpoint, (3,) in the model); "
        "1 tensor missing from the checkpoint (first c); 1 tensor the model does not have (first d)"
    )
    assert state_mismatch(model, given, strict=False) == message.split("; ")[0]


def _checkpoint(path: Path, data: Any, state: dict[str, torch.Tensor] | None = None) -> Path:
    torch.save({"skelact": data, "state_dict": state or {}}, path)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("garbage", "the pipeline record is a str, not a mapping"),
        ({**record().to_dict(), "num_classes": "three"}, "bad pipeline record"),
        ({**record().to_dict(), "layout": 5}, "bad pipeline record"),
        ({**record().to_dict(), "data": 5}, "lacks data.clip"),
        ({**record().to_dict(), "record_version": "2"}, "record version '2' is not a number"),
    ],
)
def test_a_malformed_record_is_one_error(tmp_path: Path, data: Any, expected: str) -> None:
    path = _checkpoint(tmp_path / "x.ckpt", data)
    with pytest.raises(FormatError, match=expected) as caught:
        read_record(torch.load(path, weights_only=True), path)
    assert "x.ckpt" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"layout": {"name": "x"}}, "not a valid layout description"),
        ({"model": "no_such_model"}, "unknown model 'no_such_model'"),
        ({"model_args": {"no_such_argument": 1}}, "unexpected argument 'no_such_argument'"),
    ],
)
def test_a_record_that_builds_no_model_names_the_file(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    path = _checkpoint(tmp_path / "x.ckpt", {**record().to_dict(), **change})
    with pytest.raises(FormatError, match=expected) as caught:
        load_input_model(path)
    assert str(caught.value).startswith(f"{path}: the pipeline record does not build a model")


def test_weights_of_another_shape_are_one_line(tmp_path: Path) -> None:
    state = {
        f"net.{k}": v
        for k, v in build_input_model(record(num_classes=4, class_names="abcd")).state_dict().items()
    }
    path = _checkpoint(tmp_path / "x.ckpt", record().to_dict(), state)
    with pytest.raises(FormatError) as caught:
        load_input_model(path)
    message = str(caught.value)
    assert "2 tensors differ in shape (first backbone.head.fc.weight: (4, 16) in the checkpoint" in message
    assert "size mismatch" not in message and "\n" not in message
