"""`skelact predict --ckpt C --input STORE_OR_FILE`: top-k classes per sample, with names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.cli.main import QuietArgumentParser
from skelact.errors import FormatError


def run_predict(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact predict", description="Predict actions with a trained checkpoint."
    )
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `skelact fit`")
    parser.add_argument(
        "--input", required=True, help="a store directory, or a .npy array (T,V,C) or (M,T,V,C)"
    )
    parser.add_argument("--split", default=None, help="store split to predict (default: all samples)")
    parser.add_argument("--top-k", type=int, default=5)
    options = parser.parse_args(args)

    from skelact.data.sample import SkeletonSample
    from skelact.data.store import SkeletonStore
    from skelact.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(options.ckpt)
    source = Path(options.input)
    if source.is_dir():
        predictions = predictor.predict_store(SkeletonStore(source), options.split, options.top_k)
    elif source.suffix == ".npy":
        array = _load_array(source)
        sample = SkeletonSample(keypoint=array if array.ndim == 4 else array[None], sample_id=source.stem)
        predictions = [predictor.predict_sample(sample, options.top_k, source=str(source))]
    else:
        raise FormatError(
            "expected a store directory or a .npy keypoint array",
            path=source,
            hint="convert other formats with `skelact prepare` first",
        )
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
    return 0


def _load_array(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise FormatError(f"cannot read keypoint array: {err}", path=path) from None
    if array.ndim not in (3, 4):
        raise FormatError(f"expected shape (T, V, C) or (M, T, V, C), got {array.shape}", path=path)
    return array.astype(np.float32)
