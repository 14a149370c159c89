"""The keypoint-table reader: per-frame rows (CSV or JSON) scattered into (M, T, V, C), and its errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.keypoint_table import read_keypoint_table
from skelact.data.formats.registry import get_format
from skelact.errors import FormatError
from skelact.skeleton import Layout, get_layout

HEADER = ["frame", "person", "joint", "x", "y", "score"]
# Person 7 has three keypoints, person 3 one: 7 becomes slot 0. Frame 12 has no row: an all-zero frame.
ROWS = [
    [10, 3, "nose", 1.0, 2.0, 0.5],
    [10, 7, "nose", 3.0, 4.0, 0.9],
    [11, 7, 5, 5.0, 6.0, 0.8],
    [13, 7, "right_ankle", 7.0, 8.0, 0.7],
]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _check_example(sample_keypoint: np.ndarray, score: np.ndarray | None) -> None:
    assert sample_keypoint.shape == (2, 4, 17, 2)  # persons 7 and 3, frames 10..13, coco17, x/y
    expected = np.zeros((2, 4, 17, 2), dtype=np.float32)
    expected[1, 0, 0] = (1.0, 2.0)
    expected[0, 0, 0] = (3.0, 4.0)
    expected[0, 1, 5] = (5.0, 6.0)
    expected[0, 3, 16] = (7.0, 8.0)
    np.testing.assert_array_equal(sample_keypoint, expected)
    assert score is not None
    assert score[0, 0, 0] == pytest.approx(0.9) and score[1, 0, 0] == pytest.approx(0.5)
    assert score[0, 2].sum() == 0  # the missing frame


def test_csv_rows_become_persons_frames_and_joints(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "clip.csv", HEADER, ROWS)
    sample = read_keypoint_table(path, "coco17", label=3, meta={"subject": 1})
    _check_example(sample.keypoint, sample.score)
    assert sample.label == 3 and sample.sample_id == "clip"
    assert sample.meta == {"subject": 1, "source": str(path), "first_frame": 10, "person_ids": ["7", "3"]}


def test_both_json_forms_read_like_the_csv(tmp_path: Path) -> None:
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps([dict(zip(HEADER, row, strict=True)) for row in ROWS]))
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"columns": [c.upper() for c in HEADER], "rows": ROWS}))
    for path in (objects, table):
        sample = read_keypoint_table(path, get_layout("coco17"))
        _check_example(sample.keypoint, sample.score)
        assert sample.meta["person_ids"] == ["7", "3"]


def test_header_case_spaces_blank_lines_extra_columns_and_z(tmp_path: Path) -> None:
    path = tmp_path / "clip.csv"
    path.write_text(" Frame ,JOINT,x,y,Z,visibility\n0,0,1,2,3,0.1\n\n1,spine_mid,4,5,6,0.2\n")
    sample = read_keypoint_table(path, "ntu25")
    assert sample.keypoint.shape == (1, 2, 25, 3) and sample.score is None
    assert sample.keypoint[0, 0, 0].tolist() == [1, 2, 3]
    assert sample.keypoint[0, 1, 1].tolist() == [4, 5, 6]
    assert sample.meta["person_ids"] == ["0"]


def test_shuffled_large_table_matches_the_array_it_came_from(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    layout = get_layout("ntu25")
    truth = rng.normal(size=(2, 300, 25, 3)).astype(np.float32)
    truth[1, :, 20:] = 0  # the second person lacks five joints: fewer keypoints, so it stays slot 1
    p, f, j = np.nonzero(np.any(truth != 0, axis=-1))
    order = rng.permutation(p.size)
    rows = [
        [int(f[i]), int(p[i]), layout.joint_names[j[i]], *truth[p[i], f[i], j[i]].tolist()] for i in order
    ]
    path = _write_csv(tmp_path / "big.csv", ["frame", "person", "joint", "x", "y", "z"], rows)
    sample = read_keypoint_table(path, layout)
    np.testing.assert_allclose(sample.keypoint, truth, rtol=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frame,person,x,y\n0,0,1,2\n", r"\(header\): missing column 'joint'; found 'frame', 'person'"),
        ("frame,joint,x,y,x\n0,0,1,2,3\n", r"\(header\): column 'x' appears twice"),
        ("frame,joint,x,y\n0,0,1,2\n1,0,1\n", r"\(line 3\): expected 4 fields \(frame,joint,x,y\), got 3"),
        ("frame,joint,x,y\n0,0,1,2\n1,0,abc,2\n", r"\(line 3\): x is 'abc', expected a number"),
        ("frame,joint,x,y\n0,0,1,\n", r"\(line 2\): y is empty, expected a number"),
        ("frame,joint,x,y\n0,0,1,2\n1,1,nan,2\n", r"\(line 3\): x is nan, expected a finite number"),
        ("frame,joint,x,y\n0.5,0,1,2\n", r"\(line 2\): frame 0.5 is not a whole number"),
        (
            "frame,joint,x,y\n0,0,1,2\n0,elbow,1,2\n",
            r"\(line 3\): joint 'elbow' is not a joint name of layout 'coco17'",
        ),
        (
            "frame,joint,x,y\n0,17,1,2\n",
            r"\(line 2\): joint '17' is not a joint index of layout 'coco17' \(indices 0\.\.16",
        ),
        (
            "frame,person,joint,x,y\n0,0,nose,1,2\n1,0,nose,1,2\n0,0,0,5,5\n",
            r"\(line 4\): frame 0, person 0, joint 'nose' appears twice \(also at line 2\)",
        ),
        ("frame,joint,x,y\n", r"empty sequence: the table has no rows"),
        ("", r"empty file: expected a header line"),
        (
            "frame,joint,x,y\n0,0,1,2\n999999999,0,1,2\n",
            r"frame numbers run from 0 to 999999999 .* too large",
        ),
    ],
)
def test_malformed_csv_tables_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clip.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as info:
        read_keypoint_table(path, "coco17")
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            [{"frame": 0, "joint": 0, "x": 1, "y": 2}, {"frame": 1, "joint": 0, "x": 1}],
            r"\(row 1 \(counting from 0\)\): no 'y' value",
        ),
        ([{"frame": 0, "joint": 0, "x": None, "y": 2}], r"\(row 0 \(counting from 0\)\): x is empty"),
        ([{"frame": 0, "joint": 0, "x": True, "y": 2}], r"x is True, expected a number"),
        (
            [{"frame": 0, "joint": 0, "x": 1, "y": 2}, [0, 0, 1, 2]],
            r"\(row 1 \(counting from 0\)\): expected a row object",
        ),
        (
            {"columns": ["frame", "joint", "x", "y"], "rows": [[0, 0, 1, 2], [0, 1]]},
            r"\(row 1 .*expected 4 values",
        ),
        ({"columns": "frame,joint", "rows": []}, r"'columns' must be a list of names"),
        ({"columns": ["frame"], "rows": {}}, r"'rows' must be a list of lists"),
        ({"frames": []}, r"expected a list of row objects or"),
        ([], r"empty sequence"),
    ],
)
def test_malformed_json_tables_name_file_and_row(tmp_path: Path, data: object, message: str) -> None:
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_keypoint_table(path, "coco17")


def test_unreadable_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"frame": 0,\n "joint": }]')
    with pytest.raises(FormatError, match=r"broken\.json \(line 2\): invalid JSON"):
        read_keypoint_table(broken, "coco17")
    with pytest.raises(FormatError, match=r"file does not exist .*\(listed in labels\.csv line 4\)"):
        read_keypoint_table(tmp_path / "gone.csv", "coco17", listed_at="labels.csv line 4")
    with pytest.raises(FormatError, match=r"expected a \.csv or \.json keypoint table"):
        read_keypoint_table(tmp_path / "clip.txt", "coco17")


def test_custom_layout_object_and_registration(tmp_path: Path) -> None:
    hand = Layout(
        name="hand3",
        joint_names=("wrist", "knuckle", "tip"),
        parents=(0, 0, 1),
        edges=((1, 0), (2, 1)),
        center=0,
    )
    path = _write_csv(
        tmp_path / "hand.csv", ["frame", "joint", "x", "y"], [[0, "tip", 1, 1], [2, "wrist", 2, 2]]
    )
    sample = read_keypoint_table(path, hand)
    assert sample.keypoint.shape == (1, 3, 3, 2)
    assert sample.keypoint[0, 0, 2].tolist() == [1, 1] and sample.keypoint[0, 2, 0].tolist() == [2, 2]
    assert get_format("keypoint-table").reader is read_keypoint_table


@pytest.mark.parametrize("bad, line", [(5.0, 3), (-3.0, 4)])
def test_scores_outside_0_1_name_file_and_line(tmp_path: Path, bad: float, line: int) -> None:
    rows = [list(row) for row in ROWS]
    rows[line - 2][5] = bad
    path = _write_csv(tmp_path / "clip.csv", HEADER, rows)
    with pytest.raises(FormatError, match=rf"clip\.csv \(line {line}\): score {bad:g} is outside \[0, 1\]"):
        read_keypoint_table(path, "coco17")
    rows[line - 2][5] = 1.0  # the bounds themselves are confidences
    rows[0][5] = 0.0
    assert read_keypoint_table(_write_csv(path, HEADER, rows), "coco17").score is not None
