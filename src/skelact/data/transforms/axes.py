"""Which way is up: turning 3D keypoints so that the axis the data calls "up" becomes +y.

skelact's convention for 3D data is y up (Kinect, NTU RGB+D, NW-UCLA), and the renderer draws +y upwards.
Other sources differ: motion capture and many robotics frames have z up, camera frames in the OpenCV
convention have y down. Declaring the data's up axis (`data.up_axis`, `skelact render --up-axis`) turns
it by a proper rotation, a quarter or half turn about one axis, so left and right are kept (a mirror would
swap the performer's sides); the map is linear, so missing joints (zeros) stay zero.
"""

from __future__ import annotations

import numpy as np

from skelact.errors import ConfigError, FormatError

#: The axes a dataset may call "up"; "y" is the convention itself (no change).
UP_AXES = ("y", "-y", "z", "-z", "x", "-x")

# Rows are the new x, y, z in terms of the old ones: (x, y, z) @ M.T. Each has determinant +1.
_ROTATIONS: dict[str, np.ndarray] = {
    "y": np.eye(3),
    "-y": np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]]),  # half turn about x
    "z": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]),  # quarter turn about x: z -> y, y -> -z
    "-z": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]),  # quarter turn about x: -z -> y, y -> z
    "x": np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]),  # quarter turn about z: x -> y, y -> -x
    "-x": np.array([[0, 1, 0], [-1, 0, 0], [0, 0, 1]]),  # quarter turn about z: -x -> y, y -> x
}


def check_up_axis(up_axis: str | None) -> str | None:
    """`up_axis` if it is one of `UP_AXES` or None (keep the data as stored); else one clear error."""
    if up_axis is not None and up_axis not in UP_AXES:
        raise ConfigError(f"unknown up_axis {up_axis!r}", hint=f"choose one of: {', '.join(UP_AXES)}")
    return up_axis


def up_rotation(up_axis: str) -> np.ndarray:
    """The 3x3 rotation taking the unit vector of `up_axis` onto +y."""
    check_up_axis(up_axis)
    return _ROTATIONS[up_axis].astype(np.float64)


def align_up(keypoint: np.ndarray, up_axis: str | None) -> np.ndarray:
    """(..., 3) keypoints turned so that `up_axis` points along +y; None or "y" returns them unchanged."""
    if up_axis is None or check_up_axis(up_axis) == "y":
        return keypoint
    kp = np.asarray(keypoint)
    if kp.shape[-1] != 3:
        raise FormatError(
            f"up_axis {up_axis!r} applies to 3D keypoints, got {kp.shape[-1]} coordinates per joint",
            where="align_up",
            hint="2D keypoints keep image coordinates (y down); drop up_axis",
        )
    return (kp @ up_rotation(up_axis).T).astype(kp.dtype, copy=False)
