"""The ISC/CMD/HaLP BiGRU (specs/halp.md 4.1): the official parameter count, equality with the official
frame-by-frame formulation on the same weights (tests/models/backbones/literal.py), the official init, and
the checkpoint converter on a synthetic state dict with the official key names and shapes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.models import create_model
from skelact.models.backbones import ISCBiGRU
from skelact.models.backbones.bigru import convert_official_bigru_state_dict

# Official NTU configuration: 150 inputs (25 joints x 3 coordinates x 2 persons), hidden 1024, 3 layers,
# fc 2048 -> 60. Derived by hand: BN 2 x 150; per GRU direction of layer 0: 3072 x (150 + 1024) + 2 x 3072;
# of layers 1-2: 3072 x (2048 + 1024) + 2 x 3072; two directions; fc 2048 x 60 + 60.
OFFICIAL_NTU60_PARAMS = 300 + 2 * 3_612_672 + 4 * 9_443_328 + 122_940
assert OFFICIAL_NTU60_PARAMS == 45_121_896

SMALL = {"hidden_size": 8, "num_layers": 3}


def official_shapes(input_size: int, hidden: int, layers: int, classes: int) -> dict[str, tuple[int, ...]]:
    """Key names and shapes of the official ``BIGRU`` state dict (moco/GRU.py), written out from the spec."""
    shapes: dict[str, tuple[int, ...]] = {
        f"input_norm.{f}": (input_size,) for f in ("weight", "bias", "running_mean", "running_var")
    }
    shapes["input_norm.num_batches_tracked"] = ()
    for k in range(layers):
        for suffix in ("", "_reverse"):
            shapes[f"encoder.gru.weight_ih_l{k}{suffix}"] = (3 * hidden, input_size if k == 0 else 2 * hidden)
            shapes[f"encoder.gru.weight_hh_l{k}{suffix}"] = (3 * hidden, hidden)
            shapes[f"encoder.gru.bias_ih_l{k}{suffix}"] = (3 * hidden,)
            shapes[f"encoder.gru.bias_hh_l{k}{suffix}"] = (3 * hidden,)
    shapes["fc.weight"], shapes["fc.bias"] = (classes, 2 * hidden), (classes,)
    return shapes


def _twins(literal, persons: int = 1, classes: int = 5, seed: int = 0) -> tuple[nn.Module, ISCBiGRU]:
    """A randomised official-formulation model and an ISCBiGRU loaded with its weights."""
    torch.manual_seed(seed)
    reference = literal.LiteralBiGRU(persons * 25 * 3, SMALL["hidden_size"], SMALL["num_layers"], classes)
    literal.randomise(reference, seed=seed)
    with torch.no_grad():
        bn = reference.input_norm
        bn.running_mean.normal_(0.0, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    model = create_model(
        "isc_bigru", layout="ntu25", in_channels=3, num_classes=classes, num_persons=persons, **SMALL
    )
    model.load_state_dict(convert_official_bigru_state_dict(reference.state_dict()))
    return reference, model


def test_official_ntu_parameter_count():
    with torch.device("meta"):  # no memory, no init cost: only the shapes count
        model = create_model("isc_bigru", layout="ntu25", in_channels=3, num_classes=60)
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_NTU60_PARAMS
    assert model.num_features == 2048 and model.input_size == 150
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    converted_names = convert_official_bigru_state_dict(
        {k: torch.empty(s, device="meta") for k, s in official_shapes(150, 1024, 3, 60).items()}
    )
    assert {k: tuple(v.shape) for k, v in converted_names.items()} == shapes


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_equals_the_official_frame_by_frame_loop(literal, mode):
    reference, model = _twins(literal)
    getattr(reference, mode)(), getattr(model, mode)()
    x = torch.randn(4, 1, 12, 25, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        features = model.forward_features(x)
        expected = reference.forward_features(x)
        assert features.shape == (4, 16)
        torch.testing.assert_close(features, expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=0)


def test_gradients_equal_the_official_loop(literal):
    reference, model = _twins(literal, persons=2, seed=3)
    x = torch.randn(3, 2, 7, 25, 3, generator=torch.Generator().manual_seed(2))
    literal.assert_gradients_match(reference, model, convert_official_bigru_state_dict, x)


def test_person_order_and_channel_layout_are_the_official_ones(literal):
    """Two persons: the per-frame vector is joint-major, then coordinate, then person (spec 2.2)."""
    reference, model = _twins(literal, persons=2, seed=4)
    model.eval(), reference.eval()
    x = torch.randn(2, 2, 5, 25, 3)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=0)
        seq = model.sequence(x)
    bn = model.data_bn
    channel = (7 * 3 + 2) * 2 + 1  # joint 7, coordinate z, person 1
    expected = (x[:, 1, :, 7, 2] - bn.running_mean[channel]) / torch.sqrt(bn.running_var[channel] + bn.eps)
    expected = expected * bn.weight[channel] + bn.bias[channel]
    assert seq.shape == (5, 2, 150)  # time-major
    torch.testing.assert_close(seq[:, :, channel].T, expected.detach(), atol=1e-5, rtol=1e-5)


def test_each_gru_runs_once_over_the_whole_clip():
    model = ISCBiGRU("ntu25", 3, 5, num_persons=1, **SMALL)
    calls: list[int] = []
    for module in model.modules():
        if isinstance(module, nn.GRU):
            module.register_forward_hook(lambda _m, args, _out: calls.append(args[0].shape[0]))  # (T, N, D)
    model(torch.randn(2, 1, 30, 25, 3))
    assert calls == [30] * 6  # 3 layers x 2 GRUs, one call each on all 30 frames


def test_official_initialisation():
    torch.manual_seed(0)
    model = ISCBiGRU("ntu25", 3, 5, num_persons=1, hidden_size=8, num_layers=2)
    for name, param in model.layers.named_parameters():
        if param.dim() == 2:  # Xavier-uniform: bound sqrt(6 / (fan_in + fan_out)), below GRU's 1 / sqrt(8)
            bound = (6.0 / (param.shape[0] + param.shape[1])) ** 0.5
            assert param.abs().max() <= bound and param.abs().max() > 0.8 * bound, name
        else:  # biases keep GRU's default U(-1/sqrt(hidden), 1/sqrt(hidden))
            assert param.abs().max() <= 8**-0.5 and param.abs().max() > 0.8 * 8**-0.5, name
    fc = model.head.fc
    assert fc.weight.abs().max() <= (6.0 / (16 + 5)) ** 0.5 and fc.bias.abs().max() > 0  # not zeroed
    model.reset_classifier(11)  # linear evaluation: CMD's N(0, 0.01) weights, zero bias
    assert model.num_classes == 11 and model.head.fc.weight.std() < 0.02 and not model.head.fc.bias.any()


def test_contract_and_input_checks():
    model = create_model(
        "isc_bigru", layout="kinect20", in_channels=3, num_classes=10, num_persons=1, **SMALL
    )
    x = torch.randn(3, 1, 9, 20, 3)
    assert model(x).shape == (3, 10) and model.forward_features(x).shape == (3, model.num_features)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.forward_head(model.forward_features(x)))
    with pytest.raises(LayoutError, match="layout 'kinect20' with 20 joints got 25 joints"):
        model(torch.randn(1, 1, 9, 25, 3))
    with pytest.raises(FormatError, match="expected 1 persons and 3 channels"):
        model(torch.randn(1, 2, 9, 20, 3))
    with pytest.raises(FormatError, match=r"expected a batch \(N, M, T, V, C\)"):
        model(torch.randn(9, 20, 3))
    with pytest.raises(ConfigError, match="hidden_size and num_layers >= 1"):
        ISCBiGRU("ntu25", 3, 5, num_layers=0)


def test_converter_reads_moco_checkpoints(literal):
    reference, model = _twins(literal, seed=5)
    encoder = reference.state_dict()
    mlp = {"fc.0.weight": torch.randn(16, 16), "fc.0.bias": torch.randn(16)}
    mlp |= {"fc.2.weight": torch.randn(4, 16), "fc.2.bias": torch.randn(4)}
    trunk = {k: v for k, v in encoder.items() if not k.startswith("fc.")}
    moco = {f"module.encoder_q.{k}": v for k, v in {**trunk, **mlp}.items()}
    moco |= {f"module.encoder_k.{k}": v + 1 for k, v in {**trunk, **mlp}.items()}
    moco |= {
        "module.queue": torch.randn(4, 32),
        "module.queue_ptr": torch.zeros(1),
        "module.prototypes": torch.zeros(2, 4),
    }
    checkpoint = {"epoch": 200, "state_dict": moco, "optimizer": {}}

    converted = convert_official_bigru_state_dict(checkpoint, head=False)
    missing = model.load_state_dict(converted, strict=False)
    assert sorted(missing.missing_keys) == ["head.fc.bias", "head.fc.weight"] and not missing.unexpected_keys
    for key, value in converted.items():  # the query encoder, not the key encoder
        assert torch.equal(value, model.state_dict()[key])
    key_side = convert_official_bigru_state_dict(moco, encoder="encoder_k", head=False)
    assert torch.equal(
        key_side["layers.0.twin.weight_hh_l0"], encoder["encoder.gru.weight_hh_l0_reverse"] + 1
    )

    with pytest.raises(ConfigError, match="MLP projection"):
        convert_official_bigru_state_dict(moco)
    with pytest.raises(ConfigError, match=r"does not know.*encoder\.lstm"):
        convert_official_bigru_state_dict({**encoder, "encoder.lstm.weight": torch.zeros(1)})
    with pytest.raises(ConfigError, match="no BiGRU weights found"):
        convert_official_bigru_state_dict({"encoder_q.fc.0.weight": torch.zeros(1)}, head=False)


def test_bf16_autocast_on_cpu_for_trainable_and_frozen_encoders():
    """A frozen copy (a momentum key encoder) casts its GRU weights once per call under CPU autocast; it
    computes what the trainable encoder computes there, and both stay close to float32."""
    torch.manual_seed(0)
    model = ISCBiGRU("ntu25", 3, 5, num_persons=2, hidden_size=16, num_layers=2).eval()
    frozen = copy.deepcopy(model).requires_grad_(False)
    x = torch.randn(3, 2, 10, 25, 3)
    with torch.no_grad():
        exact = model.forward_features(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            trainable, key = model.forward_features(x), frozen.forward_features(x)
    assert key.dtype == torch.bfloat16  # the trainable path mixes: bf16 products, float32 state
    torch.testing.assert_close(key.float(), trainable.float(), atol=2e-2, rtol=0)
    torch.testing.assert_close(key.float(), exact, atol=5e-2, rtol=0)
    assert not torch.equal(key.float(), exact)  # it did run in bfloat16
