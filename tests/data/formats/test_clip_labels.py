"""The labels CSV of bring-your-own-data: label rules, metadata columns and one error per bad line."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelact.data.formats.clip_labels import read_class_names, read_clip_labels
from skelact.errors import FormatError


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_name_labels_become_sorted_classes_and_columns_become_meta(tmp_path: Path) -> None:
    text = (
        "\ufeffFile, Label ,Subject,view,split,camera_height\n"  # BOM, odd case and spaces from spreadsheets
    )
    text += "a.npy,wave,1,2,Train,1.5\nsub/b.npy,clap,2,1,test,1.2\n\nc.npy,wave,3,1,train,0.9\n"
    labels = read_clip_labels(_csv(tmp_path, text), tmp_path)
    assert labels.class_names == ["clap", "wave"] and labels.label_mode == "names"
    assert [row.label for row in labels.rows] == [1, 0, 1]
    assert [row.line for row in labels.rows] == [2, 3, 5]
    assert [row.sample_id for row in labels.rows] == ["a", "sub/b", "c"]
    assert labels.rows[1].path == tmp_path / "sub" / "b.npy"
    assert labels.rows[0].meta == {
        "source": "a.npy",
        "subject": 1,
        "view": 2,
        "split": "train",
        "camera_height": "1.5",
    }
    assert labels.has_split and labels.has_subject and labels.split_names() == ["train", "test"]


def test_integer_labels_and_class_name_files(tmp_path: Path) -> None:
    path = _csv(tmp_path, "file,label,subject\na.npy,2,alice\nb.npy,0,bob\n")
    labels = read_clip_labels(path, tmp_path)
    assert labels.class_names == ["0", "1", "2"] and labels.label_mode == "indices"
    assert [row.label for row in labels.rows] == [2, 0]
    assert [row.meta["subject"] for row in labels.rows] == ["alice", "bob"]  # names stay strings
    names = tmp_path / "classes.txt"
    names.write_text("# my actions\nsit\n\nstand\nwalk\n")
    assert read_class_names(names) == ["sit", "stand", "walk"]
    by_index = read_clip_labels(path, tmp_path, class_names=read_class_names(names))
    assert by_index.class_names == ["sit", "stand", "walk"] and [r.label for r in by_index.rows] == [2, 0]
    by_name = read_clip_labels(
        _csv(tmp_path, "file,label\na.npy,walk\nb.npy,sit\n"), tmp_path, class_names=["sit", "stand", "walk"]
    )
    assert [r.label for r in by_name.rows] == [2, 0] and by_name.label_mode == "names"
    # One non-integer label makes every label a name, "1" included.
    mixed = read_clip_labels(_csv(tmp_path, "file,label\na.npy,1\nb.npy,jump\n"), tmp_path)
    assert mixed.class_names == ["1", "jump"] and mixed.label_mode == "names"


def test_frame_size_columns_become_img_shape(tmp_path: Path) -> None:
    labels = read_clip_labels(_csv(tmp_path, "file,label,width,height\na.npy,x,1920,1080\n"), tmp_path)
    assert labels.rows[0].meta == {"source": "a.npy", "img_shape": [1080, 1920]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"labels\.csv: the labels CSV is empty"),
        ("file,label\n", r"labels\.csv: no clips listed"),
        (
            "file,labels\na.npy,x\n",
            r"labels\.csv \(line 1\): missing column 'label': the header has 'file', 'labels'",
        ),
        ("file,label,label\na.npy,x,y\n", r"\(line 1\): column 'label' appears twice"),
        ("file,label,\na.npy,x,y\n", r"\(line 1\): column 3 has no name"),
        ("file,label,source\na.npy,x,y\n", r"\(line 1\): column 'source' is reserved"),
        ("file,label\na.npy,x\nb.npy\n", r"\(line 3\): expected 2 fields \(file,label\), got 1"),
        ("file,label\na.npy,\n", r"\(line 2\): empty 'label'"),
        ("file,label,subject\na.npy,x,1\nb.npy,x,\n", r"\(line 3\): empty 'subject'"),
        (
            "file,label\na.npy,x\n./a.npy,y\n",
            r"\(line 3\): file './a\.npy' is listed twice \(first on line 2\)",
        ),
        (
            "file,label\na.npy,x\na.json,y\n",
            r"\(line 3\): file 'a\.json' gives sample id 'a', already used by line 2",
        ),
        ("file,label\na.npy,-1\n", r"\(line 2\): label -1 is negative"),
        ("file,label,split\na.npy,x,my split\n", r"\(line 2\): split 'my split' is not a valid split name"),
        ("file,label,width\na.npy,x,640\n", r"\(line 1\): give both 'width' and 'height'"),
        (
            "file,label,width,height\na.npy,x,640,0\n",
            r"\(line 2\): height '0' is not a positive whole number",
        ),
        ("file,label,width,height\na.npy,x,64.5,48\n", r"\(line 2\): width '64\.5' is not a positive whole"),
        ("file,label,img_shape\na.npy,x,1\n", r"\(line 1\): column 'img_shape' is reserved"),
    ],
)
def test_malformed_label_csvs_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_clip_labels(_csv(tmp_path, text), tmp_path)


def test_labels_that_do_not_fit_the_class_names(tmp_path: Path) -> None:
    with pytest.raises(
        FormatError, match=r"\(line 3\): unknown label 'jump' \(not in the class-names file: sit, walk\)"
    ):
        read_clip_labels(
            _csv(tmp_path, "file,label\na.npy,sit\nb.npy,jump\n"), tmp_path, class_names=["sit", "walk"]
        )
    with pytest.raises(FormatError, match=r"\(line 2\): label 2 outside 0\.\.1") as info:
        read_clip_labels(
            _csv(tmp_path, "file,label\na.npy,2\nb.npy,1\n"), tmp_path, class_names=["sit", "walk"]
        )
    assert "1-based" in (info.value.hint or "")


def test_bad_class_name_files(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"classes\.txt: class-names file does not exist"):
        read_class_names(tmp_path / "classes.txt")
    (tmp_path / "classes.txt").write_text("\n# nothing\n")
    with pytest.raises(FormatError, match="no class names"):
        read_class_names(tmp_path / "classes.txt")
    (tmp_path / "classes.txt").write_text("sit\nwalk\nsit\n")
    with pytest.raises(FormatError, match=r"\(line 3\): class 'sit' is listed twice \(first on line 1\)"):
        read_class_names(tmp_path / "classes.txt")
    with pytest.raises(FormatError, match="labels CSV does not exist"):
        read_clip_labels(tmp_path / "nope.csv", tmp_path)


def test_integral_float_labels_are_the_same_class_as_integers(tmp_path: Path) -> None:
    labels = read_clip_labels(
        _csv(tmp_path, "file,label\na.npy,1\nb.npy,1.0\nc.npy,0.00\nd.npy,2e0\n"), tmp_path
    )
    assert labels.label_mode == "indices" and labels.class_names == ["0", "1", "2"]
    assert [row.label for row in labels.rows] == [1, 1, 0, 2]
    with pytest.raises(FormatError, match=r"labels\.csv \(line 3\): label '1\.5' is not a whole number"):
        read_clip_labels(_csv(tmp_path, "file,label\na.npy,1\nb.npy,1.5\n"), tmp_path)
    with pytest.raises(FormatError, match=r"\(line 4\): label '1\.0' and label '1' \(line 2\) are the same"):
        read_clip_labels(_csv(tmp_path, "file,label\na.npy,1\nb.npy,wave\nc.npy,1.0\n"), tmp_path)


def test_paths_outside_the_data_folder_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (tmp_path / "secret.npy").write_bytes(b"")
    (root / "inside.npy").write_bytes(b"")
    (root / "link.npy").symlink_to(tmp_path / "secret.npy")
    (root / "ok_link.npy").symlink_to(root / "inside.npy")  # a link that stays inside is fine
    text = (
        "file,label\ninside.npy,a\nsub/../inside2.npy,a\n../../x.npy,b\nlink.npy,a\n"
        f"{tmp_path / 'secret.npy'},b\nok_link.npy,b\n"
    )
    with pytest.raises(FormatError, match=r"labels\.csv \(line 4\): 3 files lie outside") as info:
        read_clip_labels(_csv(tmp_path, text), root)
    message = str(info.value)
    assert "'../../x.npy'" in message and "'link.npy'" in message and str(tmp_path / "secret.npy") in message
    assert "inside2" not in message and "ok_link" not in message and "\n" not in message
    good = "file,label\ninside.npy,a\nsub/../inside2.npy,a\nok_link.npy,b\n"
    assert len(read_clip_labels(_csv(tmp_path, good), root).rows) == 3
