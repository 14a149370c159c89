"""`skelact fit --method moco`, then HaLP resumed from its checkpoint, end to end on a small generated store;
and the SSL configs compose to the paper's values (specs/halp.md §5.9, §6.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from skelact.cli.lightning import composed_config
from skelact.cli.main import main
from skelact.methods.pretrained import load_pretrained_encoder

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SMALL = [
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
    "--config", str(CONFIGS / "ssl" / "moco.yaml"),
    "--data.val_split", "null",
    "--data.clip_len", "16",
    "--data.batch_size", "8",
    "--model.model", "stgcn",
    "--model.model_args", '{"base_channels": 4}',
    "--model.queue_size", "64",
    "--trainer.limit_train_batches", "2",
    "--trainer.enable_progress_bar", "false",
    "--trainer.precision", "32-true",
]  # fmt: skip


def test_moco_then_halp_through_the_command_line(synthetic_store_3d: Path, tmp_path: Path) -> None:
    common = [*SMALL, "--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)]
    assert main(["fit", *common, "--trainer.max_epochs", "1"]) == 0
    moco_ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    moco = torch.load(moco_ckpt, map_location="cpu", weights_only=True)
    assert moco["skelact"]["method"] == "moco" and int(moco["state_dict"]["queue.seen"]) == 16

    halp_args = ["--config", str(CONFIGS / "ssl" / "halp.yaml"), "--model.warmup_samples", "16"]
    halp_args += [
        "--model.prototype_window",
        "32",
        "--trainer.max_epochs",
        "2",
        "--ckpt_path",
        str(moco_ckpt),
    ]
    assert main(["fit", *common, *halp_args]) == 0
    halp_ckpt = tmp_path / "version_1" / "checkpoints" / "last.ckpt"
    halp = torch.load(halp_ckpt, map_location="cpu", weights_only=True)
    state = halp["state_dict"]
    assert halp["skelact"]["method"] == "halp" and halp["global_step"] == 4
    assert int(state["queue.seen"]) == 32 and bool(state["bank.ready"])  # counted on from the MoCo phase
    assert torch.allclose(state["bank.prototypes"].norm(dim=1), torch.ones(20))

    net, record = load_pretrained_encoder(halp_ckpt)
    assert record.model == "stgcn" and record.clip.sampling == "crop_resize" and record.num_persons == 2
    keypoint = torch.zeros(2, 2, 16, 25, 3)
    assert net.backbone.forward_features(net.embed(keypoint)).shape == (2, net.backbone.num_features)

    # The protocols take the pre-training checkpoint as it is: k-NN and a linear probe.
    knn_out = tmp_path / "knn"
    assert (
        main(["knn", "--ckpt", str(halp_ckpt), "--store", str(synthetic_store_3d), "--out", str(knn_out)])
        == 0
    )
    assert 0.0 <= json.loads((knn_out / "knn.json").read_text())["rows"][0]["top1"] <= 1.0
    probe = [
        "--method", "linear",
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--model.pretrained", str(halp_ckpt),
        "--model.eval_every", "1",
        "--data.clip_len", "16",
        "--data.batch_size", "8",
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--data.store", str(synthetic_store_3d),
        "--trainer.default_root_dir", str(tmp_path / "linear"),
    ]  # fmt: skip
    assert main(["fit", *probe]) == 0
    probed = torch.load(
        tmp_path / "linear" / "version_0" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True
    )
    pretrained, _ = load_pretrained_encoder(halp_ckpt)  # `net` above ran in train mode: BN statistics moved
    trunk = {k: v for k, v in pretrained.state_dict().items() if not k.startswith("backbone.head.")}
    assert all(torch.equal(v, probed["state_dict"][f"net.{k}"]) for k, v in trunk.items())  # frozen


def test_one_view_data_is_one_clear_error(synthetic_store_3d: Path, tmp_path: Path, capsys) -> None:
    args = [*SMALL, "--data.num_views", "1", "--data.store", str(synthetic_store_3d)]
    code = main(["fit", *args, "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path)])
    assert code != 0 and "needs two views" in capsys.readouterr().err


def _flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and key in ("model", "data", "trainer"):
            out.update(_flat(value, f"{key}."))
        else:
            out[prefix + key] = value
    return out


@pytest.mark.parametrize("phase", ["moco", "halp"])
def test_ntu60_configs_compose_to_the_paper_recipe(phase: str) -> None:
    files = ["data/ntu60_xsub.yaml", "ssl/ntu60_xsub.yaml", "ssl/moco.yaml"]
    files += ["ssl/halp.yaml"] if phase == "halp" else []
    args = [arg for name in files for arg in ("--config", str(CONFIGS / name))]
    config = _flat(composed_config(args))
    expected = {
        "method": phase,
        "lr_reference_batch": 64,
        "model.model": "isc_bigru",
        "model.dim": 128,
        "model.queue_size": 16384,
        "model.key_momentum": 0.999,
        "model.temperature": 0.07,
        "model.lr": 0.01,
        "model.momentum": 0.9,
        "model.weight_decay": 1e-4,
        "model.milestones": [351],
        "data.train_split": "xsub_train_full",
        "data.val_split": None,
        "data.num_views": 2,
        "data.sampling": "crop_resize",
        "data.crop_ratio": [0.1, 1.0],
        "data.clip_len": 64,
        "data.batch_size": 64,
        "trainer.max_epochs": 200 if phase == "moco" else 451,
    }
    if phase == "halp":
        expected |= {
            "model.mu": 2.0,
            "model.num_prototypes": 20,
            "model.prototype_window": 256,
            "model.refresh_every": 10,
            "model.num_positives": 100,
            "model.hardness": 0.8,
            "model.closest_candidates": 20,
            "model.skip_closest": 1,
            "model.halp_form": "alignment",
        }
    assert {key: config.get(key) for key in expected} == expected


def test_nw_ucla_cpu_configs_compose() -> None:
    files = ["trainer/cpu.yaml", "data/nw_ucla.yaml", "ssl/moco.yaml", "ssl/nw_ucla_cpu.yaml"]
    files += ["ssl/halp.yaml", "ssl/nw_ucla_cpu_halp.yaml"]
    config = _flat(composed_config([arg for name in files for arg in ("--config", str(CONFIGS / name))]))
    assert config["method"] == "halp" and config["trainer.max_epochs"] == 120
    assert config["model.model_args"] == {"hidden_size": 128} and config["model.queue_size"] == 1024
    assert config["model.key_momentum"] == 0.99 and config["model.milestones"] == [110]
    assert config["data.train_split"] == "train_full" and config["data.repeat"] == 1
    assert config["data.normalize"] == "minmax" and config["data.num_views"] == 2
