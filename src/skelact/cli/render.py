"""`skelact render INPUT --out FILE.gif|mp4 [--sample ID] [--ckpt C]`: skeleton animations with labels.

INPUT is a store directory (one sample: `--sample` id or index, default the first), a clip file (`.npy`,
`.csv`/`.json` keypoint table, NTU `.skeleton`; `--layout` names its skeleton), or, with `--scores`, a store
whose worst-classified samples are rendered into the folder `--out`. `--mae CKPT` shows a SkeletonMAE
pre-training's masked joints on the sample's (normalised) clip, coloured by their reconstruction error;
`--ckpt C --explain` the joints a deformable3d checkpoint attends to, on the clip it saw."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from skelact.cli.main import QuietArgumentParser, positive_float, positive_int
from skelact.data.transforms.axes import UP_AXES
from skelact.errors import ConfigError

if TYPE_CHECKING:
    from skelact.data.sample import SkeletonSample
    from skelact.data.store import SkeletonStore
    from skelact.skeleton.layout import Layout


def run_render(args: list[str]) -> int:
    parser = QuietArgumentParser(prog="skelact render", description="Animate skeletons with their labels.")
    parser.add_argument("input", help="a store directory or a clip file")
    parser.add_argument("--out", required=True, help="output .gif or .mp4 (a folder with --scores)")
    parser.add_argument("--sample", default=None, help="store sample id or index (default: the first)")
    parser.add_argument("--split", default=None, help="store split the default sample is taken from")
    parser.add_argument("--ckpt", default=None, help="also show this checkpoint's prediction")
    parser.add_argument(
        "--mae",
        default=None,
        help="a SkeletonMAE pre-training checkpoint: its masked joints, coloured by reconstruction error",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with --ckpt: dots on the joints the model attends to (deformable3d's joint-stride attention)",
    )
    parser.add_argument("--layout", default=None, help="skeleton of a clip file (default: the checkpoint's)")
    parser.add_argument("--score-channel", action="store_true", help="a clip file's last channel is a score")
    parser.add_argument("--scores", default=None, help="score file: render the worst-classified samples")
    parser.add_argument("--worst", type=positive_int, default=5, help="how many samples with --scores")
    parser.add_argument(
        "--up-axis",
        choices=UP_AXES,
        default=None,
        help="3D data: the axis pointing up in the stored coordinates, drawn upwards (default: the "
        "checkpoint's data.up_axis with --ckpt, else y); write a negative axis as --up-axis=-z",
    )
    parser.add_argument("--fps", type=positive_float, default=15.0)
    parser.add_argument(
        "--max-frames", type=positive_int, default=None, help="subsample long sequences to this many"
    )
    options = parser.parse_args(args)

    from skelact.data.store import SkeletonStore
    from skelact.data.transforms.axes import align_up
    from skelact.inference.inputs import read_clip_file
    from skelact.inference.predictor import Predictor
    from skelact.skeleton.layout import get_layout
    from skelact.viz.render import render_sample

    source = Path(options.input)
    if options.scores:
        from skelact.evaluation.scores import ScoreFile
        from skelact.viz.worst import render_worst

        written = render_worst(
            ScoreFile.read(options.scores),
            SkeletonStore(source),
            options.out,
            options.worst,
            max_frames=options.max_frames,
        )
        print("\n".join(str(p) for p in written))
        return 0
    predictor = Predictor.from_checkpoint(options.ckpt) if options.ckpt else None
    true_label = None
    if source.is_dir():
        store = SkeletonStore(source)
        index = _sample_index(store, options.sample, options.split)
        sample, layout = store[index], store.layout
        if sample.label >= 0:
            true_label = store.class_names[sample.label]
    else:
        if options.layout is None and predictor is None:
            raise ConfigError(
                "name the clip's skeleton with --layout (or give --ckpt)", hint="e.g. --layout coco17"
            )
        layout = get_layout(options.layout) if options.layout else predictor.layout
        sample = read_clip_file(source, layout, score_channel=options.score_channel)
    keypoint, joint_values, note = sample.keypoint, None, ""
    if options.explain and (predictor is None or options.mae):
        raise ConfigError("--explain draws a checkpoint's maps: give --ckpt, and not --mae")
    if options.mae:
        keypoint, joint_values, note = _reconstruction(options.mae, sample, layout)
    predicted = None
    if predictor is not None and options.explain:
        keypoint, joint_values, note, predicted = _explanation(predictor, sample, layout, str(source))
    elif predictor is not None:
        p = predictor.predict_sample(sample, top_k=1, source=str(source), layout=layout)
        predicted = f"{p.classes[0]} ({p.probabilities[0]:.2f})"
    up_axis = options.up_axis or (predictor.spec.up_axis if predictor is not None else None)
    if keypoint.shape[-1] == 3:  # the stored clip, or with --mae the clip the pre-training saw
        keypoint = align_up(keypoint, up_axis)
    out = render_sample(
        keypoint,
        layout,
        options.out,
        title=sample.sample_id,
        true_label=true_label,
        predicted=predicted,
        fps=options.fps,
        max_frames=options.max_frames,
        joint_values=joint_values,
        note=note,
    )
    print(f"wrote {out}")
    return 0


def _reconstruction(path: str, sample: SkeletonSample, layout: Layout) -> tuple[Any, Any, str]:
    """The sample as the pre-training saw it (its test clip: sampling and normalisation from the
    checkpoint), and the reconstruction error of its masked joints, for `render_sample`."""
    import numpy as np
    import torch

    from skelact.inference.predictor import Predictor
    from skelact.methods.pretrained import load_pretrained_encoder
    from skelact.methods.skeletonmae import joint_errors, load_skeletonmae

    model = load_skeletonmae(path)
    predictor = Predictor(*load_pretrained_encoder(path))
    sample = predictor.adapt(sample, layout)
    predictor.check_input(sample, str(path))
    clip = torch.from_numpy(np.ascontiguousarray(predictor.clips(sample)[0]))
    masked, error = joint_errors(model, clip)
    regions = [name for name, joints in model.layout.regions.items() if masked[list(joints)].all()]
    finite = error[torch.isfinite(error)]
    mean = f"{float(finite.mean()):.3f}" if finite.numel() else "n/a"
    note = f"masked: {', '.join(regions)}\ndots: reconstruction 1 - cos (mean {mean})"
    return clip[..., : predictor.num_coords].numpy(), error.numpy(), note


def _explanation(
    predictor: Any, sample: SkeletonSample, layout: Layout, source: str
) -> tuple[Any, Any, str, str]:
    """The checkpoint's test clip of the sample, its joint-attention map (`skelact.inference.explain`), a
    note naming the most attended joints, and the prediction, for `render_sample`."""
    import numpy as np

    from skelact.inference.explain import explain_sample

    explained = explain_sample(predictor, sample, source, layout=layout)
    if "joints" not in explained.maps:
        raise ConfigError(f"{source}: the model gives no joint map (its pose stream is off)")
    joints = explained.maps["joints"]
    present = np.abs(explained.clip).sum(axis=-1) > 0  # (M, T, V): padding persons and frames are zeros
    shown = np.where(present, joints, np.nan)
    weight = np.nanmean(shown, axis=(0, 1))
    names = predictor.layout.joint_names
    top = [names[i] for i in np.argsort(-np.nan_to_num(weight, nan=-1.0))[:3]]
    note = f"dots: joint attention of the cross tokens\nmost attended: {', '.join(top)}"
    best = int(explained.probabilities.argmax())
    predicted = f"{predictor.class_names[best]} ({explained.probabilities[best]:.2f})"
    return explained.clip[..., : predictor.num_coords], shown, note, predicted


def _sample_index(store: SkeletonStore, sample: str | None, split: str | None) -> int:
    if sample is None:
        return int(store.split(split)[0]) if split else 0
    if sample in store.sample_ids:
        return store.sample_ids.index(sample)
    if sample.isdigit() and int(sample) < len(store):
        return int(sample)
    raise ConfigError(f"no sample {sample!r} in {store.path}", hint="give a sample id or an index")
