"""`skelact prepare keypoint-table`: one CSV/JSON table per clip + labels CSV -> store."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.cli.options import add_option_flags, options_from_namespace
from skelact.data.prepare.keypoint_table import KeypointTableOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import FormatError

LAYOUT_YAML = """\
name: hand4
joint_names: [wrist, thumb, index, pinky]
parents: [wrist, wrist, wrist, wrist]
left_right: []
"""


def _table_rows(clip: int) -> list[list[object]]:
    """Two persons over frames 100..(102 + clip % 2); person 'b' only in the first frame."""
    rows: list[list[object]] = []
    for frame in range(100, 103 + clip % 2):
        for joint in ("wrist", "thumb", "index", "pinky"):
            rows.append([frame, "a", joint, clip + frame / 1000, 1.0, 0.9])
    rows.append([100, "b", 2, -1.0, -1.0, 0.4])
    return rows


def _folder(tmp_path: Path, clips: int = 8) -> Path:
    raw = tmp_path / "tables"
    raw.mkdir()
    (tmp_path / "hand4.yaml").write_text(LAYOUT_YAML)
    header = ["frame", "person", "joint", "x", "y", "score"]
    labels = ["file,label,subject,split"]
    for i in range(clips):
        rows = _table_rows(i)
        if i % 2:
            name = f"clip{i}.csv"
            text = ",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
            (raw / name).write_text(text)
        else:
            name = f"clip{i}.json"
            (raw / name).write_text(json.dumps({"columns": header, "rows": rows}))
        labels.append(f"{name},{'open' if i % 4 < 2 else 'close'},{i % 4},{'test' if i >= 6 else 'train'}")
    (raw / "labels.csv").write_text("\n".join(labels) + "\n")
    return raw


def _prepare(raw: Path, out: Path, *args: str, skip_bad: bool = False) -> SkeletonStore:
    parser = argparse.ArgumentParser()
    add_option_flags(parser, KeypointTableOptions)
    # No validation carve unless a test asks for one (a later flag wins).
    options = options_from_namespace(KeypointTableOptions, parser.parse_args(["--val-fraction", "0", *args]))
    job = get_preparer("keypoint-table").build(raw, options)
    run_job(
        job,
        RunOptions(
            raw=raw, out=out, workers=1, skip_bad=skip_bad, val_fraction=options.val_fraction, progress=False
        ),
    )
    return SkeletonStore(out)


def test_tables_with_a_layout_file_become_a_store(tmp_path: Path) -> None:
    raw = _folder(tmp_path)
    (raw / "notes.json").write_text("{}")  # not listed: recorded as unlisted, never read
    store = _prepare(raw, tmp_path / "store", "--layout", str(tmp_path / "hand4.yaml"))
    assert len(store) == 8 and list(store.class_names) == ["close", "open"]
    assert store.layout.name == "hand4" and store.has_score and store.num_channels == 2
    assert store.lengths.tolist() == [3, 4] * 4 and store.num_persons.tolist() == [2] * 8
    keypoint, score = store.read(1)
    assert score is not None
    np.testing.assert_allclose(keypoint[0, :, 0, 0], [1.1, 1.101, 1.102, 1.103], rtol=1e-3)
    assert keypoint[1, 0, 2].tolist() == [-1.0, -1.0] and not keypoint[1, 1:].any()
    assert score[1, 0, 2] == pytest.approx(0.4, abs=1e-3)
    assert store.meta(1)["person_ids"] == ["a", "b"] and store.meta(1)["first_frame"] == 100
    assert {k: v.tolist() for k, v in store.splits.items()} == {"train": list(range(6)), "test": [6, 7]}
    assert store.provenance["unlisted"] == ["notes.json"]
    assert store.provenance["recipe"] == "keypoint-table"


def test_bad_table_names_file_line_and_csv_line(tmp_path: Path) -> None:
    raw = _folder(tmp_path)
    (raw / "clip3.csv").write_text("frame,person,joint,x,y,score\n0,a,wrist,1,1,1\n1,a,elbow,1,1,1\n")
    layout = str(tmp_path / "hand4.yaml")
    message = (
        r"clip3\.csv \(line 3\): joint 'elbow' is not a joint name of layout 'hand4'.*labels\.csv line 5"
    )
    with pytest.raises(FormatError, match=message):
        _prepare(raw, tmp_path / "store", "--layout", layout)
    store = _prepare(raw, tmp_path / "store", "--layout", layout, skip_bad=True)
    assert len(store) == 7 and [entry[0] for entry in store.provenance["bad"]] == ["clip3.csv"]


def test_command_line_with_builtin_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "tables"
    raw.mkdir()
    for i in range(6):
        (raw / f"{i}.csv").write_text(f"frame,joint,x,y,z\n0,nose,{i},0,1\n1,left_ankle,0,{i},1\n")
    (raw / "my_labels.csv").write_text("file,label\n" + "".join(f"{i}.csv,{i % 2}\n" for i in range(6)))
    out = tmp_path / "store"
    args = ["prepare", "keypoint-table", "--raw", str(raw), "--labels", str(raw / "my_labels.csv")]
    assert (
        main(
            [
                *args,
                "--layout",
                "coco17",
                "--out",
                str(out),
                "--no-progress",
                "--test-fraction",
                "0.34",
                "--val-fraction",
                "0.5",
            ]
        )
        == 0
    )
    store = SkeletonStore(out)
    assert store.num_channels == 3 and not store.has_score and store.lengths.tolist() == [2] * 6
    assert np.bincount(store.labels[store.split("test")]).tolist() == [1, 1]
    assert store.provenance["unlisted_count"] == 0  # the labels CSV itself is not a clip
    assert main([*args, "--layout", "ntu25", "--out", str(tmp_path / "x")]) == 2
    assert "joint 'nose' is not a joint name of layout 'ntu25'" in capsys.readouterr().err
