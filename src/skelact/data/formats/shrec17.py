"""SHREC'17 3D hand gestures (De Smedt et al., ``HandGestureDataset_SHREC2017``) in the released raw form.

One folder per sequence, ``gesture_{g}/finger_{f}/subject_{s}/essai_{e}/``, whose ``skeletons_world.txt``
holds one frame per line: 66 numbers separated by spaces, 22 joints x (x, y, z) in world coordinates
(metres). The joints come in the order of the ``shrec22`` layout: wrist, palm, then base to tip of thumb,
index, middle, ring and pinky (``shrec22.joint_names``: wrist, palm, thumb1..thumb4, ..., pinky4), so the
file's columns are stored as they are, with no reordering.

Two list files at the top, ``train_gestures.txt`` and ``test_gestures.txt``, name the sequences of each
split, one per line: ``id_gesture id_finger id_subject id_essai label_14 label_28 size_sequence`` (integers;
labels 1-based). `read_shrec17_list` reads them; `read_shrec17_file` reads one ``skeletons_world.txt``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.registry import register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError

NUM_JOINTS = 22
VALUES_PER_FRAME = NUM_JOINTS * 3
SKELETON_FILE = "skeletons_world.txt"
LIST_FILES: dict[str, str] = {"train": "train_gestures.txt", "test": "test_gestures.txt"}
LIST_COLUMNS = ("id_gesture", "id_finger", "id_subject", "id_essai", "label_14", "label_28", "size_sequence")
NUM_CLASSES = (14, 28)
_FOLDER = re.compile(r"^(gesture|finger|subject|essai)_(\d+)$")


@dataclass(frozen=True)
class Shrec17Entry:
    """One line of a split list: a sequence, its two labels (1-based) and its length in frames."""

    gesture: int
    finger: int
    subject: int
    essai: int
    label_14: int
    label_28: int
    size: int
    list_file: str  # the list's path, for error messages
    line: int  # 1-based

    @property
    def folder(self) -> Path:
        """The sequence's folder relative to the dataset root."""
        return Path(
            f"gesture_{self.gesture}",
            f"finger_{self.finger}",
            f"subject_{self.subject}",
            f"essai_{self.essai}",
        )

    @property
    def name(self) -> str:
        return sequence_name(self.gesture, self.finger, self.subject, self.essai)

    def label(self, num_classes: int) -> int:
        """The 1-based label of the 14- or 28-class protocol."""
        return self.label_14 if num_classes == 14 else self.label_28


def sequence_name(gesture: int, finger: int, subject: int, essai: int) -> str:
    """Sample id of a sequence, e.g. ``g05_f2_s11_e03``."""
    return f"g{gesture:02d}_f{finger}_s{subject:02d}_e{essai:02d}"


def read_shrec17_list(path: str | PathLike[str]) -> list[Shrec17Entry]:
    """The entries of ``train_gestures.txt`` or ``test_gestures.txt``; blank lines are ignored."""
    path = Path(path)
    entries: list[Shrec17Entry] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"line {number}"
            if len(fields) != len(LIST_COLUMNS):
                raise FormatError(
                    f"expected {len(LIST_COLUMNS)} integers ({' '.join(LIST_COLUMNS)}), "
                    f"got {len(fields)} fields",
                    path=path,
                    where=where,
                )
            try:
                values = [int(f) for f in fields]
            except ValueError:
                raise FormatError(
                    f"expected integers ({' '.join(LIST_COLUMNS)}), got {line.strip()!r}",
                    path=path,
                    where=where,
                ) from None
            gesture, finger, subject, essai, label_14, label_28, size = values
            for column, value, top in (("label_14", label_14, 14), ("label_28", label_28, 28)):
                if not 1 <= value <= top:
                    raise FormatError(f"{column} must be in 1..{top}, got {value}", path=path, where=where)
            if min(gesture, finger, subject, essai) < 0 or size < 1:
                raise FormatError(
                    f"ids must be non-negative and size_sequence at least 1, got {line.strip()!r}",
                    path=path,
                    where=where,
                )
            entries.append(
                Shrec17Entry(gesture, finger, subject, essai, label_14, label_28, size, str(path), number)
            )
    return entries


