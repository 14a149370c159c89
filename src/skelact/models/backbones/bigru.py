"""The ISC / CMD / HaLP sequence encoder, the "BiGRU" (specs/halp.md section 4.1), run as whole sequences.

Input (N, M, T, V, C) -> per-frame vector ordered joint, coordinate, person (the official N x T x 150 for
NTU) -> BatchNorm1d over those channels across time -> GRU stack -> the state at the last frame
(2 x hidden = 2048 features) -> linear head.

The official encoder calls a bidirectional 3-layer ``nn.GRU`` on one frame at a time and carries its hidden
state, so its "reverse" direction also steps forward in time: each layer is two independent forward GRUs,
both fed the previous layer's concatenated outputs. Here each layer holds exactly those two GRUs and runs
them over the whole clip in one call each (cuDNN on GPU, torch's C++ loop with one input product for all
frames on CPU): the same function as the official loop (tests: within 1e-5), 2.3x as fast on 2 CPU cores at
NTU size (docs/results.md; the CPU is compute-bound either way, a GPU's per-frame launches are not
measured). A true bidirectional GRU would be another model and would not reproduce the published numbers.

The feature is the output at the clip's last frame, padding included, as in the official code (its clips
are always crop-resized to 64 frames, so there is no padding there).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.base import ClassifierHeadMixin, check_batch
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout, get_layout


class ForwardGRUPair(nn.Module):
    """One layer: two forward-in-time GRUs on the same time-major input, outputs concatenated per frame.

    `main` holds the official forward direction, `twin` the official reverse direction's weights.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.main = nn.GRU(input_size, hidden_size)
        self.twin = nn.GRU(input_size, hidden_size)

    def forward(self, seq: Tensor) -> Tensor:
        return torch.cat([_run_gru(self.main, seq), _run_gru(self.twin, seq)], dim=-1)


def _run_gru(gru: nn.GRU, seq: Tensor) -> Tensor:
    """The GRU's outputs over the whole (time-major) sequence.

    CPU autocast does not cover ``gru`` itself, only the matrix products inside it, and caches its casts
    only for weights that require gradients. For frozen weights (a momentum key encoder) it would cast every
    weight matrix again at every frame, so they are cast here once per call: a bf16 key-encoder forward at
    NTU size, batch 16, takes 0.21 s this way and 0.39 s without (2 CPU cores).
    """
    frozen = not any(p.requires_grad for p in gru.parameters())
    if frozen and seq.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        dtype = torch.get_autocast_dtype("cpu")
        weights = {name: p.to(dtype) for name, p in gru.named_parameters()}
        return torch.func.functional_call(gru, weights, (seq.to(dtype),))[0]
    return gru(seq)[0]


