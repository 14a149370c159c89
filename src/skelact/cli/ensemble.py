"""`skelact ensemble SCORE_FILES...`: fuse per-stream score files; print each stream's and the fused accuracy.

    skelact ensemble j/scores.npz b/scores.npz jm/scores.npz bm/scores.npz --preset pyskl
    skelact ensemble TEST_FILES... --weights 2,2,1,1 --fuse logits --out fused.npz
    skelact ensemble TEST_FILES... --search-on val --val-scores VAL_FILES...
    skelact ensemble body/scores.npz hand/scores.npz leg/scores.npz --preset psumnet_ntu60_xsub

Weights are searched on the validation files only and then applied, unchanged, to the test files.
"""

from __future__ import annotations

import json
from typing import Any

from skelact.cli.main import QuietArgumentParser
from skelact.errors import ConfigError
from skelact.evaluation.ensemble_presets import PRESETS, preset_help

METRIC_KEYS = ("top1", "top5", "mean_class_accuracy")
FUSE_HELP = {
    "probs": "weighted mean of clip-averaged softmax probabilities",
    "logits": "weighted mean of clip-averaged logits",
}


def build_parser() -> QuietArgumentParser:
    parser = QuietArgumentParser(
        prog="skelact ensemble",
        description="Fuse per-stream score files (the scores.npz that `skelact test` writes).",
    )
    parser.add_argument("scores", nargs="+", help="score files of the streams, on the same samples")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--weights", help="one weight per file, e.g. 2,2,1,1 (default: equal weights)")
    choice.add_argument("--preset", choices=tuple(PRESETS), help=preset_help())
    choice.add_argument(
        "--search-on",
        choices=("val",),
        help="search the weights on the --val-scores files, then apply them to the score files",
    )
    parser.add_argument(
        "--val-scores",
        nargs="+",
        default=None,
        help="validation score files, one per stream (--search-on val)",
    )
    parser.add_argument(
        "--fuse",
        choices=("probs", "logits"),
        default=None,
        help="what is fused (default: probs; a preset uses its source's choice)",
    )
    parser.add_argument(
        "--max-weight", type=int, default=4, help="search integer weights 0..N per stream (default 4)"
    )
    parser.add_argument("--out", help="write the fused scores to this .npz score file")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def run_ensemble(args: list[str]) -> int:
    options = build_parser().parse_args(args)
    from skelact.evaluation import ensemble as ens

    if options.val_scores and options.search_on is None:
        raise ConfigError("--val-scores is only used with --search-on val")
    if options.search_on and not options.val_scores:
        raise ConfigError(
            "--search-on val needs the validation score files of the same streams",
            hint="pass --val-scores VAL_FILES..., written by `skelact test ... --data.test_split val`",
        )
    streams = ens.load_streams(options.scores)
    fuse_mode = options.fuse or (ens.PRESET_FUSE[options.preset] if options.preset else "probs")
    notes: list[str] = []
    search: dict[str, Any] | None = None
    if options.weights is not None:
        weights, source = _parse_weights(options.weights), "given"
    elif options.preset is not None:
        weights, note = ens.preset_weights(options.preset, streams)
        source = f"preset {options.preset}"
        notes += [note] if note else []
    elif options.search_on is not None:
        val = ens.load_streams(options.val_scores)
        val, note = ens.match_streams(streams, val)
        notes += [note] if note else []
        ens.check_validation_only(streams, val)
        found = ens.search_weights(val.scores(fuse_mode), val.labels, max_weight=options.max_weight)
        weights, source = found.weights, "searched on validation scores"
        search = {**found.to_dict(), "val_files": [str(p) for p in val.paths]}
    else:
        weights, source = [1.0] * len(streams), "equal"
    ens.normalized(weights, len(streams))  # validate count and signs before any output
    result = ens.evaluate(streams, weights, fuse_mode, source)
    result.search, result.notes = search, notes
    summary = result.to_dict()
    if options.out:
        fused = ens.fused_score_file(streams, weights, fuse_mode, {"ensemble": _provenance(result, streams)})
        summary["out"] = str(fused.write(options.out))
    if options.json:
        print(json.dumps(summary, indent=1))
    else:
        _print_table(result, streams.split, summary.get("out"))
    return 0


def _parse_weights(text: str) -> list[float]:
    parts = [p for p in text.replace(":", ",").split(",") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ConfigError(
            f"--weights {text!r} is not a list of numbers", hint="e.g. --weights 2,2,1,1"
        ) from None


def _provenance(result: Any, streams: Any) -> dict[str, Any]:
    return {
        "files": [str(p) for p in streams.paths],
        "modalities": streams.modalities,
        "models": streams.models,
        "weights": result.weights,
        "fuse": result.fuse,
        "weights_from": result.weights_from,
        "search": result.search,
    }


def _percent(metrics: dict[str, float] | None, key: str) -> str:
    return "n/a" if metrics is None else f"{metrics[key] * 100:.2f}%"


def _print_table(result: Any, split: str | None, out: str | None) -> None:
    rows = [
        [s["name"], f"{s['weight']:g}", *(_percent(s["metrics"], k) for k in METRIC_KEYS), s["file"]]
        for s in result.streams
    ]
    rows.append(["fused", "", *(_percent(result.fused, k) for k in METRIC_KEYS), ""])
    header = ["stream", "weight", "top-1", "top-5", "mean class", "file"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    weights = ":".join(f"{w:g}" for w in result.weights)
    count = result.fused["num_samples"] if result.fused else 0
    on = f" on {count} {split} samples" if split else f" on {count} samples"
    print(f"fusion: {FUSE_HELP[result.fuse]}{on}; weights {weights} ({result.weights_from})")
    if result.search:
        search = result.search
        print(
            f"search: validation top-1 {search['val_top1'] * 100:.2f}%, mean class "
            f"{search['val_mean_class_accuracy'] * 100:.2f}% ({search['evaluated']} weight vectors, "
            f"{search['method']}); test labels were not used"
        )
    for note in result.notes:
        print(f"note: {note}")
    if out:
        print(f"fused scores written to {out}")
