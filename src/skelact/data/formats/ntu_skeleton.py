"""NTU RGB+D raw ``.skeleton`` files (Kinect v2 text; spec 2.1) and the official missing-skeleton lists.

Layout of a file, one record per line: the frame count; per frame the body count; per body one line of 10
body fields (tracking ID first), the joint count (always 25) and 25 joint lines of 12 values each (camera xyz
in metres, depth-map xy, colour-image xy, orientation quaternion wxyz, tracking state).

`read_ntu_skeleton` keeps every field. It walks the few header lines in Python and parses the joint lines,
which are ~97 % of a file, in one numpy call, so NTU-120's 114k files stay cheap to read. Errors name the
file and the 1-based line. Persons are grouped by body tracking ID (the ID links one person across frames);
the per-frame listing order, which MS-G3D/2s-AGCN and MMAction2 use instead, is kept as `record_slot`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from skelact.atomic import atomic_write
from skelact.data.formats.registry import ClipRequest, register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError

NUM_JOINTS = 25
#: The 9 body fields after the tracking ID, in file order.
BODY_FIELDS = (
    "clipped_edges",
    "hand_left_confidence",
    "hand_left_state",
    "hand_right_confidence",
    "hand_right_state",
    "is_restricted",
    "lean_x",
    "lean_y",
    "tracking_state",
)
#: The 12 values of a joint line, in file order.
JOINT_FIELDS = (
    "x", "y", "z",
    "depth_x", "depth_y",
    "color_x", "color_y",
    "orientation_w", "orientation_x", "orientation_y", "orientation_z",
    "tracking_state",
)  # fmt: skip
SUFFIX = ".skeleton"
_NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
# Ranges of the name fields over NTU RGB+D 120 (spec 2.1).
_NAME_RANGES = {"setup": 32, "camera": 3, "performer": 106, "replication": 2, "action": 120}
#: File names of the official lists of samples without skeletons (302 NTU-60 names; 535 NTU-120 names).
MISSING_LIST_NAMES = (
    "NTU_RGBD_samples_with_missing_skeletons.txt",
    "NTU_RGBD120_samples_with_missing_skeletons.txt",
)


@dataclass(frozen=True)
class NtuName:
    """The fields of a sample name ``SsssCcccPpppRrrrAaaa`` (all 1-based, as in the name)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def name(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def subject(self) -> int:
        """The performer id (NTU's cross-subject protocol splits by it)."""
        return self.performer


def sample_name_of(path: str | os.PathLike[str]) -> str:
    """``S001C001P001R001A001`` from a path or name, with or without the ``.skeleton`` suffix."""
    name = Path(path).name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name


def parse_ntu_name(name: str | os.PathLike[str], *, path: str | os.PathLike[str] | None = None) -> NtuName:
    """Parse an NTU sample name (or a ``.skeleton`` path); a malformed one raises `FormatError`."""
    stem = sample_name_of(name)
    match = _NAME.match(stem)
    where = "file name"
    source = path if path is not None else name
    if match is None:
        raise FormatError(
            f"{stem!r} is not an NTU sample name: expected SsssCcccPpppRrrrAaaa with 3-digit numbers, "
            "e.g. S001C002P003R001A060",
            path=source,
            where=where,
        )
    values = dict(zip(_NAME_RANGES, (int(g) for g in match.groups()), strict=True))
    for key, top in _NAME_RANGES.items():
        if not 1 <= values[key] <= top:
            raise FormatError(
                f"{key} {values[key]} in {stem!r} is outside 1..{top}", path=source, where=where
            )
    return NtuName(**values)


def ntu_meta_from_name(name: str | os.PathLike[str]) -> dict[str, int]:
    """setup, view (camera), subject (performer), replication, action (1-based) of an NTU sample name.

    For readers of other toolboxes' files whose sample ids may or may not be NTU names: returns {} when
    `name` is not one (a ``.skeleton`` suffix is ignored), instead of raising like `parse_ntu_name`.
    """
    try:
        parsed = parse_ntu_name(name)
    except FormatError:
        return {}
    return {
        "setup": parsed.setup,
        "view": parsed.camera,
        "subject": parsed.subject,
        "replication": parsed.replication,
        "action": parsed.action,
    }


@dataclass(frozen=True)
class NtuBody:
    """One body tracking ID across the frames where it is listed."""

    body_id: str
    frames: np.ndarray  # int64 (n,), frame indices into the file (0-based, empty frames counted)
    slots: np.ndarray  # int64 (n,), its listing position within each of those frames
    fields: np.ndarray  # float64 (n, 9), see BODY_FIELDS
    joints: np.ndarray  # float64 (n, 25, 12), see JOINT_FIELDS

    @property
    def xyz(self) -> np.ndarray:
        """(n, 25, 3) camera-space coordinates in metres."""
        return self.joints[..., 0:3]

    @property
    def num_frames(self) -> int:
        return int(self.frames.size)


@dataclass(frozen=True)
class NtuRecording:
    """Everything in one ``.skeleton`` file. Body records are kept in file order (`record_*` arrays).

    Attributes:
        path: the file read.
        name: the fields of its sample name.
        num_frames: frames declared on line 1 (frames with zero bodies included).
        body_counts: int64 (num_frames,), bodies per frame (the official reader's ``nbodys``).
        record_frame, record_slot: int64 (R,), frame and listing position of each body record.
        record_id: str (R,), body tracking ID as written (a 64-bit integer; kept exact as text).
        record_fields: float64 (R, 9), the other body fields (`BODY_FIELDS`).
        record_joints: float64 (R, 25, 12), the joint values (`JOINT_FIELDS`).
        record_line: int64 (R,), 1-based line of each body record, for messages about it.
    """

    path: Path
    name: NtuName
    num_frames: int
    body_counts: np.ndarray
    record_frame: np.ndarray
    record_slot: np.ndarray
    record_id: np.ndarray
    record_fields: np.ndarray
    record_joints: np.ndarray
    record_line: np.ndarray

    @property
    def sample_name(self) -> str:
        return self.name.name

    @property
    def num_records(self) -> int:
        return int(self.record_frame.size)

    @property
    def has_body(self) -> bool:
        """False for the empty samples of the official missing-skeleton lists."""
        return self.num_records > 0

    @cached_property
    def bodies(self) -> list[NtuBody]:
        """Persons grouped by body ID, in order of first appearance."""
        if not self.num_records:
            return []
        ids, first, inverse = np.unique(self.record_id, return_index=True, return_inverse=True)
        bodies = []
        for group in np.argsort(first, kind="stable"):
            rows = np.flatnonzero(inverse == group)
            bodies.append(
                NtuBody(
                    body_id=str(ids[group]),
                    frames=self.record_frame[rows],
                    slots=self.record_slot[rows],
                    fields=self.record_fields[rows],
                    joints=self.record_joints[rows],
                )
            )
        return bodies

    def listing_xyz(self, max_bodies: int) -> np.ndarray:
        """(max_bodies, num_frames, 25, 3) xyz with the k-th body listed in a frame in slot k (no identity
        tracking: MS-G3D, 2s-AGCN, MMAction2 and the official NTU reader); bodies past `max_bodies` are
        left out, absent ones are zeros."""
        out = np.zeros((max_bodies, self.num_frames, NUM_JOINTS, 3), dtype=np.float64)
        keep = self.record_slot < max_bodies
        out[self.record_slot[keep], self.record_frame[keep]] = self.record_joints[keep, :, 0:3]
        return out

    @classmethod
    def from_frames(
        cls,
        frames: Sequence[Sequence[tuple[int | str, np.ndarray]]],
        name: str = "S001C001P001R001A001",
        path: str | os.PathLike[str] | None = None,
    ) -> NtuRecording:
        """Build a recording from per-frame lists of ``(body_id, values)``, `values` being (25, 3) xyz or
        (25, 12) full joint rows; other fields get plausible defaults (tracked joints, tracked body).
        For tests and synthetic data; `write_ntu_skeleton` turns it into a file."""
        counts, rec_frame, rec_slot, rec_id, rec_joints = [], [], [], [], []
        for f, bodies in enumerate(frames):
            counts.append(len(bodies))
            for slot, (body_id, values) in enumerate(bodies):
                values = np.asarray(values, dtype=np.float64)
                joints = np.zeros((NUM_JOINTS, 12))
                joints[:, 7] = 1.0  # identity orientation quaternion
                joints[:, 11] = 2.0  # tracked
                if values.shape == (NUM_JOINTS, 3):
                    joints[:, :3] = values
                elif values.shape == (NUM_JOINTS, 12):
                    joints = values
                else:
                    raise ValueError(f"body values must be (25, 3) or (25, 12), got {values.shape}")
                rec_frame.append(f)
                rec_slot.append(slot)
                rec_id.append(str(int(body_id)))
                rec_joints.append(joints)
        n = len(rec_frame)
        fields = np.zeros((n, len(BODY_FIELDS)))
        fields[:, -1] = 2.0
        return cls(
            path=Path(path) if path is not None else Path(name + SUFFIX),
            name=parse_ntu_name(name),
            num_frames=len(frames),
            body_counts=np.asarray(counts, dtype=np.int64),
            record_frame=np.asarray(rec_frame, dtype=np.int64),
            record_slot=np.asarray(rec_slot, dtype=np.int64),
            record_id=np.asarray(rec_id, dtype=str) if n else np.zeros(0, dtype="<U1"),
            record_fields=fields,
            record_joints=np.asarray(rec_joints).reshape(n, NUM_JOINTS, 12),
            record_line=np.zeros(n, dtype=np.int64),
        )


# ----------------------------------------------------------------------------------------------- reading


class _Lines:
    """The file's lines with 1-based error reporting."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        end = len(self.lines)
        while end and not self.lines[end - 1].strip():
            end -= 1
        self.end = end  # trailing blank lines are not content

    def fail(self, index: int, message: str) -> FormatError:
        return FormatError(message, path=self.path, where=f"line {index + 1}")

    def need(self, index: int, what: str) -> str:
        if index >= self.end:
            raise FormatError(
                f"file ends after line {self.end}; expected {what} (truncated file?)",
                path=self.path,
                where=f"line {index + 1}",
            )
        return self.lines[index]

    def count(self, index: int, what: str) -> int:
        tokens = self.need(index, what).split()
        if len(tokens) != 1:
            got = "an empty line" if not tokens else f"{len(tokens)} values"
            raise self.fail(index, f"expected {what} (one integer), got {got}")
        try:
            value = int(tokens[0])
        except ValueError:
            raise self.fail(index, f"expected {what} (one integer), got {tokens[0]!r}") from None
        if value < 0:
            raise self.fail(index, f"{what} is negative ({value})")
        return value


def read_ntu_clip(path: Path, request: ClipRequest) -> SkeletonSample:
    """One ``.skeleton`` file as a clip for prediction, denoised with the request's preset, as training data
    prepared with that preset was."""
    # Imported here: the presets read this module's NtuRecording.
    from skelact.data.formats.ntu_presets import apply_preset, get_preset

    result = apply_preset(read_ntu_skeleton(path), get_preset(request.ntu_preset))
    return SkeletonSample(result.keypoint, meta={"source": str(path)}, sample_id=Path(path).stem)


@register_format(
    "ntu-skeleton",
    description="NTU RGB+D 60/120 raw .skeleton text (Kinect v2), every field",
    suffixes=(SUFFIX,),
    read_clip=read_ntu_clip,
)
def read_ntu_skeleton(path: str | os.PathLike[str]) -> NtuRecording:
    """Read one ``.skeleton`` file; a malformed name or file raises one `FormatError` naming the line."""
    path = Path(path)
    name = parse_ntu_name(path.name, path=path)
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as err:
        raise FormatError(f"not an ASCII text file (byte {err.start}: {err.reason})", path=path) from None
    lines = _Lines(path, text)
    num_frames = lines.count(0, "the number of frames")
    if num_frames > lines.end - 1:  # checked before allocating: a corrupt count could ask for gigabytes
        raise lines.fail(
            0,
            f"{num_frames} frames declared, but only {lines.end - 1} lines follow (each frame needs at least "
            "its line of body count)",
        )
    counts = np.zeros(num_frames, dtype=np.int64)
    rec_frame: list[int] = []
    rec_slot: list[int] = []
    rec_line: list[int] = []
    rec_id: list[str] = []
    rec_fields: list[str] = []
    index = 1
    for frame in range(num_frames):
        bodies = lines.count(index, f"the number of bodies of frame {frame + 1}")
        counts[frame] = bodies
        index += 1
        seen: set[str] = set()
        for slot in range(bodies):
            tokens = lines.need(index, f"the fields of body {slot + 1} of frame {frame + 1}").split()
            if len(tokens) != 1 + len(BODY_FIELDS):
                raise lines.fail(
                    index,
                    f"expected 10 body fields (ID, clippedEdges, ..., trackingState) for body {slot + 1} of "
                    f"frame {frame + 1}, got {len(tokens)} values",
                )
            body_id = _body_id(tokens[0], lines, index)
            if body_id in seen:
                raise lines.fail(index, f"body ID {body_id} is listed twice in frame {frame + 1}")
            seen.add(body_id)
            joints = lines.count(index + 1, f"the joint count of body {slot + 1} of frame {frame + 1}")
            if joints == 0:
                raise lines.fail(
                    index + 1, f"body {body_id} of frame {frame + 1} has no joints (expected 25)"
                )
            if joints != NUM_JOINTS:
                raise lines.fail(index + 1, f"expected 25 joints for body {body_id}, got {joints}")
            if index + 2 + NUM_JOINTS > lines.end:
                lines.need(lines.end, f"25 joint lines for body {body_id} of frame {frame + 1}")
            rec_frame.append(frame)
            rec_slot.append(slot)
            rec_line.append(index + 1)
            rec_id.append(body_id)
            rec_fields.append(" ".join(tokens[1:]))
            index += 2 + NUM_JOINTS
    if index < lines.end:
        raise lines.fail(index, f"unexpected content after the last of {num_frames} frames")

    line = np.asarray(rec_line, dtype=np.int64)
    n = line.size
    return NtuRecording(
        path=path,
        name=name,
        num_frames=num_frames,
        body_counts=counts,
        record_frame=np.asarray(rec_frame, dtype=np.int64),
        record_slot=np.asarray(rec_slot, dtype=np.int64),
        record_id=np.asarray(rec_id, dtype=str) if n else np.zeros(0, dtype="<U1"),
        record_fields=_parse_body_fields(lines, rec_fields, line),
        record_joints=_parse_joints(lines, line),
        record_line=line,
    )


def _body_id(token: str, lines: _Lines, index: int) -> str:
    """The tracking ID as canonical decimal text (exact for any 64-bit value)."""
    try:
        value = int(token)
    except ValueError:
        raise lines.fail(index, f"body ID must be an integer, got {token!r}") from None
    if value < 0:
        raise lines.fail(index, f"body ID must not be negative, got {value}")
    return str(value)


def _parse_body_fields(lines: _Lines, rows: list[str], line: np.ndarray) -> np.ndarray:
    if not rows:
        return np.zeros((0, len(BODY_FIELDS)))
    try:
        values = np.asarray(" ".join(rows).split(), dtype=np.float64).reshape(len(rows), len(BODY_FIELDS))
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for r, row in enumerate(rows):  # slow path: find the bad field for the message
            for k, token in enumerate(row.split()):
                if not _finite_number(token):
                    raise lines.fail(
                        int(line[r]) - 1, f"body field {BODY_FIELDS[k]} is not a finite number: {token!r}"
                    )
    assert values is not None
    return values


def _parse_joints(lines: _Lines, line: np.ndarray) -> np.ndarray:
    """All joint lines at once: (R, 25, 12) float64; one numpy parse validates every line's value count."""
    n = line.size
    if not n:
        return np.zeros((0, NUM_JOINTS, 12))
    starts = line + 1  # 0-based index of each body's first joint line
    src = lines.lines
    block = [text for s in starts.tolist() for text in src[s : s + NUM_JOINTS]]
    try:
        values = np.loadtxt(block, dtype=np.float64, comments=None, ndmin=2)
        ok = values.shape == (n * NUM_JOINTS, 12)
    except ValueError:
        ok = False
    if ok and np.isfinite(values).all():
        values = values.reshape(n, NUM_JOINTS, 12)
        _check_tracking_states(lines, values, starts)
        return values
    for k, text in enumerate(block):  # slow path: the first offending line
        index = int(starts[k // NUM_JOINTS]) + k % NUM_JOINTS
        tokens = text.split()
        if len(tokens) != 12:
            raise lines.fail(
                index,
                f"expected 12 values for joint {k % NUM_JOINTS + 1} (x y z depthX ...), got {len(tokens)}",
            )
        for j, token in enumerate(tokens):
            if not _finite_number(token):
                raise lines.fail(index, f"joint value {JOINT_FIELDS[j]} is not a finite number: {token!r}")
    raise lines.fail(int(starts[0]), "cannot parse the joint values")  # pragma: no cover - defensive


def _check_tracking_states(lines: _Lines, values: np.ndarray, starts: np.ndarray) -> None:
    """Kinect's joint TrackingState is 0 (not tracked), 1 (inferred) or 2 (tracked)."""
    state = values[..., 11]
    bad = (state != 0) & (state != 1) & (state != 2)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        raise lines.fail(
            int(starts[r]) + int(j), f"joint tracking state must be 0, 1 or 2, got {state[r, j]:g}"
        )


def _finite_number(token: str) -> bool:
    try:
        return bool(np.isfinite(float(token)))
    except ValueError:
        return False


# ----------------------------------------------------------------------------------------------- writing


def format_ntu_skeleton(recording: NtuRecording) -> str:
    """The text of a ``.skeleton`` file holding `recording` (values written so they read back exactly)."""
    out = [str(recording.num_frames)]
    by_frame = np.argsort(recording.record_frame, kind="stable")
    rows = iter(by_frame.tolist())
    for frame in range(recording.num_frames):
        count = int(recording.body_counts[frame])
        out.append(str(count))
        for _ in range(count):
            r = next(rows)
            fields = " ".join(_num(v) for v in recording.record_fields[r])
            out.append(f"{recording.record_id[r]} {fields}")
            out.append(str(NUM_JOINTS))
            out.extend(" ".join(_num(v) for v in joint) for joint in recording.record_joints[r])
    return "\n".join(out) + "\n"


def write_ntu_skeleton(path: str | os.PathLike[str], recording: NtuRecording) -> Path:
    """Write `recording` as a ``.skeleton`` file, atomically (temporary file + rename)."""
    path = Path(path)
    parse_ntu_name(path.name, path=path)
    text = format_ntu_skeleton(recording)
    with atomic_write(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    return path


def _num(value: float) -> str:
    """Shortest text that reads back to the same float64; integral values without a decimal point."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


# ----------------------------------------------------------------------------------- missing-skeleton lists


def read_missing_list(path: str | os.PathLike[str]) -> frozenset[str]:
    """Sample names from an official "samples with missing skeletons" list (one name a line).

    Blank lines are ignored and a ``.skeleton`` suffix is accepted; anything else that is not a sample name
    raises `FormatError` with its line.
    """
    path = Path(path)
    names = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        entry = raw.strip()
        if not entry:
            continue
        stem = sample_name_of(entry)
        if _NAME.match(stem) is None:
            raise FormatError(f"expected an NTU sample name such as S001C002P005R002A008, got {entry!r}",
                              path=path, where=f"line {number}")  # fmt: skip
        names.add(stem)
    return frozenset(names)


def find_missing_lists(folder: str | os.PathLike[str]) -> list[Path]:
    """The official missing-skeleton lists sitting directly in `folder` (by their official file names)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [folder / name for name in MISSING_LIST_NAMES if (folder / name).is_file()]
