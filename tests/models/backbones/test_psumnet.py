"""PSUMNet streams: exact parameter counts of the released code (specs/psumnet.md section 5), block plans,
shapes on every layout with parts, graphs from the part pairs, initialisation, the registry names, and
``official_quirks`` against a literal transcription of the released feeder and model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from skelact.data.clips import ClipSpec, make_clips
from skelact.errors import ConfigError
from skelact.models import create_model, model_options
from skelact.models.backbones.psumnet import PSUMNet, convert_official_state_dict
from skelact.models.inputs.part_modality import PartModalityFeatures
from skelact.skeleton import get_layout
from skelact.skeleton.graph import listed_partition
from skelact.skeleton.parts import part_layout

STREAMS = ("body", "hand", "leg")


def count(name: str, layout: str = "ntu25", classes: int = 60, persons: int = 2, **kwargs: object) -> int:
    model = create_model(
        name, layout=layout, in_channels=3, num_classes=classes, num_persons=persons, **kwargs
    )
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("layout", "classes", "expected"),
    [
        ("ntu25", 60, (1_448_418, 978_482, 499_898)),
        ("ntu25", 120, (1_463_838, 993_902, 515_318)),
        ("ntux67", 60, (1_471_314, 1_018_592, 501_146)),
    ],
)
def test_official_parameter_counts(layout: str, classes: int, expected: tuple[int, int, int]) -> None:
    counts = tuple(count(f"psumnet_{s}", layout, classes, official_quirks=True) for s in STREAMS)
    assert counts == expected


def test_official_total_and_shrec_counts() -> None:
    assert sum(count(f"psumnet_{s}", official_quirks=True) for s in STREAMS) == 2_926_798
    shrec = [count("psumnet_hand", "shrec22", c, persons=1, official_quirks=True) for c in (14, 28)]
    assert shrec == [972_234, 975_832]


def test_corrected_counts_differ_only_by_the_first_relation_width() -> None:
    """Quirks off: R = 8 instead of 12 // 8 = 1 in the first layer, 3 x (2 x 13 x 7 + 64 x 7) = 1,890 more."""
    counts = [count(f"psumnet_{s}") for s in STREAMS]
    assert counts == [1_450_308, 980_372, 501_788]
    model = create_model("psumnet_leg", layout="ntu25", in_channels=3, num_classes=60)
    quirky = create_model("psumnet_leg", layout="ntu25", in_channels=3, num_classes=60, official_quirks=True)
    assert model.blocks[0].gcn.rel_channels == 8 and quirky.blocks[0].gcn.rel_channels == 1
    assert [b.gcn.rel_channels for b in model.blocks[1:]] == [8, 16, 16]


@pytest.mark.parametrize(
    ("stream", "rows", "widths"),
    [
        ("body", (1, 2, 3, 4, 5, 6, 7, 8, 9, 10), (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)),
        ("hand", (1, 5, 6, 7, 8, 9), (64, 128, 128, 128, 256, 256)),
        ("leg", (1, 5, 6, 8), (64, 128, 128, 256)),
    ],
)
def test_block_plan(stream: str, rows: tuple[int, ...], widths: tuple[int, ...]) -> None:
    model = create_model(f"psumnet_{stream}", layout="ntu25", in_channels=3, num_classes=60)
    assert isinstance(model, PSUMNet) and model.block_rows == rows
    assert tuple(b.gcn.out_channels for b in model.blocks) == widths
    strides = tuple(b.tcn.stride for b in model.blocks)
    assert strides == tuple(2 if r in (5, 8) else 1 for r in rows)
    assert model.blocks[0].residual is None  # the first block has no residual
    assert model.in_channels == 12 and model.num_features == 256
    assert model.data_bn.num_features == 2 * model.layout.num_joints * 12  # per person slot


@pytest.mark.parametrize(
    ("layout", "persons", "coords", "parts"),
    [
        ("ntu25", 2, 3, ("body", "hands", "legs")),
        ("ntux67", 2, 3, ("body", "hands", "legs")),
        ("kinect20", 1, 3, ("body", "hands", "legs")),
        ("coco17", 2, 2, ("body", "hands", "legs")),
        ("shrec22", 1, 3, ("hands",)),
    ],
)
def test_output_shapes_on_every_layout_with_parts(
    layout: str, persons: int, coords: int, parts: tuple[str, ...]
) -> None:
    v = get_layout(layout).num_joints
    x = torch.randn(2, persons, 16, v, 3)  # 2D layouts: x, y and a score channel
    for part in parts:
        model = create_model(
            "psumnet", layout=layout, in_channels=3, num_classes=7, num_persons=persons, part=part,
            num_coords=coords, base_channels=8,
        )  # fmt: skip
        assert model(x).shape == (2, 7)
        assert model.forward_features(x).shape == (2, 32)
        features = model.mmdg(x)
        assert features.shape == (2, persons, 16, len(get_layout(layout).part(part)), 12)
        assert model.blocks(model._fold_persons(features)).shape[2] == 4  # T 16 -> 8 -> 4


