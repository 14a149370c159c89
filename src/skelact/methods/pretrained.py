"""The query encoder of a MoCo / HaLP checkpoint (or the GIN encoder of a SkeletonMAE one, under its own
`state_prefix`), for the evaluation protocols (linear, kNN, semi-supervised, transfer): the network its
pipeline record describes, with the pre-trained trunk and a fresh class head.

    net, record = load_pretrained_encoder("runs/halp/version_0/checkpoints/last.ckpt")
    features = net.backbone.forward_features(net.embed(keypoint))  # (N, num_features): 2048 for the BiGRU
    logits = net(keypoint)  # through the new head for record.num_classes (to be trained by the protocol)

Loading checks the weights key for key: every trunk parameter must come from the checkpoint, and only the
class head (absent in pre-training) starts fresh; the projection head and the key encoder are left out.
"""

from __future__ import annotations

from pathlib import Path

from skelact.errors import FormatError
from skelact.inference.pipeline import (
    InputModel,
    PipelineRecord,
    build_input_model,
    load_checkpoint,
    read_record,
)
from skelact.methods.moco import ENCODER_PREFIX, PRETRAINING_KEY


def load_pretrained_encoder(path: str | Path, map_location: str = "cpu") -> tuple[InputModel, PipelineRecord]:
    """The query encoder's trunk of a contrastive pre-training checkpoint, in train mode, and its record."""
    checkpoint = load_checkpoint(path, map_location)
    record = read_record(checkpoint, path)
    pretraining = record.extra.get(PRETRAINING_KEY)
    if not pretraining:
        raise FormatError(
            f"not a contrastive pre-training checkpoint (method {record.method!r})",
            path=path,
            hint="give a checkpoint written by `skelact fit --method moco`, `halp` or `skeletonmae`",
        )
    prefix = str(pretraining.get("state_prefix", ENCODER_PREFIX))
    net = build_input_model(record)
    head = {f"backbone.head.{key}" for key in net.backbone.head.state_dict()}
    state = {
        key.removeprefix(prefix): value
        for key, value in checkpoint.get("state_dict", {}).items()
        if key.startswith(prefix) and not key.startswith(f"{prefix}projector.")
    }
    missing, unexpected = net.load_state_dict(state, strict=False)
    if set(missing) != head or unexpected:
        absent = sorted(set(missing) - head)[:3]
        raise FormatError(
            f"the pre-trained weights do not fit the recorded encoder {record.model!r}: "
            f"missing {absent or 'nothing'}, unexpected {sorted(unexpected)[:3] or 'nothing'}",
            path=path,
        )
    return net.train(), record
