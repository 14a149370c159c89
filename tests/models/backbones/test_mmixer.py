"""M-Mixer: shapes for 2, 3 and 4 modalities (WACV and CFEM, equal and unequal sequence lengths), the
ablation switches, the auxiliary heads, one clear error per bad option."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from skelact.errors import ConfigError
from skelact.models import create_model
from skelact.models.layers.cross_modal import CFEM, MeanContent


def gcn(stream: str) -> dict[str, Any]:
    return {"encoder": "gcn", "backbone": "stgcn", "stream": stream, "model_args": {"base_channels": 4}}


HEATMAP = {"encoder": "heatmap", "size": 12, "width": 0.125, "blocks": [1, 1, 1]}
STREAMS = {"joint": gcn("j"), "bone": gcn("b"), "joint_motion": gcn("jm"), "bone_motion": gcn("bm")}


def build(modalities: dict[str, Any], **options: Any) -> torch.nn.Module:
    common = {"layout": "kinect20", "in_channels": 3, "num_classes": 5, "num_persons": 1}
    return create_model("mmixer", **common, modalities=modalities, dim=16, **options)


def keypoints(n: int = 2, t: int = 8) -> torch.Tensor:
    return torch.randn(n, 1, t, 20, 3, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("count", [2, 3, 4])
@pytest.mark.parametrize("extractor", ["wacv", "cfem"])
def test_shapes_for_two_three_and_four_modalities(count: int, extractor: str) -> None:
    torch.manual_seed(0)
    modalities = dict(list(STREAMS.items())[:count])
    if count == 3:  # one modality of another length: T / 2 heatmap steps beside T / 4 GCN steps
        modalities["joint_motion"] = HEATMAP
    model = build(modalities, extractor=extractor, num_queries=2, hidden=12)
    x = keypoints()
    states = model.modality_states(x)
    assert states.shape == (2, count, 12)
    assert model(x).shape == (2, 5) and model.num_features == count * 12
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)  # every part is used
    assert model.inputs == ("keypoint",)


def test_ablation_switches_build_what_they_name() -> None:
    modalities = dict(list(STREAMS.items())[:2])
    assert isinstance(build(modalities).content, MeanContent)
    cfem = build(modalities, extractor="cfem", num_queries=4, cfem_include_own=True).content
    assert isinstance(cfem, CFEM) and cfem.num_queries == 4 and cfem.keys == "all"
    assert build(modalities, extractor="cfem", content="self").content.keys == "own"
    assert build(modalities, mcu="gru").content is None  # g ≡ 0: no content is computed
    assert build(modalities, mcu="gru", initial_state="tanh").content is not None
    model = build(modalities, mcu="gate_conditioned", readout="mean")
    assert all(m.variant == "gate_conditioned" and m.readout == "mean" for m in model.mcus)
    assert model.mcus[0].ih.weight.data_ptr() != model.mcus[1].ih.weight.data_ptr()  # not shared


def test_a_single_modality_works_with_self_content_only() -> None:
    with pytest.raises(ConfigError, match="at least two modalities"):
        build({"joint": gcn("j")})
    assert build({"joint": gcn("j")}, content="self")(keypoints()).shape == (2, 5)


def test_auxiliary_heads_add_their_loss_in_training_only() -> None:
    torch.manual_seed(0)
    model = build(dict(list(STREAMS.items())[:2]), aux_weight=0.5)
    label = torch.tensor([0, 3])
    model.train()
    model(keypoints())
    loss = model.auxiliary_loss(label)
    assert loss is not None and loss.item() > 0
    assert model.auxiliary_loss(label) is None  # consumed
    model.eval()
    model(keypoints())
    assert model.auxiliary_loss(label) is None
    assert build(dict(list(STREAMS.items())[:2])).aux_heads.__len__() == 0


def test_bad_configurations_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="modalities must name at least one"):
        build({})
    with pytest.raises(ConfigError, match="extractor"):
        build(dict(list(STREAMS.items())[:2]), extractor="transformer")
    with pytest.raises(ConfigError, match="in_channels 6"):
        create_model("mmixer", layout="kinect20", in_channels=6, num_classes=5, modalities=STREAMS)
    with pytest.raises(ConfigError, match=r"modalities\.bone: temporal encoder 'gcn' got unexpected option"):
        build({"joint": gcn("j"), "bone": {**gcn("b"), "base_channels": 4}})
