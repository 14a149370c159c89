"""The 3D deformable transformer: parameter count, shapes for 1 and 2 persons on 2D and 3D layouts, the
switches, Option B's joint positions in the volume, argument checks, and one tiny `skelact fit` + `test`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from skelact.cli.main import main
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError
from skelact.inference.predictor import Predictor
from skelact.models import create_model
from skelact.models.backbones.deformable3d import Deformable3D
from skelact.models.layers.deformable_sampling import sample_volume

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
TINY = {"dim": 16, "heads": 2, "size": 16, "volume_width": 0.125, "mlp_ratio": 1.0}


def _net(layout: str = "ntu25", in_channels: int = 3, num_coords: int = 3, **options: object) -> Deformable3D:
    torch.manual_seed(0)
    model = create_model(
        "deformable3d",
        layout=layout,
        in_channels=in_channels,
        num_classes=7,
        num_persons=2,
        num_coords=num_coords,
        **{**TINY, **options},  # type: ignore[arg-type]
    )
    assert isinstance(model, Deformable3D)
    return model


def test_parameter_count_at_the_defaults() -> None:
    model = create_model("deformable3d", layout="kinect20", in_channels=3, num_classes=10, num_persons=1)
    assert sum(p.numel() for p in model.parameters()) == 165_864


@pytest.mark.parametrize(
    ("config", "layout", "classes", "persons", "params"),
    [
        ("deformable3d.yaml", "kinect20", 10, 1, 165_864),
        ("deformable3d_paper.yaml", "coco17", 60, 2, 11_801_896),
    ],
)
def test_the_configs_build_the_documented_models(
    config: str, layout: str, classes: int, persons: int, params: int
) -> None:
    """The parameter counts docs/methods/deformable3d.md and the builder's docstring state."""
    options = yaml.safe_load((CONFIGS / "model" / config).read_text())["model"]["model_args"]
    model = create_model(
        "deformable3d", layout=layout, in_channels=3, num_classes=classes, num_persons=persons, **options
    )
    assert sum(p.numel() for p in model.parameters()) == params


@pytest.mark.parametrize(
    ("layout", "in_channels", "num_coords", "persons"),
    [("ntu25", 3, 3, 1), ("ntu25", 3, 3, 2), ("coco17", 3, 2, 1), ("coco17", 3, 2, 2), ("kinect20", 3, 3, 1)],
)
def test_forward_and_backward_shapes(layout: str, in_channels: int, num_coords: int, persons: int) -> None:
    model = _net(layout, in_channels, num_coords)
    x = torch.rand(2, persons, 9, model.layout.num_joints, in_channels)
    features = model.forward_features(x)
    assert features.shape == (2, model.num_features) and model.num_features == 2 * 16
    logits = model.forward_head(features)
    assert logits.shape == (2, 7)
    logits.sum().backward()
    offsets = model.blocks[0].deformable.search.offset[-1].weight  # type: ignore[union-attr]
    assert offsets.grad is not None and offsets.grad.abs().sum() > 0
    assert model.coord_embed.weight.grad is not None and model.coord_embed.weight.grad.abs().sum() > 0
    assert model.inputs == ("keypoint",)


@pytest.mark.parametrize(
    "options",
    [
        {"pose_tokens": "volume"},
        {"joint_grouping": "parts"},
        {"fusion": "sum"},
        {"temporal_partition": "chunked", "temporal_groups": 4},
        {"use_volume": False},
        {"use_pose": False},
        {"volume_blocks": [1, 1, 1], "volume_temporal_stride": 2, "sample_stride": [1, 1, 1]},
    ],
)
def test_switches_build_and_run(options: dict[str, object]) -> None:
    model = _net(**options)
    logits = model(torch.rand(2, 2, 10, 25, 3))
    assert logits.shape == (2, 7) and torch.isfinite(logits).all()
    assert (model.volume is None) == (options.get("use_volume") is False)


