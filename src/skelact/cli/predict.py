"""`skelact predict --ckpt C --input STORE_OR_FILE`: top-k classes per sample, with names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from skelact.cli.main import QuietArgumentParser, positive_int

if TYPE_CHECKING:
    from skelact.inference.predictor import Predictor


def run_predict(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact predict", description="Predict actions with a trained checkpoint."
    )
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `skelact fit`")
    parser.add_argument(
        "--input",
        required=True,
        help="a store directory, or a clip: .npy (T,V,C) or (M,T,V,C), .csv/.json keypoint table, .skeleton",
    )
    parser.add_argument(
        "--layout", default=None, help="the input's skeleton when it is not the model's (mapped if possible)"
    )
    parser.add_argument("--score-channel", action="store_true", help="a .npy clip's last channel is a score")
    parser.add_argument("--split", default=None, help="store split to predict (default: all samples)")
    parser.add_argument("--top-k", type=positive_int, default=5, help="classes per sample (default 5)")
    parser.add_argument(
        "--explain",
        default=None,
        metavar="FILE.npz",
        help="also save each sample's explanation maps (models with `explain`, e.g. deformable3d)",
    )
    options = parser.parse_args(args)

    from skelact.data.store import SkeletonStore
    from skelact.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(options.ckpt)
    if options.explain:
        from skelact.inference.explain import check_explainable

        check_explainable(predictor, options.ckpt)
    source = Path(options.input)
    if source.is_dir():
        predictions = predictor.predict_store(SkeletonStore(source), options.split, options.top_k)
    else:
        predictions = [
            predictor.predict_file(
                source, layout=options.layout, score_channel=options.score_channel, top_k=options.top_k
            )
        ]
    correct = known = 0
    for p in predictions:
        ranked = "  ".join(
            f"{name} {prob:.3f}" for name, prob in zip(p.classes, p.probabilities, strict=True)
        )
        truth = f"  [true: {predictor.class_names[p.label]}]" if p.label >= 0 else ""
        print(f"{p.sample_id}: {ranked}{truth}")
        if p.label >= 0:
            known += 1
            correct += int(p.indices[0] == p.label)
    if known:
        print(f"top-1 {correct / known:.4f} on {known} labelled samples")
    if options.explain:
        print(f"wrote {_explain(predictor, options, source)}")
    return 0


def _explain(predictor: Predictor, options: argparse.Namespace, source: Path) -> Path:
    """The explanation maps of the same samples (`skelact.inference.explain`), saved to --explain."""
    from skelact.data.store import SkeletonStore
    from skelact.inference.explain import explain_sample, save_explanations
    from skelact.inference.inputs import read_clip_file
    from skelact.skeleton.layout import get_layout

    if source.is_dir():
        store = SkeletonStore(source)
        indices = store.split(options.split) if options.split else range(len(store))
        explained = [explain_sample(predictor, store[int(i)], str(source)) for i in indices]
    else:
        sample = read_clip_file(
            source,
            get_layout(options.layout) if options.layout else predictor.layout,
            score_channel=options.score_channel,
            ntu_preset=predictor.record.preset or "ctrgcn",
        )
        explained = [explain_sample(predictor, sample, str(source), layout=options.layout)]
    return save_explanations(explained, predictor.class_names, options.explain)