@pytest.mark.parametrize("quirks", [False, True])
def test_graph_is_the_part_pairs(quirks: bool) -> None:
    model = create_model("psumnet_leg", layout="ntu25", in_channels=3, num_classes=60, official_quirks=quirks)
    expected = torch.from_numpy(listed_partition(part_layout("ntu25", "legs", official_quirks=quirks)))
    for block in model.blocks:
        torch.testing.assert_close(block.gcn.PA.detach(), expected)
    assert model.layout == part_layout("ntu25", "legs", official_quirks=quirks)
    assert model.mmdg.output_layout == model.layout  # bones and graph: one part layout


def test_initialisation() -> None:
    torch.manual_seed(0)
    model = create_model("psumnet_hand", layout="ntu25", in_channels=3, num_classes=60)
    for block in model.blocks:
        assert block.gcn.alpha.item() == 0.0
        assert torch.all(block.gcn.bn.weight == 1e-6)
        assert abs(block.tcn.bn.weight.mean().item() - 1.0) < 0.05  # TRM BNs ~ N(1, 0.02)
    assert torch.all(model.data_bn.weight == 1.0)
    std = model.head.fc.weight.std().item()
    assert abs(std - (2.0 / 60) ** 0.5) < 0.02  # fc ~ N(0, sqrt(2 / classes))


def test_registry_names_and_options() -> None:
    options = model_options("psumnet_hand")
    assert "part" not in options and {"official_quirks", "blocks", "modality", "num_coords"} <= set(options)
    assert "part" in model_options("psumnet")
    with pytest.raises(ConfigError, match="unexpected argument 'part'"):
        create_model("psumnet_hand", layout="ntu25", in_channels=3, num_classes=60, part="legs")
    with pytest.raises(ConfigError, match="no block plan for part 'upper'"):
        create_model("psumnet", layout="ntu25", in_channels=3, num_classes=60, part="upper")
    upper = create_model(
        "psumnet",
        layout="ntu25",
        in_channels=3,
        num_classes=60,
        part="upper",
        blocks=[1, 5, 8],
        base_channels=8,
    )
    assert upper.block_rows == (1, 5, 8) and upper(torch.randn(1, 2, 8, 25, 3)).shape == (1, 60)
    with pytest.raises(ConfigError, match="increasing rows"):
        create_model("psumnet", layout="ntu25", in_channels=3, num_classes=60, blocks=[5, 6])


def test_state_dict_round_trip_and_new_head() -> None:
    kwargs = dict(layout="ntu25", in_channels=3, num_classes=5, base_channels=8)
    a, b = create_model("psumnet_leg", **kwargs), create_model("psumnet_leg", **kwargs)
    b.load_state_dict(a.state_dict())  # the MMDG holds only non-persistent index buffers
    x = torch.randn(2, 2, 8, 25, 3)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))
    a.reset_classifier(3)
    assert a(x).shape == (2, 3)