def test_pose_tokens_option_b_read_the_volume_at_each_joint() -> None:
    model = _net(pose_tokens="volume", volume_temporal_stride=2, volume_frame_step=1)
    assert model.volume is not None
    x = torch.rand(1, 1, 6, 25, 3)
    points = model.volume.joint_voxels(x)  # (1, 1, 6, 25, 3) as (t, y, x)
    col, row, _ = model.volume.render.pixel_coordinates(x)
    torch.testing.assert_close(points[..., 1] * 4, row)  # two stride-2 stages: pixel / 4
    torch.testing.assert_close(points[..., 2] * 4, col)
    assert points[0, 0, :, 0, 0].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]  # frame / temporal stride
    stepped = _net(pose_tokens="volume", volume_frame_step=2).volume  # every 2nd frame rendered
    assert stepped is not None and stepped.joint_voxels(x)[0, 0, :, 0, 0].tolist() == [
        0.0,
        0.5,
        1.0,
        1.5,
        2.0,
        2.5,
    ]
    assert stepped(x, {}).shape[2] == 3
    # a joint's heatmap peak lies at its position: the rendered heatmaps sampled there read the peak
    heatmaps = model.volume.render(x)  # (1, 25, 6, 16, 16)
    centre = torch.stack([torch.arange(6.0), row[0, 0, :, 3], col[0, 0, :, 3]], dim=-1).round().unsqueeze(0)
    at_joint = sample_volume(heatmaps, centre)[0, :, 3]
    assert (at_joint > 0.2).all()


def test_explain_gives_joint_frame_and_sampling_maps_and_switches_recording_off() -> None:
    model = _net(depth=2, joint_window=30).eval()  # one window holding every joint
    x = torch.rand(2, 2, 6, 25, 3)
    out = model.explain(x)
    torch.testing.assert_close(out["logits"], model(x))
    assert out["joints"].shape == out["frames"].shape == (2, 2, 6, 25)
    assert out["points"].shape == (2, 2, 2, 2 * 2 * 2, 3)  # blocks, groups, 3 x 4 x 4 volume at stride 2
    # with one window, each frame's cross-to-joint weights plus the cross-to-cross weights make one softmax
    assert (out["joints"] > 0).all() and (out["joints"].sum(dim=-1) < 1).all()
    assert (out["frames"] > 0).all() and (out["frames"] < 1).all()
    attention = model.blocks[0].joint.attention  # type: ignore[union-attr]
    assert not attention.keep_attention and attention.last_attention is None
    assert "joints" not in _net(use_pose=False).explain(x) and "points" not in _net(use_volume=False).explain(
        x
    )


def test_bf16_autocast_trains_with_sampling_positions_in_float32() -> None:
    model = _net(pose_tokens="volume")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(torch.rand(2, 2, 8, 25, 3))
    assert torch.isfinite(logits).all()
    logits.float().sum().backward()
    offsets = model.blocks[0].deformable.search.offset[-1].weight  # type: ignore[union-attr]
    assert offsets.grad is not None and offsets.grad.abs().sum() > 0


def test_the_rgb_volume_reads_person_crops() -> None:
    """volume "rgb": the model reads keypoints and rgb crops; 112-pixel crops give a 7 x 7 grid (ResNet
    stride 16); the crops change the logits; Option B and wrong crop sizes are refused."""
    model = _net(volume="rgb", size=32).eval()
    assert model.inputs == ("keypoint", "rgb")
    assert _net(volume="rgb", size=112).volume.grid == (7, 7)  # type: ignore[union-attr]
    keypoint = torch.rand(2, 2, 8, 25, 3)
    crops = torch.randint(0, 256, (2, 8, 3, 32, 32), dtype=torch.uint8)
    logits = model(keypoint, rgb=crops)
    assert logits.shape == (2, 7)
    assert not torch.allclose(logits, model(keypoint, rgb=255 - crops))
    with pytest.raises(FormatError, match="rgb crops"):
        model(keypoint, rgb=torch.zeros(2, 8, 3, 16, 16))
    with pytest.raises(ConfigError, match="rgb"):
        _net(volume="rgb", pose_tokens="volume")
    with pytest.raises(ConfigError, match="unknown appearance volume"):
        _net(volume="depth")


