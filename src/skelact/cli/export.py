"""`skelact export --ckpt C --format onnx|torchscript --out F [--overwrite]`.

The exported input shape is the checkpoint's clip length and person count. `--clip-len` / `--persons` may
restate them; another value feeds the network clips it was not trained on (it often still runs, and silently
scores worse), so it needs `--force-pipeline`, as `skelact test` does for its data options.
"""

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
    parser.add_argument(
        "--force-pipeline",
        action="store_true",
        help="export with a --clip-len or --persons other than the checkpoint's (it was not trained on them)",
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
    contradictions = [
        f"{option} {given} (the checkpoint's is {trained})"
        for option, given, trained in (
            ("--clip-len", clip_len, predictor.spec.clip_len),
            ("--persons", persons, predictor.spec.max_persons),
        )
        if given != trained
    ]
    if contradictions and not options.force_pipeline:
        raise ConfigError(
            f"{'; '.join(contradictions)}: {options.ckpt} was trained with another input shape",
            hint="drop the option (export takes the checkpoint's), or pass --force-pipeline to export anyway",
        )
    out = export_model(predictor.net, options.out, options.format, clip_len=clip_len, persons=persons)
    features = predictor.net.features
    shape = (persons, clip_len, features.layout.num_joints, features.in_channels)
    print(
        f"wrote {out}: input 'keypoint' (N, {', '.join(map(str, shape))}) float32, "
        f"output 'logits' (N, {len(predictor.class_names)}); classes: {', '.join(predictor.class_names)}"
    )
    return 0
