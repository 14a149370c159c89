"""Linear probing and fine-tuning from a pre-trained checkpoint, through `skelact fit --method ...`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from skelact.cli.main import main
from skelact.inference.pipeline import load_input_model

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"


def _probe_args(
    method: str, pretrained: Path, store: Path, root: Path, data: str = "synthetic3d"
) -> list[str]:
    return [
        "--method", method,
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / f"{data}.yaml"),
        "--model.pretrained", str(pretrained),
        "--model.lr", "0.5",
        "--model.eval_every", "1",
        "--data.clip_len", "16",
        "--data.batch_size", "16",
        "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--data.store", str(store),
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def _trunk(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith("backbone.head.")}


@pytest.mark.parametrize("method", ["linear", "finetune"])
def test_probe_trains_the_head_and_freezes_the_encoder_only_for_linear(
    method: str, trained_run: dict[str, Path], tmp_path: Path
) -> None:
    args = _probe_args(method, trained_run["ckpt"], trained_run["store"], tmp_path / "runs")
    assert main(["fit", *args]) == 0
    ckpt = tmp_path / "runs" / "version_0" / "checkpoints" / "last.ckpt"
    before, _ = load_input_model(trained_run["ckpt"])
    after, record = load_input_model(ckpt)
    assert record.method == method and record.model == "stgcn"
    old, new = before.state_dict(), after.state_dict()
    assert not torch.equal(old["backbone.head.fc.weight"], new["backbone.head.fc.weight"])
    trunk_same = all(torch.equal(v, new[k]) for k, v in _trunk(old).items())
    # Frozen and in eval mode: weights *and* BatchNorm running statistics stay exactly as pre-trained.
    assert trunk_same is (method == "linear")

    assert main(["test", *args, "--ckpt_path", str(ckpt)]) == 0
    metrics = json.loads(next((tmp_path / "runs").rglob("test/metrics.json")).read_text())
    periodic = metrics["best_periodic_test"]
    assert periodic["every_n_epochs"] == 1 and periodic["epoch"] in (0, 1) and 0 <= periodic["top1"] <= 1
    assert metrics["pretrained"] == str(trained_run["ckpt"]) and metrics["selection"] == "last"
    table = json.loads(next((tmp_path / "runs").rglob(f"test/{method}.json")).read_text())["rows"][0]
    assert table["top1_last"] == metrics["top1"] and table["top1_best_periodic"] == periodic["top1"]
    assert "| top1_last |" in next((tmp_path / "runs").rglob(f"test/{method}.md")).read_text()


def test_a_layout_mismatch_is_one_clear_error(
    trained_run: dict[str, Path], synthetic_store_2d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _probe_args("linear", trained_run["ckpt"], synthetic_store_2d, tmp_path / "runs", "synthetic2d")
    assert main(["fit", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pre-trained on layout 'ntu25'" in err and "coco17" in err
