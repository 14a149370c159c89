"""Skeleton animations (GIF or MP4) of one sample, 2D or 3D, with the true and predicted label in a corner.

Frames are drawn with matplotlib's Agg canvas; the artists are created once and only their data changes per
frame, so a clip renders in a second or two. GIFs are written with Pillow (a matplotlib dependency), MP4s with
OpenCV (the `video` extra). Writes are atomic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.atomic import atomic_path
from skelact.errors import FormatError
from skelact.skeleton.layout import Layout
from skelact.viz.video_writer import VideoWriter

RENDER_SUFFIXES = (".gif", ".mp4")


def render_sample(
    keypoint: np.ndarray,
    layout: Layout,
    out: str | Path,
    *,
    title: str = "",
    true_label: str | None = None,
    predicted: str | None = None,
    fps: float = 15.0,
    size: int = 360,
    max_frames: int | None = None,
    joint_values: np.ndarray | None = None,
    note: str = "",
) -> Path:
    """Animate (M, T, V, C) keypoints (C = 2 or 3; missing joints are zeros) into `out` (.gif or .mp4).

    `joint_values` (M, T, V), NaN where nothing is to be shown, marks joints with dots coloured by value from
    0 to its largest finite value (SkeletonMAE: the masked joints and their reconstruction error); `note` is
    a caption line for them.
    """
    out = Path(out)
    if out.suffix.lower() not in RENDER_SUFFIXES:
        raise FormatError(
            f"cannot render to {out.suffix or 'a suffix-less file'}", path=out, hint="use .gif or .mp4"
        )
    keypoint = np.asarray(keypoint, dtype=np.float32)
    if keypoint.ndim != 4 or keypoint.shape[1] == 0 or keypoint.shape[-1] not in (2, 3):
        raise FormatError(f"expected keypoints (M, T, V, 2 or 3), got {keypoint.shape}", path=out)
    if joint_values is not None:
        joint_values = np.asarray(joint_values, dtype=np.float32)
        if joint_values.shape != keypoint.shape[:3]:
            raise FormatError(
                f"joint values of shape {joint_values.shape} for keypoints {keypoint.shape}", path=out
            )
    if max_frames is not None and keypoint.shape[1] > max_frames:
        chosen = np.linspace(0, keypoint.shape[1] - 1, max_frames).round().astype(int)
        keypoint = keypoint[:, chosen]
        joint_values = None if joint_values is None else joint_values[:, chosen]
    caption = "\n".join(p for p in (_caption(title, true_label, predicted), note) if p)
    frames = _draw_frames(keypoint, layout, caption, size, joint_values)
    if out.suffix.lower() == ".gif":
        with atomic_path(out) as tmp:
            _write_gif(tmp, frames, fps)
    else:
        _write_mp4(out, frames, fps)  # VideoWriter writes atomically itself
    return out


def _caption(title: str, true_label: str | None, predicted: str | None) -> str:
    parts = [title] if title else []
    if true_label is not None:
        parts.append(f"true: {true_label}")
    if predicted is not None:
        parts.append(f"predicted: {predicted}")
    return "\n".join(parts)


def _draw_frames(
    keypoint: np.ndarray, layout: Layout, caption: str, size: int, joint_values: np.ndarray | None = None
) -> list[np.ndarray]:
    import matplotlib
    import matplotlib.colors
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    m, t, _, c = keypoint.shape
    present = np.abs(keypoint).sum(-1) > 0  # (M, T, V)
    bones = np.array([(a, b) for a, b in layout.bone_pairs if a != b], dtype=np.int64)
    valid = keypoint[present]
    lo, hi = (valid.min(0), valid.max(0)) if len(valid) else (np.full(c, -1.0), np.full(c, 1.0))
    pad = 0.05 * float(np.max(hi - lo) or 1.0)
    figure = Figure(figsize=(size / 100, size / 100), dpi=100)
    canvas = FigureCanvasAgg(figure)
    three_d = c == 3
    axes = figure.add_subplot(projection="3d" if three_d else None)
    person_colour = np.array([matplotlib.colors.to_rgba(f"C{i % 10}") for i in range(m)])
    colour = np.repeat(person_colour, len(bones), axis=0)  # one row per (person, bone)
    if three_d:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        collection = Line3DCollection(np.zeros((1, 2, 3)), linewidths=2)
        axes.add_collection3d(collection)
    else:
        from matplotlib.collections import LineCollection

        collection = LineCollection([], linewidths=2)
        axes.add_collection(collection)
    if three_d:  # data is y-up: show x right, depth into the scene, y up
        axes.set_xlim(lo[0] - pad, hi[0] + pad)
        axes.set_ylim(lo[2] - pad, hi[2] + pad)
        axes.set_zlim(lo[1] - pad, hi[1] + pad)
        axes.set_box_aspect((1, 1, 1))
    else:
        axes.set_xlim(lo[0] - pad, hi[0] + pad)
        axes.set_ylim(hi[1] + pad, lo[1] - pad)  # image y points down
        axes.set_aspect("equal")
    axes.set_axis_off()
    view = view_axes(three_d)
    dots = None
    if joint_values is not None:
        finite = joint_values[np.isfinite(joint_values)]
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        norm, cmap = matplotlib.colors.Normalize(0.0, top), matplotlib.colormaps["plasma"]
        dots = axes.scatter(*np.zeros((len(view), 1)), s=40, zorder=3, edgecolors="k", linewidths=0.5)
    figure.text(0.02, 0.98, caption, va="top", ha="left", fontsize=9, family="monospace")
    counter = figure.text(0.98, 0.02, "", ha="right", fontsize=8, color="0.4")
    figure.subplots_adjust(0, 0, 1, 1)
    images = []
    for frame in range(t):
        # All bones of all persons at once; a bone with a missing end is left out.
        ends = keypoint[:, frame][:, bones][..., view].reshape(-1, 2, len(view))  # (M * B, 2, C)
        ok = present[:, frame][:, bones].all(-1).reshape(-1)
        if ok.any():
            collection.set_segments(ends[ok])
            collection.set_color(colour[ok])
        else:  # an empty frame: one invisible segment (mplot3d cannot draw an empty collection)
            collection.set_segments(np.zeros((1, 2, len(view))))
            collection.set_color((0, 0, 0, 0))
        if dots is not None and joint_values is not None:
            shown = np.isfinite(joint_values[:, frame]) & present[:, frame]  # (M, V)
            points = keypoint[:, frame][shown][:, view] if shown.any() else np.full((1, len(view)), np.nan)
            if three_d:
                dots._offsets3d = tuple(points.T)  # mplot3d has no public setter for scatter positions
            else:
                dots.set_offsets(points)
            dots.set_facecolor(cmap(norm(joint_values[:, frame][shown])) if shown.any() else (0, 0, 0, 0))
        counter.set_text(f"frame {frame + 1}/{t}")
        canvas.draw()
        images.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return images


def view_axes(three_d: bool) -> list[int]:
    """Data axes drawn as the plot's x, y (and z): 3D data is y-up, shown with depth into the scene."""
    return [0, 2, 1] if three_d else [0, 1]


def _write_gif(path: Path, frames: list[np.ndarray], fps: float) -> None:
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )


def _write_mp4(path: Path, frames: list[np.ndarray], fps: float) -> None:
    height, width = frames[0].shape[:2]
    writer = VideoWriter(path, fps, (width, height))
    try:
        for frame in frames:
            writer.write(frame)
    except BaseException:
        writer.abort()
        raise
    writer.close()
