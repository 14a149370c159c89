"""NW-UCLA (Northwestern-UCLA Multiview Action3D) in CTR-GCN's ``all_sqe`` JSON layout (spec 2.8).

One file per sequence, named ``aAA_sSS_eEE_vVV.json`` (action, subject, repetition, view), holding
``{"file_name": str, "skeletons": T x 20 x 3 (one person, Kinect v1, metres), "label": 1..10}``. The ten
action ids in the names are 01-06, 08, 09, 11, 12 and map to labels 1..10 in that order; the reader checks
the file's own ``label`` against its name so a renamed or edited file cannot pass with the wrong class.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.registry import register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError

#: Original action ids (file names) in label order: label i (0-based) is action ACTION_IDS[i] (spec 2.8).
ACTION_IDS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
#: The ten action names in label order. Source: the dataset paper (J. Wang et al., "Cross-view Action
#: Modeling, Learning and Recognition", CVPR 2014, arXiv:1405.2941); the same a01..a12 -> name table appears,
#: identically, in several independent public NW-UCLA loaders (found with a code search).
CLASS_NAMES: tuple[str, ...] = (
    "pick up with one hand",  # a01
    "pick up with two hands",  # a02
    "drop trash",  # a03
    "walk around",  # a04
    "sit down",  # a05
    "stand up",  # a06
    "donning",  # a08
    "doffing",  # a09
    "throw",  # a11
    "carry",  # a12
)
NUM_JOINTS = 20
NAME_PATTERN = re.compile(r"^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})$")
_LABEL_OF_ACTION = {action: label for label, action in enumerate(ACTION_IDS)}


def parse_nw_ucla_name(name: str, *, path: str | Path | None = None) -> dict[str, int]:
    """Metadata (action, subject, repetition, view; 1-based ids as in the name) from ``aAA_sSS_eEE_vVV``."""
    match = NAME_PATTERN.match(name)
    if match is None:
        raise FormatError(
            f"file name {name!r} does not follow the NW-UCLA pattern aAA_sSS_eEE_vVV (e.g. a01_s01_e00_v01)",
            path=path,
        )
    action, subject, repetition, view = (int(g) for g in match.groups())
    if action not in _LABEL_OF_ACTION:
        known = ", ".join(f"a{a:02d}" for a in ACTION_IDS)
        raise FormatError(f"unknown action id a{action:02d} in {name!r}; NW-UCLA has {known}", path=path)
    return {"action": action, "subject": subject, "repetition": repetition, "view": view}


def label_of_action(action: int) -> int:
    """0-based label of an original NW-UCLA action id (a08 -> 6, a12 -> 9)."""
    return _LABEL_OF_ACTION[action]


@register_format("nw-ucla", description="NW-UCLA all_sqe JSON (one file per sequence, CTR-GCN layout)")
def read_nw_ucla_file(path: str | Path) -> SkeletonSample:
    """Read one ``all_sqe`` file into a one-person (1, T, 20, 3) sample labelled 0..9.

    Metadata comes from the file name; the file's ``file_name`` and ``label`` must agree with it.
    """
    path = Path(path)
    meta: dict[str, Any] = dict(parse_nw_ucla_name(path.stem, path=path))
    try:
        with path.open("rb") as handle:
            record = json.load(handle)
    except json.JSONDecodeError as err:
        raise FormatError(f"invalid JSON: {err.msg}", path=path, where=f"line {err.lineno}") from None
    if not isinstance(record, dict):
        raise FormatError(f"expected a JSON object, got {type(record).__name__}", path=path)
    for key in ("file_name", "skeletons", "label"):
        if key not in record:
            raise FormatError(f"missing key {key!r} (expected file_name, skeletons, label)", path=path)
    if record["file_name"] != path.stem:
        raise FormatError(
            f"file_name {record['file_name']!r} does not match the file's name {path.stem!r}",
            path=path,
            where="key 'file_name'",
        )
    label = label_of_action(meta["action"])
    file_label = record["label"]
    if isinstance(file_label, bool) or not isinstance(file_label, int) or file_label != label + 1:
        raise FormatError(
            f"label {file_label!r} disagrees with action a{meta['action']:02d} in the name "
            f"(expected {label + 1}; labels 1..10 follow actions {', '.join(map(str, ACTION_IDS))})",
            path=path,
            where="key 'label'",
        )
    keypoint = _skeleton_array(record["skeletons"], path)
    meta["source"] = str(path)
    sample = SkeletonSample(keypoint=keypoint[None], label=label, meta=meta, sample_id=path.stem)
    return sample.validate(num_joints=NUM_JOINTS, num_channels=3, num_classes=len(CLASS_NAMES), source=path)


def _skeleton_array(skeletons: Any, path: Path) -> np.ndarray:
    """``skeletons`` as float32 (T, 20, 3) in one numpy call; the per-frame search only runs on error."""
    if not isinstance(skeletons, list) or not skeletons:
        raise FormatError("'skeletons' must be a non-empty list of frames (T x 20 x 3)", path=path)
    try:
        array = np.asarray(skeletons, dtype=np.float32)
    except (ValueError, TypeError):
        array = None
    if array is None or array.shape[1:] != (NUM_JOINTS, 3):
        frame, problem = _first_bad_frame(skeletons)
        raise FormatError(problem, path=path, where=f"skeletons[{frame}]")
    if not np.isfinite(array).all():
        frame, joint = (int(i) for i in np.argwhere(~np.isfinite(array))[0][:2])
        raise FormatError("NaN or Inf coordinate", path=path, where=f"skeletons[{frame}][{joint}]")
    return array


def _first_bad_frame(skeletons: list) -> tuple[int, str]:
    for t, frame in enumerate(skeletons):
        if not isinstance(frame, list) or len(frame) != NUM_JOINTS:
            got = len(frame) if isinstance(frame, list) else type(frame).__name__
            return t, f"expected {NUM_JOINTS} joints, got {got}"
        for j, joint in enumerate(frame):
            if not isinstance(joint, list) or len(joint) != 3:
                return t, f"joint {j}: expected [x, y, z], got {joint!r}"
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in joint):
                return t, f"joint {j}: coordinates must be numbers, got {joint!r}"
    return 0, "skeletons is not a T x 20 x 3 array of numbers"
