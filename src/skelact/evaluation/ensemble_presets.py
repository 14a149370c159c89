"""Published stream weights for `skelact ensemble --preset`: which streams, which weights, what is fused.

Kept free of heavy imports so the command line can list the presets in its help without loading numpy.
A preset's streams are named by what score files record: the modality (``meta["modality"]``, four-stream
GCN ensembles) or the model (``meta["model"]``, PSUMNet's part streams, which all read raw joints).
"""

from __future__ import annotations

from typing import Literal

FuseMode = Literal["probs", "logits"]
StreamKey = Literal["modality", "model"]

PRESETS: dict[str, dict[str, float]] = {
    # PYSKL README: 2s = J:B = 1:1, 4s = J:B:JM:BM = 2:2:1:1 (specs/reference-results.md section 1).
    "pyskl": {"j": 2.0, "b": 2.0, "jm": 1.0, "bm": 1.0},
    # CTR-GCN ensemble.py: alpha = [0.6, 0.6, 0.4, 0.4] for joint, bone, joint motion, bone motion.
    "ctrgcn": {"j": 0.6, "b": 0.6, "jm": 0.4, "bm": 0.4},
    # BRL (specs/brl.md section 7): six streams J:B:K:JM:BM:KM = 2:2:2:1:1:1 on 10-clip probabilities.
    "brl": {"j": 2.0, "b": 2.0, "k": 2.0, "jm": 1.0, "bm": 1.0, "km": 1.0},
}
PRESET_FUSE: dict[str, FuseMode] = {"pyskl": "probs", "ctrgcn": "logits", "brl": "probs"}
PRESET_KEY: dict[str, StreamKey] = {}

# PSUMNet's alpha_body, alpha_hand, alpha_leg per split (specs/psumnet.md section 8, from the released
# ensemble script's comments). The code sums logits; the paper's diagram says softmax scores, so
# `--fuse probs` is the other reading. The NTU-X weights name no split (the README reports cross-subject).
PSUMNET_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "ntu60_xsub": (2.0, 1.8, 0.7),
    "ntu60_xview": (2.1, 1.6, 0.7),
    "ntu120_xsub": (2.2, 1.5, 0.7),
    "ntu120_xset": (2.1, 2.0, 0.8),
    "ntux60": (3.4, 2.0, 1.0),
    "ntux120": (2.4, 2.2, 1.0),
}
PSUMNET_STREAMS = ("psumnet_body", "psumnet_hand", "psumnet_leg")  # the registered stream models
for _split, _weights in PSUMNET_WEIGHTS.items():
    PRESETS[f"psumnet_{_split}"] = dict(zip(PSUMNET_STREAMS, _weights, strict=True))
    PRESET_FUSE[f"psumnet_{_split}"] = "logits"
    PRESET_KEY[f"psumnet_{_split}"] = "model"


def preset_key(preset: str) -> StreamKey:
    """What names a preset's streams in a score file: the modality, or (PSUMNet) the model."""
    return PRESET_KEY.get(preset, "modality")


def preset_help() -> str:
    """One line per preset for the command line's help."""
    lines = []
    for name, table in PRESETS.items():
        weights = ":".join(f"{w:g}" for w in table.values())
        streams = ":".join(s.removeprefix("psumnet_") for s in table)
        lines.append(f"{name}: {streams} = {weights} on {PRESET_FUSE[name]}")
    return "; ".join(lines)