def test_bad_arguments_and_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="num_coords"):
        _net(in_channels=6)
    with pytest.raises(ConfigError, match="both off"):
        _net(use_volume=False, use_pose=False)
    with pytest.raises(ConfigError, match="needs both streams"):
        _net(pose_tokens="volume", use_volume=False)
    with pytest.raises(FormatError, match="max_frames"):
        _net(max_frames=8)(torch.rand(1, 1, 9, 25, 3))
    with pytest.raises(FormatError, match="persons"):
        _net()(torch.rand(1, 3, 4, 25, 3))


def test_onnx_export_matches_eager_with_nonzero_offsets(tmp_path: Path) -> None:
    """The generic export test (tests/inference/test_export.py) runs at zero offsets; here the offsets are
    random, so the exported sampler reads between voxels and off the volume's edges as eager does, in 3DTS
    and for the pose tokens of Option B."""
    onnxruntime = pytest.importorskip("onnxruntime", reason="the export extra is not installed")
    from skelact.inference.export import export_model
    from skelact.inference.pipeline import InputModel
    from skelact.models.inputs.modality import ModalityFeatures

    net = InputModel(ModalityFeatures("ntu25", "j", num_coords=3), _net(pose_tokens="volume")).eval()
    for block in net.backbone.blocks:
        torch.nn.init.normal_(block.deformable.search.offset[-1].weight, std=1.0)
    x = torch.rand(3, 2, 12, 25, 3) - 0.5
    x[0, 1] = 0.0
    with torch.no_grad():
        eager = net(x).numpy()
    path = export_model(net, tmp_path / "m.onnx", "onnx", clip_len=12, persons=2)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"keypoint": x.numpy()})[0], eager, atol=1e-4, rtol=0)
    assert np.abs(eager).max() > 1e-3  # not a trivially zero output


def test_deformable3d_trains_tests_and_predicts_from_the_cli(
    synthetic_store_3d: Path, tmp_path: Path
) -> None:
    common = [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--config", str(CONFIGS / "model" / "deformable3d.yaml"),
        "--model.model_args", json.dumps(TINY),
        "--data.store", str(synthetic_store_3d),
        "--data.clip_len", "8",
        "--data.batch_size", "16",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--trainer.default_root_dir", str(tmp_path),
    ]  # fmt: skip
    assert main(["fit", *common, "--trainer.max_epochs", "1"]) == 0
    checkpoint = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    assert main(["test", *common, "--ckpt_path", str(checkpoint), "--model.report_worst", "0"]) == 0
    metrics = json.loads(next(tmp_path.rglob("metrics.json")).read_text())
    assert 0.0 <= metrics["top1"] <= 1.0
    predictor = Predictor.from_checkpoint(checkpoint)
    assert predictor.record.model == "deformable3d" and predictor.record.inputs == ("keypoint",)
    assert dict(predictor.record.model_args)["dim"] == 16
    moving = np.random.default_rng(0).normal(size=(20, 25, 3)).astype(np.float32)
    prediction = predictor.predict_array(moving, top_k=2)
    assert len(prediction.classes) == 2 and 0 < sum(prediction.probabilities) <= 1 + 1e-6

    # Explanations: saved by `skelact predict --explain`, drawn by `skelact render --explain`.
    maps = tmp_path / "maps.npz"
    args = ["--ckpt", str(checkpoint), "--input", str(synthetic_store_3d), "--split", "test"]
    assert main(["predict", *args, "--explain", str(maps)]) == 0
    saved = np.load(maps)
    store = SkeletonStore(synthetic_store_3d)
    test_ids = [store.sample_ids[i] for i in store.split("test")]
    assert list(saved["sample_ids"]) == test_ids
    n, _, t, v = saved["joints"].shape
    assert (n, t, v) == (len(test_ids), 8, 25) and saved["frames"].shape == saved["joints"].shape
    assert np.isfinite(saved["joints"]).all() and (saved["joints"] >= 0).all()
    first = predictor.predict_sample(store[int(store.split("test")[0])], top_k=3)
    # the maps come from the same forward pass as the prediction
    np.testing.assert_allclose(saved["probabilities"][0][first.indices], first.probabilities, atol=1e-5)
    gif = tmp_path / "explained.gif"
    assert (
        main(["render", str(synthetic_store_3d), "--ckpt", str(checkpoint), "--explain", "--out", str(gif)])
        == 0
    )
    assert gif.stat().st_size > 0