def read_shrec17_skeleton(path: str | PathLike[str]) -> np.ndarray:
    """``skeletons_world.txt`` as float32 (T, 22, 3); errors name the file and line (1-based)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"missing {SKELETON_FILE} (expected a file of frames)", path=path)
    try:  # one C call for the whole file (blank lines skipped); the line search below only runs on error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported just below
            table = np.loadtxt(path, dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        table = None
    if table is not None and table.size == 0:
        raise FormatError(
            f"empty file: expected one frame per line of {VALUES_PER_FRAME} numbers (22 joints x, y, z)",
            path=path,
        )
    if table is None or table.shape[1] != VALUES_PER_FRAME:
        number, problem = _first_bad_line(path)
        raise FormatError(problem, path=path, where=f"line {number}")
    bad = np.argwhere(~np.isfinite(table))
    if bad.size:
        row, column = (int(i) for i in bad[0])
        number = _line_number_of_frame(path, row)
        raise FormatError(
            f"NaN or Inf at joint {column // 3}, coordinate {'xyz'[column % 3]}",
            path=path,
            where=f"line {number}",
        )
    return table.astype(np.float32).reshape(-1, NUM_JOINTS, 3)


def _first_bad_line(path: Path) -> tuple[int, str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != VALUES_PER_FRAME:
            return number, f"expected {VALUES_PER_FRAME} numbers (22 joints x, y, z), got {len(fields)}"
        for position, field in enumerate(fields):
            try:
                float(field)
            except ValueError:
                return number, f"value {position + 1} is not a number: {field!r}"
    return 1, f"expected lines of {VALUES_PER_FRAME} numbers"


def _line_number_of_frame(path: Path, frame: int) -> int:
    """1-based line of the `frame`-th non-blank line (only called on error)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [n for n, line in enumerate(lines, start=1) if line.strip()][frame]


def ids_from_folder(path: str | PathLike[str]) -> dict[str, int]:
    """gesture, finger, subject and essai from ``.../gesture_g/finger_f/subject_s/essai_e/<file>``."""
    path = Path(path)
    found: dict[str, int] = {}
    for part in path.parent.parts[-4:]:
        match = _FOLDER.match(part)
        if match:
            found[match.group(1)] = int(match.group(2))
    if set(found) != {"gesture", "finger", "subject", "essai"}:
        raise FormatError(
            "the file is not inside gesture_<g>/finger_<f>/subject_<s>/essai_<e>/ (SHREC'17 layout)",
            path=path,
        )
    return found


@register_format(
    "shrec17", description="SHREC'17 hand gestures: gesture_g/finger_f/subject_s/essai_e/skeletons_world.txt"
)
def read_shrec17_file(
    path: str | PathLike[str],
    *,
    entry: Shrec17Entry | None = None,
    num_classes: int = 14,
    extra_meta: dict[str, Any] | None = None,
) -> SkeletonSample:
    """One ``skeletons_world.txt`` as a one-person (1, T, 22, 3) sample.

    With `entry` (a list line) the label is that line's ``label_14`` or ``label_28`` (`num_classes`), and the
    file must have the line's ``size_sequence`` frames. Without it, ids come from the folder names and the
    label is the gesture id (14 classes only).
    """
    path = Path(path)
    if num_classes not in NUM_CLASSES:
        raise FormatError(f"SHREC'17 has 14 or 28 classes, not {num_classes}", path=path)
    keypoint = read_shrec17_skeleton(path)
    meta: dict[str, Any]
    if entry is None:
        if num_classes != 14:
            raise FormatError("the 28-class label comes from the list files; pass the entry", path=path)
        meta = dict(ids_from_folder(path))
        label, sample_id = meta["gesture"], sequence_name(**meta)
    else:
        if keypoint.shape[0] != entry.size:
            raise FormatError(
                f"{keypoint.shape[0]} frames, but {entry.list_file} line {entry.line} says size_sequence "
                f"{entry.size}",
                path=path,
            )
        meta = {
            "gesture": entry.gesture,
            "finger": entry.finger,
            "subject": entry.subject,
            "essai": entry.essai,
            "label_14": entry.label_14,
            "label_28": entry.label_28,
        }
        label, sample_id = entry.label(num_classes), entry.name
    meta.update(extra_meta or {})
    meta["source"] = str(path)
    sample = SkeletonSample(keypoint=keypoint[None], label=label - 1, meta=meta, sample_id=sample_id)
    return sample.validate(num_joints=NUM_JOINTS, num_channels=3, num_classes=num_classes, source=path)
