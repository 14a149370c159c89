"""Layout and class-name options shared by the array-file recipes (pyskl, ctrgcn-npz, agcn)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelact.data.prepare.source_options import (
    check_inferred_classes,
    class_names,
    layout_for_joints,
    ntu_class_names,
)
from skelact.errors import ConfigError, FormatError


def test_layout_by_joint_count() -> None:
    assert [layout_for_joints(v) for v in (25, 17, 18, 15, 20)] == [
        "ntu25",
        "coco17",
        "openpose18",
        "jhmdb15",
        "kinect20",
    ]
    assert layout_for_joints(25, "ntu25") == "ntu25"
    with pytest.raises(ConfigError, match="no layout with 21 joints"):
        layout_for_joints(21)
    with pytest.raises(ConfigError, match="has 17 joints but the data has 25"):
        layout_for_joints(25, "coco17")


def test_class_names(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("walk\n\nrun\n")
    assert class_names(names) == ["walk", "run"]
    assert class_names(None, min_classes=3) == ["class_000", "class_001", "class_002"]
    assert class_names(None, num_classes=2, fallback=["a", "b"]) == ["a", "b"]
    ntu = class_names(None, num_classes=120, ntu=True)
    assert len(ntu) == 120 and ntu[:2] == (list(ntu_class_names()[:2]) or ["A001", "A002"])
    with pytest.raises(ConfigError, match="labels up to 4"):
        class_names(names, min_classes=5)
    with pytest.raises(ConfigError, match="`num_classes` is 3"):
        class_names(names, num_classes=3)
    with pytest.raises(ConfigError, match="unknown"):
        class_names(None)
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ConfigError, match="no class names"):
        class_names(tmp_path / "empty.txt")


def test_inferred_classes_must_all_hold_a_sample() -> None:
    def place(i: int) -> tuple[str, str]:
        return "labels.pkl", f"entry {i}"

    check_inferred_classes([2, 0, 1, 1], place)  # every class 0..2 used
    check_inferred_classes([], place)
    with pytest.raises(
        FormatError, match=r"labels\.pkl \(entry 1\): label 59 makes 60 classes, 57 of"
    ) as info:
        check_inferred_classes([0, 59, 1, 59], place)  # the first place of the largest label
    assert "`num_classes` 60" in (info.value.hint or "")
    with pytest.raises(FormatError) as info:
        check_inferred_classes([0, 5], place, has_num_classes=False)
    assert "num_classes" not in (info.value.hint or "")