# The released lists (feeders/bone_pairs.py and graph/*.py of skelemoa/psumnet), 1-based, written out as
# the code has them so the literal stream below uses nothing of skelact's part definitions.
RELEASED = {
    ("ntu25", "body"): (
        list(range(25)),
        [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
         (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
         (23, 8), (24, 25), (25, 12)],
        list(range(1, 11)),
    ),
    ("ntu25", "hands"): (
        [20, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24],
        [(2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 5), (8, 1), (9, 8), (10, 9), (11, 10), (12, 11),
         (13, 11)],
        [1, 5, 6, 7, 8, 9],
    ),
    ("ntu25", "legs"): (
        [0, 12, 13, 14, 15, 16, 17, 18, 19],
        [(2, 1), (3, 2), (4, 3), (5, 4), (5, 1), (6, 5), (7, 6), (8, 7)],
        [1, 5, 6, 8],
    ),
    ("shrec22", "hands"): (
        list(range(22)),
        [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 6), (6, 7), (7, 8), (8, 9), (1, 10), (10, 11), (11, 12),
         (12, 13), (1, 14), (14, 15), (15, 16), (16, 17), (1, 18), (18, 19), (19, 20), (20, 21)],
        [1, 5, 6, 7, 8, 9],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("layout", "part"), list(RELEASED))
def test_official_quirks_equal_the_released_feeder_and_model(literal, layout: str, part: str) -> None:
    """The released stream (literal feeder loops, graph from its lists, ModuleList of units) and ours with
    official_quirks, on the same weights through `convert_official_state_dict`: same logits."""
    joints, pairs, rows = RELEASED[(layout, part)]
    persons = 1 if layout == "shrec22" else 2
    torch.manual_seed(0)
    reference = literal.LiteralPSUMNet(joints, pairs, rows, num_classes=14, num_persons=persons)
    v = get_layout(layout).num_joints
    shape = (3, persons, 12, v, 3)
    literal.randomise(reference, calibrate=shape)
    model = create_model(
        "psumnet", layout=layout, in_channels=3, num_classes=14, num_persons=persons, part=part,
        official_quirks=True,
    )  # fmt: skip
    model.load_state_dict(convert_official_state_dict(reference.state_dict()), strict=True)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))  # no joint exactly missing
    reference.eval(), model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    if part == "legs":
        literal.assert_gradients_match(reference, model, convert_official_state_dict, x)


def test_corrected_graph_differs_from_the_released_one_only_where_the_quirks_are(literal) -> None:
    released = literal.literal_spatial_graph(9, RELEASED[("ntu25", "legs")][1])
    quirky = torch.from_numpy(listed_partition(part_layout("ntu25", "legs", official_quirks=True)))
    torch.testing.assert_close(quirky, released)
    corrected = torch.from_numpy(listed_partition(part_layout("ntu25", "legs")))
    changed = (corrected != quirky).any(0).nonzero().tolist()
    assert {j for pair in changed for j in pair} <= {0, 3, 4, 5, 6, 7, 8}  # hips, feet: the shifted chain


# ------------------------------------------------------------------ the released input on every clip


def persons_come_and_go() -> np.ndarray:
    """A stored NTU sample (M, T, V, C), 80 frames: person 0 in frames 0-59, person 1 from frame 10 to the
    end, nobody in frames 30-34 (a gap: the feeders count 75 valid frames, skelact's default keeps 80), and
    person 1's left arm (joints 4-7) missing in frames 40-44."""
    rng = np.random.default_rng(5)
    kp = rng.uniform(0.2, 1.5, size=(2, 80, 25, 3)).astype(np.float32)
    kp[0, 60:] = 0
    kp[1, :10] = 0
    kp[:, 30:35] = 0
    kp[1, 40:45, 4:8] = 0
    return kp


def released_clip(literal, kp: np.ndarray, window: int = 64) -> torch.Tensor:
    """The released test-time feeder's crop of `kp`, zero-padded to 300 frames as its data file is:
    (1, M, window, V, C)."""
    data = np.zeros((kp.shape[3], 300, kp.shape[2], kp.shape[0]), np.float32)
    data[:, : kp.shape[1]] = kp.transpose(3, 1, 2, 0)
    clip = literal.literal_valid_crop_resize(data, literal.literal_valid_frame_num(data), 0.95, window)
    return torch.from_numpy(clip).permute(3, 1, 2, 0)[None]


def skelact_clip(kp: np.ndarray, valid_frames: str, window: int = 64) -> torch.Tensor:
    """skelact's test-time clip of `kp` with PSUMNet's recipe settings: (1, M, window, V, C)."""
    spec = ClipSpec(clip_len=window, sampling="crop_resize", valid_frames=valid_frames)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    clips = make_clips(
        lambda f: (kp[:, f], None), kp.shape[1], spec, get_layout("ntu25"), test_mode=True, rng=rng
    )
    return torch.from_numpy(clips)


@pytest.mark.parametrize("part", ["body", "hands", "legs"])
def test_official_quirks_input_equals_the_released_feeder_where_persons_come_and_go(
    literal, part: str
) -> None:
    """Clip (valid length = count of non-zero frames) and MMDG (bones and motions subtracted at missing
    joints too) equal the released feeder's; the corrected defaults differ on this very sample."""
    kp = persons_come_and_go()
    joints, pairs, rows = RELEASED[("ntu25", part)]
    reference = literal.LiteralPSUMNet(joints, pairs, rows, num_classes=5, num_persons=2)
    released = released_clip(literal, kp)
    ours = skelact_clip(kp, "count")
    torch.testing.assert_close(ours, released, rtol=1e-6, atol=1e-6)
    expected = reference.feeder(ours).permute(0, 4, 2, 3, 1)  # (N, 12, T, V, M) -> (N, M, T, V, 12)
    quirky = PartModalityFeatures("ntu25", part, official_quirks=True)
    torch.testing.assert_close(quirky(ours), expected, rtol=0, atol=1e-6)
    # The sample exercises both rules: the default clip and features differ (body and hands have the same
    # pairs either way, so there only the masking differs).
    assert (skelact_clip(kp, "last") - released).abs().max() > 1e-1
    assert (PartModalityFeatures("ntu25", part)(ours) - expected).abs().max() > 1e-1


