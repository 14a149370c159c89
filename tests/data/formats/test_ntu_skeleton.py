"""NTU .skeleton reader: every field, the official reader's output, grouping by body ID, and bad files."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.ntu_skeleton import (
    BODY_FIELDS,
    NtuRecording,
    find_missing_lists,
    format_ntu_skeleton,
    parse_ntu_name,
    read_missing_list,
    read_ntu_skeleton,
    sample_name_of,
    write_ntu_skeleton,
)
from skelact.data.formats.registry import get_format
from skelact.errors import FormatError

NAME = "S001C001P001R001A001"


def _ntu(shared_data: Path) -> Path:
    folder = shared_data / "ntu_rgbd_samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


def _naive_parse(path: Path) -> tuple[list[int], list[tuple[str, list[float], list[list[float]]]]]:
    """An independent line-by-line reading of the layout, to check the fast reader against."""
    lines = path.read_text().split("\n")
    counts, records, i = [], [], 1
    for _ in range(int(lines[0])):
        counts.append(int(lines[i]))
        i += 1
        for _ in range(counts[-1]):
            head = lines[i].split()
            joints = [[float(v) for v in lines[i + 2 + j].split()] for j in range(int(lines[i + 1]))]
            records.append((head[0], [float(v) for v in head[1:]], joints))
            i += 2 + len(joints)
    return counts, records


def _tall_person(rng: np.random.Generator) -> np.ndarray:
    xyz = np.zeros((25, 3))
    xyz[:, 1] = np.linspace(-0.9, 0.8, 25)
    xyz[:, 0] = rng.normal(0, 0.1, 25)
    xyz[:, 2] = 3.0 + rng.normal(0, 0.05, 25)
    return xyz.round(5)


def _small_file(tmp_path: Path, name: str = "S002C003P004R002A050") -> Path:
    """3 frames: one body, then none, then two bodies."""
    rng = np.random.default_rng(0)
    rec = NtuRecording.from_frames(
        [[(7, _tall_person(rng))], [], [(7, _tall_person(rng)), (72057594037944738, _tall_person(rng))]],
        name=name,
    )
    return write_ntu_skeleton(tmp_path / f"{name}.skeleton", rec)


# ------------------------------------------------------------------------------------------- real files


def test_matches_the_official_reader_value_for_value(shared_data: Path) -> None:
    folder = _ntu(shared_data)
    official = np.load(folder / f"{NAME}.skeleton.npy", allow_pickle=True).item()
    rec = read_ntu_skeleton(folder / f"{NAME}.skeleton")
    assert official["file_name"] == rec.sample_name == NAME
    assert official["njoints"] == 25
    assert rec.body_counts.tolist() == list(official["nbodys"])
    assert rec.num_frames == 103 == official["skel_body0"].shape[0]
    assert len(rec.bodies) == 1
    np.testing.assert_array_equal(rec.bodies[0].xyz, official["skel_body0"])  # exact, float64
    np.testing.assert_array_equal(rec.listing_xyz(1)[0], official["skel_body0"])


@pytest.mark.parametrize(
    "name",
    [
        "S001C001P001R001A001",
        "S001C001P001R001A011",
        "S001C003P008R002A058",
        "S002C001P003R001A003",
        "S003C001P015R001A034",
        "S004C002P003R001A017",
    ],
)
def test_every_field_of_every_record_is_read(shared_data: Path, name: str) -> None:
    path = _ntu(shared_data) / f"{name}.skeleton"
    rec = read_ntu_skeleton(path)
    counts, records = _naive_parse(path)
    assert rec.body_counts.tolist() == counts
    assert rec.num_records == len(records) == sum(counts)
    assert rec.record_id.tolist() == [r[0] for r in records]
    np.testing.assert_array_equal(rec.record_fields, np.array([r[1] for r in records]))
    np.testing.assert_array_equal(rec.record_joints, np.array([r[2] for r in records]))
    assert set(np.unique(rec.record_joints[..., 11])) <= {0.0, 1.0, 2.0}


def test_two_persons_are_grouped_by_body_id(shared_data: Path) -> None:
    rec = read_ntu_skeleton(_ntu(shared_data) / "S001C003P008R002A058.skeleton")
    assert [b.body_id for b in rec.bodies] == ["72057594037944738", "72057594037944734"]
    assert [b.num_frames for b in rec.bodies] == [70, 70]
    assert rec.bodies[0].slots.tolist() == [0] * 70 and rec.bodies[1].slots.tolist() == [1] * 70
    first = rec.bodies[0]
    # Line 3 of the file: the first body record; line 5: its first joint.
    np.testing.assert_array_equal(first.fields[0], [0, 1, 1, 1, 1, 0, 0.01119184, -0.256052, 2])
    np.testing.assert_array_equal(
        first.joints[0, 0],
        [0.7201789, 0.1647426, 3.561895, 336.5812, 192.8021, 1184.537, 489.4118,
         -0.2218947, 0.03421978, 0.968875, -0.1042736, 2],
    )  # fmt: skip
    assert rec.record_line[:2].tolist() == [3, 30]
    assert rec.name.performer == 8 and rec.name.camera == 3 and rec.name.action == 58


# ------------------------------------------------------------------------------------------- names


def test_name_fields_and_helpers() -> None:
    name = parse_ntu_name("S017C002P040R001A060.skeleton")
    assert (name.setup, name.camera, name.performer, name.subject, name.replication, name.action) == (
        17, 2, 40, 40, 1, 60,
    )  # fmt: skip
    assert name.name == "S017C002P040R001A060"
    assert sample_name_of("/x/y/S001C001P001R001A001.skeleton") == "S001C001P001R001A001"


@pytest.mark.parametrize(
    "bad",
    ["S1C1P1R1A1", "S001C001P001R001A001x", "s001c001p001r001a001", "S001C004P001R001A001",
     "S000C001P001R001A001", "S001C001P001R003A001", "S001C001P001R001A121", "notes"],
)  # fmt: skip
def test_bad_file_names_are_format_errors(tmp_path: Path, bad: str) -> None:
    path = tmp_path / f"{bad}.skeleton"
    path.write_text("0\n")
    with pytest.raises(FormatError, match=r"file name") as info:
        read_ntu_skeleton(path)
    assert str(path) in str(info.value)


# ------------------------------------------------------------------------------------------- small files


def test_round_trip_and_empty_frames(tmp_path: Path) -> None:
    path = _small_file(tmp_path)
    rec = read_ntu_skeleton(path)
    assert rec.num_frames == 3 and rec.body_counts.tolist() == [1, 0, 2]
    assert rec.record_frame.tolist() == [0, 2, 2] and rec.record_slot.tolist() == [0, 0, 1]
    assert [b.body_id for b in rec.bodies] == ["7", "72057594037944738"]
    assert rec.bodies[0].frames.tolist() == [0, 2]
    assert rec.record_fields.shape == (3, len(BODY_FIELDS))
    assert format_ntu_skeleton(rec) == path.read_text()
    slots = rec.listing_xyz(2)
    assert slots.shape == (2, 3, 25, 3) and not slots[:, 1].any() and not slots[1, 0].any()


def test_a_file_without_bodies_is_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "S001C002P005R002A008.skeleton"
    path.write_text("3\n0\n0\n0\n")
    rec = read_ntu_skeleton(path)
    assert not rec.has_body and rec.bodies == [] and rec.record_joints.shape == (0, 25, 12)


def _mutate(path: Path, edit) -> Path:
    lines = path.read_text().split("\n")
    path.write_text("\n".join(edit(lines)))
    return path


# The small file's layout: line 1 frames; 2 bodies of frame 1; 3 body; 4 joint count; 5-29 joints;
# 30 bodies of frame 2 (0); 31 bodies of frame 3; 32 body; 33 count; 34-58 joints; 59 body; 60 count; 61-85.
MALFORMED = {
    "truncated": (lambda ls: ls[:70], r"line 71\): file ends after line 70.*truncated"),
    "wrong joint count 24": (
        lambda ls: [*ls[:32], "24", *ls[33:57], *ls[58:]],
        r"line 33\): expected 25 joints for body 7, got 24",
    ),
    "body with no joints": (
        lambda ls: [*ls[:32], "0", *ls[58:]],
        r"line 33\): body 7 of frame 3 has no joints",
    ),
    "NaN value": (
        lambda ls: [*ls[:39], ls[39].replace(ls[39].split()[1], "nan", 1), *ls[40:]],
        r"line 40\): joint value y is not a finite number: 'nan'",
    ),
    "non-numeric token": (
        lambda ls: [*ls[:9], ls[9].replace(ls[9].split()[2], "abc", 1), *ls[10:]],
        r"line 10\): joint value z is not a finite number: 'abc'",
    ),
    "11 values on a joint line": (
        lambda ls: [*ls[:61], " ".join(ls[61].split()[:11]), *ls[62:]],
        r"line 62\): expected 12 values for joint 2",
    ),
    "short body line": (lambda ls: [*ls[:58], "5 0 1", *ls[59:]], r"line 59\): expected 10 body fields"),
    "bad body count": (
        lambda ls: [*ls[:30], "two", *ls[31:]],
        r"line 31\): expected the number of bodies of frame 3",
    ),
    "extra content": (
        lambda ls: [*ls[:85], "1", *ls[85:]],
        r"line 86\): unexpected content after the last of 3",
    ),
    "duplicate body ID": (
        lambda ls: [*ls[:58], ls[31].replace(ls[31].split()[0], "7", 1), *ls[59:]],
        r"line 59\): body ID 7 is listed twice in frame 3",
    ),
    "tracking state 5": (
        lambda ls: [*ls[:4], ls[4].rsplit(" ", 1)[0] + " 5", *ls[5:]],
        r"line 5\): joint tracking state must be 0, 1 or 2, got 5",
    ),
    "infinite body field": (
        lambda ls: [*ls[:2], ls[2].replace(" 0 ", " inf ", 1), *ls[3:]],
        r"line 3\): body field clipped_edges is not a finite number: 'inf'",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_name_file_and_line(tmp_path: Path, case: str) -> None:
    edit, expected = MALFORMED[case]
    path = _mutate(_small_file(tmp_path), edit)
    with pytest.raises(FormatError, match=expected) as info:
        read_ntu_skeleton(path)
    assert str(info.value).startswith(str(path))


def test_the_small_file_layout_assumed_above(tmp_path: Path) -> None:
    lines = _small_file(tmp_path).read_text().split("\n")
    assert lines[3] == "25" and lines[29] == "0" and lines[30] == "2" and lines[32] == "25"
    assert lines[59] == "25" and len(lines[84].split()) == 12 and lines[85] == ""


def test_not_ascii_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(b"1\n\xff\n")
    with pytest.raises(FormatError, match="not an ASCII text file"):
        read_ntu_skeleton(path)


def test_registered_as_ntu_skeleton() -> None:
    assert get_format("ntu-skeleton").reader is read_ntu_skeleton


# ------------------------------------------------------------------------------------------- missing lists


def test_official_missing_lists(shared_data: Path) -> None:
    folder = _ntu(shared_data)
    ntu60 = read_missing_list(folder / "NTU_RGBD_samples_with_missing_skeletons.txt")
    ntu120 = read_missing_list(folder / "NTU_RGBD120_samples_with_missing_skeletons.txt")
    assert len(ntu60) == 302 and len(ntu120) == 535 and ntu60 <= ntu120
    assert "S001C002P005R002A008" in ntu60
    assert [p.name for p in find_missing_lists(folder)] == [
        "NTU_RGBD_samples_with_missing_skeletons.txt",
        "NTU_RGBD120_samples_with_missing_skeletons.txt",
    ]


def test_missing_list_accepts_suffix_and_blank_lines_and_rejects_junk(tmp_path: Path) -> None:
    good = tmp_path / "list.txt"
    good.write_text("S001C002P005R002A008\n\nS001C002P006R001A008.skeleton\n")
    assert read_missing_list(good) == {"S001C002P005R002A008", "S001C002P006R001A008"}
    bad = tmp_path / "bad.txt"
    bad.write_text("S001C002P005R002A008\nhello\n")
    with pytest.raises(FormatError, match=r"bad\.txt \(line 2\): expected an NTU sample name"):
        read_missing_list(bad)
    assert find_missing_lists(tmp_path) == []


def test_a_huge_declared_frame_count_fails_before_allocating(tmp_path: Path) -> None:
    path = _mutate(_small_file(tmp_path), lambda ls: ["1000000000", *ls[1:]])
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"line 1\): 1000000000 frames declared, but only 84 lines"):
            read_ntu_skeleton(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.0f} MiB allocated for a 10 kB file"