class ISCBiGRU(ClassifierHeadMixin, nn.Module):
    """The ISC/CMD/HaLP encoder with a classification head (the timm-like contract, `ClassifierHeadMixin`).

    `forward(x)` maps (N, M, T, V, C) to logits; `forward_features` gives the (N, 2 * hidden_size) state at
    the last frame (the official ``knn_eval`` feature); `forward_head` the logits; `reset_classifier`
    swaps the head for fine-tuning or linear probing (N(0, 0.01) weights, zero bias: CMD's linear eval).

    Initialisation follows the official code: Xavier-uniform on every weight matrix of the GRUs and the
    head, PyTorch's defaults for biases and the BatchNorm.
    """

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        hidden_size: int = 1024,
        num_layers: int = 3,
        head_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if hidden_size < 1 or num_layers < 1:
            raise ConfigError(
                f"ISCBiGRU needs hidden_size and num_layers >= 1, got {hidden_size}, {num_layers}"
            )
        self.layout = get_layout(layout)
        self.in_channels, self.num_persons = in_channels, num_persons
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.input_size = num_persons * self.layout.num_joints * in_channels
        self.data_bn = nn.BatchNorm1d(self.input_size)
        self.layers = nn.ModuleList(
            ForwardGRUPair(self.input_size if i == 0 else 2 * hidden_size, hidden_size)
            for i in range(num_layers)
        )
        self._build_head(2 * hidden_size, num_classes, head_dropout)
        self._official_init()

    def _official_init(self) -> None:
        with torch.no_grad():
            for layer in self.layers:
                for param in layer.parameters():
                    if param.dim() == 2:
                        nn.init.xavier_uniform_(param)
            fc = self.head.fc
            nn.init.xavier_uniform_(fc.weight)
            bound = 1.0 / math.sqrt(fc.in_features)  # nn.Linear's default bias, kept by the official code
            nn.init.uniform_(fc.bias, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        m, c = check_batch(x, self.layout, name)
        if c != self.in_channels or m != self.num_persons:
            raise FormatError(
                f"expected {self.num_persons} persons and {self.in_channels} channels, got shape "
                f"{tuple(x.shape)}",
                where=name,
                hint="the per-frame vector has a fixed size: pad or crop persons to num_persons",
            )

    def sequence(self, x: Tensor) -> Tensor:
        """(N, M, T, V, C) -> normalised, time-major (T, N, V*C*M), channels in the official order.

        Time-major and contiguous, so each GRU's input projection is one matrix product over all frames:
        with ``batch_first`` input, CPU torch 2.13 expands and copies the weight per frame when the weights
        do not require gradients (a momentum key encoder): 1.4 s instead of 0.04 s for one bf16 GRU
        (2048 -> 1024, batch 16, 64 frames).
        """
        self._check_input(x)
        n, m, t, v, c = x.shape
        seq = x.permute(2, 0, 3, 4, 1).reshape(t * n, v * c * m)
        return self.data_bn(seq).view(t, n, -1)  # statistics over frames and samples, as BN over time

    def forward_features(self, x: Tensor) -> Tensor:
        seq = self.sequence(x)
        for layer in self.layers:
            seq = layer(seq)
        return seq[-1]


@register_model("isc_bigru")
@builds(ISCBiGRU)
def isc_bigru(**kwargs: Any) -> ISCBiGRU:
    """The ISC/CMD/HaLP BiGRU: hidden 1024, 3 layers of two forward GRUs, 2048 features (specs/halp.md 4.1).

    Parameters, measured (tests/models/backbones/test_bigru.py): the official NTU configuration (ntu25,
    3 channels, 2 persons = 150 inputs, hidden 1024, 3 layers, fc 2048 -> 60) has 45,121,896; 45,121,596
    without the input BatchNorm's 300. One 3 x 64 x 25 x 2 clip costs 2.88 G MACs
    (`python benchmarks/model_cost.py --models isc_bigru`; ST-GCN: 3.65 G), but as 64 x 3 sequential
    recurrence steps, which is what makes it slow on CPU. ntu25 with one person (75 inputs): 44,660,946.
    """
    return ISCBiGRU(**kwargs)


# ------------------------------------------------------------------------------- official checkpoints

_BN_FIELDS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
_GRU_KEY = re.compile(r"encoder\.gru\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?")


def convert_official_bigru_state_dict(
    state_dict: Mapping[str, Tensor], *, encoder: str = "encoder_q", head: bool = True
) -> dict[str, Tensor]:
    """Map an official ISC/CMD/HaLP ``BIGRU`` state dict (``moco/GRU.py``) onto `ISCBiGRU` names.

    Accepts a bare BIGRU state dict, a MoCo one (keys under `encoder`, ``encoder_q`` by default; a
    ``module.`` prefix from DataParallel is dropped; other encoders, the queue and the prototypes are
    ignored), or a whole checkpoint holding it under ``state_dict``. ``input_norm`` becomes ``data_bn``;
    GRU layer k's forward weights go to ``layers.k.main`` and its ``*_reverse`` weights to ``layers.k.twin``
    (the official loop steps both forward in time). A linear ``fc`` becomes the head when `head` is true.
    A pre-training MLP projection (``fc.0``, ``fc.2``) is not part of the encoder: load it with
    ``head=False`` and map those keys onto the projection head. Unknown keys raise ConfigError.
    """
    inner = state_dict.get("state_dict")
    if isinstance(inner, Mapping):
        state_dict = inner
    sd = {k.removeprefix("module."): v for k, v in state_dict.items()}
    prefix = f"{encoder}."
    if any(k.startswith(prefix) for k in sd):
        sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
    out: dict[str, Tensor] = {}
    unknown = []
    for key, value in sd.items():
        if key.startswith("input_norm.") and key.split(".", 1)[1] in _BN_FIELDS:
            out["data_bn." + key.split(".", 1)[1]] = value
        elif match := _GRU_KEY.fullmatch(key):
            name, layer, reverse = match.groups()
            out[f"layers.{layer}.{'twin' if reverse else 'main'}.{name}_l0"] = value
        elif key in ("fc.weight", "fc.bias"):
            if head:
                out["head." + key] = value
        elif re.fullmatch(r"fc\.\d+\.(weight|bias)", key):
            if head:
                raise ConfigError(
                    "the checkpoint's fc is a pre-training MLP projection, not a classifier",
                    hint="convert with head=False and load the encoder with strict=False",
                )
        else:
            unknown.append(key)
    if unknown:
        raise ConfigError(f"official BiGRU state dict has keys this converter does not know: {unknown[:5]}")
    if not out:
        raise ConfigError(f"no BiGRU weights found (looked for {prefix!r} keys and bare BIGRU keys)")
    return out
