"""Drawing skeletons and labels onto video frames with OpenCV (the overlay of `skelact video`)."""

from __future__ import annotations

import numpy as np

from skelact.skeleton.layout import Layout

# Distinct colours per person (RGB), cycled.
PERSON_COLOURS = np.array(
    [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)],
    dtype=np.int64,
)


def draw_frame(
    frame_rgb: np.ndarray,
    keypoint: np.ndarray,
    score: np.ndarray,
    layout: Layout,
    labels: list[str],
    person_ids: list[int],
    min_score: float = 0.3,
) -> np.ndarray:
    """A copy of `frame_rgb` with each person's bones (P, V, 2 pixel keypoints) and label drawn on it.

    Joints under `min_score` or at the origin are not drawn, so a lost joint never draws a line to the corner.
    """
    import cv2

    out = np.ascontiguousarray(frame_rgb.copy())
    scale = max(out.shape[:2]) / 720
    thickness = max(1, round(2 * scale))
    visible = (score >= min_score) & (np.abs(keypoint).sum(-1) > 0)
    bones = np.array([(c, p) for c, p in layout.bone_pairs if c != p], dtype=np.int64)
    for row, (person_kp, person_ok) in enumerate(zip(keypoint, visible, strict=True)):
        if not person_ok.any():
            continue
        colour = tuple(int(c) for c in PERSON_COLOURS[person_ids[row] % len(PERSON_COLOURS)])
        points = np.round(person_kp).astype(np.int32)
        drawn = bones[person_ok[bones[:, 0]] & person_ok[bones[:, 1]]]
        cv2.polylines(out, [points[pair] for pair in drawn], False, colour, thickness, cv2.LINE_AA)
        for x, y in points[person_ok]:
            cv2.circle(out, (int(x), int(y)), thickness + 1, colour, -1, cv2.LINE_AA)
        if labels[row]:
            x0, y0 = points[person_ok].min(0)
            _text(out, f"P{person_ids[row]} {labels[row]}", (int(x0), max(int(y0) - 8, 20)), colour, scale)
    return out


def _text(
    image: np.ndarray, text: str, origin: tuple[int, int], colour: tuple[int, ...], scale: float
) -> None:
    """Text with a dark backing box, readable on any background."""
    import cv2

    font, size, weight = cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, max(1, round(2 * scale))
    (w, h), base = cv2.getTextSize(text, font, size, weight)
    x, y = origin
    cv2.rectangle(image, (x, y - h - base), (x + w, y + base), (0, 0, 0), -1)
    cv2.putText(image, text, (x, y), font, size, colour, weight, cv2.LINE_AA)
