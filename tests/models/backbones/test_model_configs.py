"""configs/model/{ctrgcn,stgcnpp,psumnet_hand,isc_bigru}.yaml train through the real `skelact fit` on the
synthetic store."""

from pathlib import Path

import pytest
import torch

from skelact.cli.main import main

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@pytest.mark.parametrize(
    ("name", "width"),
    [("ctrgcn", 8), ("stgcnpp", 12), ("psumnet_hand", 8), ("isc_bigru", 8)],
)
def test_model_config_trains_one_tiny_epoch(synthetic_store_3d, tmp_path, name, width):
    width_option = "hidden_size" if name == "isc_bigru" else "base_channels"
    args = [
        "fit",
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--config", str(CONFIGS / "model" / f"{name}.yaml"),
        "--model.model_args", f'{{"{width_option}": {width}}}',
        "--data.store", str(synthetic_store_3d),
        "--data.clip_len", "16",
        "--data.batch_size", "16",
        "--trainer.max_epochs", "1",
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(tmp_path),
    ]  # fmt: skip
    assert main(args) == 0
    ckpt = torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["hyper_parameters"]["model"] == name
    assert any(".gcn." in key or ".twin." in key for key in ckpt["state_dict"])