def test_official_quirks_logits_equal_the_released_stream_where_persons_come_and_go(
    literal,
) -> None:
    """Legs (the stream with the most quirks), in float64, on skelact's clips of that sample and of it with
    the persons swapped (16 frames, to stay fast: the window changes nothing in the rules)."""
    joints, pairs, rows = RELEASED[("ntu25", "legs")]
    torch.manual_seed(0)
    reference = literal.LiteralPSUMNet(joints, pairs, rows, num_classes=14, num_persons=2)
    literal.randomise(reference, calibrate=(3, 2, 12, 25, 3))
    model = create_model("psumnet_leg", layout="ntu25", in_channels=3, num_classes=14, official_quirks=True)
    model.load_state_dict(convert_official_state_dict(reference.state_dict()), strict=True)
    kp = persons_come_and_go()
    x = torch.cat([skelact_clip(kp, "count", window=16), skelact_clip(kp[::-1].copy(), "count", window=16)])
    torch.testing.assert_close(x[:1], released_clip(literal, kp, window=16), rtol=1e-6, atol=1e-6)
    reference64, model64 = copy.deepcopy(reference).double().eval(), copy.deepcopy(model).double().eval()
    with torch.no_grad():
        torch.testing.assert_close(model64(x.double()), reference64(x.double()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("modality", "channels", "released", "corrected"),
    [
        ("j", 3, 8, 8),
        ("j,b", 6, 8, 8),
        ("j,b,jm", 9, 1, 8),
        ("j,b,jm,bm", 12, 1, 8),
        ("j,b,jm,bm,k,km", 18, 2, 8),
    ],
)
def test_first_relation_width_follows_the_released_samg_rule(
    modality: str, channels: int, released: int, corrected: int
) -> None:
    """Released SAMG: 8 for 3 or 6 input channels, else C // 8 (9 -> 1, where CTR-GCN keeps 8).
    Corrected: 8."""
    kwargs = dict(layout="ntu25", in_channels=3, num_classes=5, modality=modality, base_channels=8)
    quirky = create_model("psumnet_leg", official_quirks=True, **kwargs)
    default = create_model("psumnet_leg", **kwargs)
    assert quirky.in_channels == default.in_channels == channels
    assert quirky.blocks[0].gcn.rel_channels == released and default.blocks[0].gcn.rel_channels == corrected
    later = [b.gcn.in_channels // 8 for b in default.blocks[1:]]  # both rules agree past the first layer
    assert [b.gcn.rel_channels for b in quirky.blocks[1:]] == later
    assert [b.gcn.rel_channels for b in default.blocks[1:]] == later


def test_released_relation_width_zero_is_refused() -> None:
    """2D without scores, joint only: 2 // 8 = 0 in the released rule, which builds nothing."""
    kwargs = dict(layout="coco17", in_channels=2, num_classes=5, num_coords=2, modality="j,b")
    with pytest.raises(ConfigError, match=r"4 // 8 = 0"):
        create_model("psumnet_leg", official_quirks=True, **kwargs)
    assert create_model("psumnet_leg", **kwargs).blocks[0].gcn.rel_channels == 8


def test_official_quirks_nine_channel_stream_equals_the_released_model(literal) -> None:
    """[J, B, JV] into a released `Model` built with in_channels 9: same logits, first relation width 1."""
    joints, pairs, rows = RELEASED[("ntu25", "legs")]
    torch.manual_seed(0)
    reference = literal.LiteralPSUMNet(joints, pairs, rows, num_classes=14, num_persons=2, in_channels=9)
    literal.randomise(reference, calibrate=(3, 2, 12, 25, 3))
    model = create_model(
        "psumnet_leg", layout="ntu25", in_channels=3, num_classes=14, modality="j,b,jm", official_quirks=True
    )
    model.load_state_dict(convert_official_state_dict(reference.state_dict()), strict=True)
    x = torch.randn(3, 2, 12, 25, 3, generator=torch.Generator().manual_seed(1))
    reference.eval(), model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
