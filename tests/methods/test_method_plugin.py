"""The method plug-in point: a second method, in its own module plus a config, trains, tests and predicts
through `skelact fit | test | predict` with no edit anywhere else."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from skelact.cli.main import main
from skelact.errors import ConfigError
from skelact.inference import Predictor
from skelact.methods.registry import get_method, list_methods
from skelact.methods.supervised import SupervisedClassifier

# A complete, deliberately different method: Adam, no augmentation, a mean-pose linear classifier on top of
# the joint features. It uses only public pieces: the base class, the pipeline record, the test report.
PLUGIN = """
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from skelact.inference.pipeline import InputModel, PipelineRecord, clip_average
from skelact.data.clips import ClipSpec
from skelact.models.inputs.modality import ModalityFeatures
from skelact.methods.base import SkelactMethod
from skelact.methods.registry import register_method
from skelact.methods.test_report import TestReport
from skelact.models.registry import create_model
from skelact.skeleton.layout import get_layout


@register_method("tiny_plugin")
class TinyMethod(SkelactMethod):
    linked_from_data: ClassVar[dict[str, str]] = {
        "layout": "layout_spec", "num_classes": "num_classes", "class_names": "class_names",
        "num_coords": "num_coords", "num_persons": "num_persons",
    }

    def __init__(self, layout: Any = "ntu25", num_classes: int = 2, class_names: list[str] | None = None,
                 num_coords: int = 3, num_persons: int = 1, lr: float = 0.01) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.class_names = list(class_names or [str(i) for i in range(num_classes)])
        self.net = InputModel(
            ModalityFeatures(get_layout(layout), ("j",), num_coords=num_coords),
            create_model("stgcn", layout=get_layout(layout), in_channels=num_coords,
                         num_classes=num_classes, num_persons=num_persons, base_channels=4),
        )

    def pipeline_record(self) -> PipelineRecord | None:
        facts = self.datamodule_facts()
        if not facts:
            return None
        hp = self.hparams
        return PipelineRecord(
            method=self.method_name, model="stgcn", model_args={"base_channels": 4}, layout=dict(hp.layout),
            num_classes=hp.num_classes, num_channels=hp.num_coords, num_coords=hp.num_coords,
            num_persons=hp.num_persons, class_names=tuple(self.class_names), **facts,
        )

    def configure_callbacks(self):
        return [TestReport(worst=0)]

    def training_step(self, batch, batch_idx):
        loss = F.cross_entropy(self.net(batch["keypoint"][:, 0]), batch["label"])
        self.log("train/loss", loss)
        return loss

    def test_step(self, batch, batch_idx):
        n, k = batch["keypoint"].shape[:2]
        logits, probs = clip_average(self.net(batch["keypoint"].flatten(0, 1)).view(n, k, -1))
        return {"logits": logits, "probs": probs, "label": batch["label"], "index": batch["index"]}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
"""


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "tiny_method_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(folder))
    yield "tiny_method_plugin"
    sys.modules.pop("tiny_method_plugin", None)


def test_supervised_is_one_registered_method_among_several() -> None:
    assert "supervised" in list_methods()
    assert get_method("supervised") is SupervisedClassifier


def test_unknown_method_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        get_method("nope")
    with pytest.raises(ConfigError, match="cannot import"):
        get_method("no_such_module_xyz:Thing")


def test_a_new_method_trains_tests_and_predicts_from_its_own_module(
    plugin_module: str, synthetic_store_3d: Path, tmp_path: Path, tiny_training: list[str]
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(f"method: {plugin_module}:TinyMethod\nmodel:\n  lr: 0.02\n")
    args = [
        "--config", str(tiny_training[1]),  # trainer/cpu.yaml
        "--config", str(tiny_training[3]),  # data/synthetic3d.yaml
        "--config", str(config),
        "--data.store", str(synthetic_store_3d),
        "--data.clip_len", "16",
        "--data.max_persons", "1",
        "--trainer.max_epochs", "1",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--trainer.default_root_dir", str(tmp_path / "runs"),
    ]  # fmt: skip
    assert main(["fit", *args]) == 0
    run = tmp_path / "runs" / "version_0"
    assert "TinyMethod" in (run / "config.yaml").read_text()  # the run records which method trained
    ckpt = run / "checkpoints" / "last.ckpt"
    record = torch.load(ckpt, map_location="cpu", weights_only=True)["skelact"]
    assert record["method"] == "tiny_plugin" and record["model_args"] == {"base_channels": 4}

    assert main(["test", *args, "--ckpt_path", str(ckpt)]) == 0  # reported by the TestReport callback
    report = tmp_path / "runs" / "version_1" / "test"
    metrics = json.loads((report / "metrics.json").read_text())
    assert 0.0 <= metrics["top1"] <= 1.0 and (report / "scores.npz").is_file()

    predictor = Predictor.from_checkpoint(ckpt)  # the record alone rebuilds the plug-in's network
    assert predictor.record.method == "tiny_plugin" and predictor.spec.max_persons == 1


def test_command_line_method_overrides_the_config(
    plugin_module: str, synthetic_store_3d: Path, tmp_path: Path, tiny_training: list[str], capsys
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(f"method: {plugin_module}:TinyMethod\n")
    code = main(["fit", "--config", str(config), "--method", "no_such_method", "--data.store", "x"])
    assert code == 2 and "unknown method 'no_such_method'" in capsys.readouterr().err
