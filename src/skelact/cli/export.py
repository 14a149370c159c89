"""`skelact export --ckpt C --format onnx|torchscript --out F [--clip-len 64 --persons 2] [--overwrite]`."""

from __future__ import annotations

from pathlib import Path

from skelact.cli.main import QuietArgumentParser, positive_int
from skelact.errors import ConfigError


def run_export(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact export",
        description="Export a checkpoint: raw keypoints (N, M, T, V, C) in, logits out, features inside.",
    )
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `skelact fit`")
    parser.add_argument("--format", required=True, choices=("onnx", "torchscript"))
    parser.add_argument("--out", required=True, help="output file (.onnx or .pt)")
    parser.add_argument(
        "--clip-len", type=positive_int, default=None, help="frames per input (default: the checkpoint's)"
    )
    parser.add_argument(
        "--persons", type=positive_int, default=None, help="persons per input (default: the checkpoint's)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    options = parser.parse_args(args)
    if Path(options.out).exists() and not options.overwrite:
        raise ConfigError(
            f"{options.out} exists", hint="pass --overwrite to replace it, or choose another --out"
        )

    from skelact.inference.export import export_model
    from skelact.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(options.ckpt)
    clip_len = predictor.spec.clip_len if options.clip_len is None else options.clip_len
    persons = predictor.spec.max_persons if options.persons is None else options.persons
    out = export_model(predictor.net, options.out, options.format, clip_len=clip_len, persons=persons)
    features = predictor.net.features
    shape = (persons, clip_len, features.layout.num_joints, features.in_channels)
    print(
        f"wrote {out}: input 'keypoint' (N, {', '.join(map(str, shape))}) float32, "
        f"output 'logits' (N, {len(predictor.class_names)}); classes: {', '.join(predictor.class_names)}"
    )
    return 0
