"""Real-data round trip: NW-UCLA JSON -> store -> PYSKL pickle -> store gives identical arrays and labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.cli.main import main
from skelact.data.export import export_pyskl
from skelact.data.store import SkeletonStore


def test_nw_ucla_through_a_pyskl_pickle_is_exact(shared_data: Path, tmp_path: Path) -> None:
    first = tmp_path / "ucla"
    assert main(["prepare", "nw-ucla", "--raw", str(shared_data / "nw_ucla"), "--out", str(first),
                 "--val-fraction", "0", "--no-progress"]) == 0  # fmt: skip
    original = SkeletonStore(first)
    pickle_path = export_pyskl(original, tmp_path / "ucla.pkl")
    names = tmp_path / "classes.txt"
    names.write_text("\n".join(original.class_names) + "\n")
    second = tmp_path / "again"
    assert main(["prepare", "pyskl", "--raw", str(pickle_path), "--out", str(second), "--layout", "kinect20",
                 "--class-names", str(names), "--val-fraction", "0", "--no-progress"]) == 0  # fmt: skip
    again = SkeletonStore(second)
    assert len(original) == len(again) == 1484
    assert again.sample_ids == original.sample_ids
    np.testing.assert_array_equal(again.labels, original.labels)
    assert again.class_names == original.class_names
    for name in ("train", "test"):
        np.testing.assert_array_equal(again.splits[name], original.splits[name])
    assert (len(again.splits["train"]), len(again.splits["test"])) == (1020, 464)
    for i in range(len(original)):
        np.testing.assert_array_equal(again.read(i)[0], original.read(i)[0])
