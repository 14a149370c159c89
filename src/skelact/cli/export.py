"""`skelact export --ckpt C --format onnx|torchscript --out F [--clip-len 64 --persons 2]`."""

from __future__ import annotations

from skelact.cli.main import QuietArgumentParser


def run_export(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact export",
        description="Export a checkpoint: raw keypoints (N, M, T, V, C) in, logits out, features inside.",
    )
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `skelact fit`")
    parser.add_argument("--format", required=True, choices=("onnx", "torchscript"))
    parser.add_argument("--out", required=True, help="output file (.onnx or .pt)")
    parser.add_argument(
        "--clip-len", type=int, default=None, help="frames per input (default: the checkpoint's)"
    )
    parser.add_argument(
        "--persons", type=int, default=None, help="persons per input (default: the checkpoint's)"
    )
    options = parser.parse_args(args)

    from skelact.inference.export import export_model
    from skelact.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(options.ckpt)
    clip_len = options.clip_len or predictor.spec.clip_len
    persons = options.persons or predictor.spec.max_persons
    out = export_model(predictor.net, options.out, options.format, clip_len=clip_len, persons=persons)
    features = predictor.net.features
    shape = (persons, clip_len, features.layout.num_joints, features.in_channels)
    print(
        f"wrote {out}: input 'keypoint' (N, {', '.join(map(str, shape))}) float32, "
        f"output 'logits' (N, {len(predictor.class_names)}); classes: {', '.join(predictor.class_names)}"
    )
    return 0
