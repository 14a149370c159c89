"""configs/model/mmixer_*.yaml: each builds its model for NW-UCLA's facts, and the fused models and their
baselines share their encoders' settings (a comparison then isolates the fusion). The RGB config needs the
`rgb_resnet` temporal encoder and is skipped where that is not registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from skelact.models import create_model
from skelact.models.temporal import list_temporal_encoders

MODEL_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "model"
CONFIGS = sorted(MODEL_CONFIGS.glob("mmixer_*.yaml"))
NW_UCLA = {"layout": "kinect20", "in_channels": 3, "num_classes": 10, "num_persons": 1}


def model_section(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["model"]


def encoders(path: Path) -> list[dict[str, Any]]:
    args = model_section(path)["model_args"]
    if "modalities" in args:
        return list(args["modalities"].values())
    return [{"encoder": args["encoder"], **args["encoder_args"]}]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_each_config_builds_its_model(path: Path) -> None:
    specs = encoders(path)
    missing = {s["encoder"] for s in specs} - set(list_temporal_encoders())
    if missing:
        pytest.skip(f"{path.name} needs the temporal encoder(s) {', '.join(sorted(missing))}")
    section = model_section(path)
    assert section["modality"] == "j"
    model = create_model(section["model"], **NW_UCLA, **section["model_args"])
    assert model.head.num_classes == 10


def test_fused_models_and_baselines_share_their_encoders() -> None:
    by_stream = {}
    for path in CONFIGS:
        for spec in encoders(path):
            key = spec.get("stream", spec["encoder"])
            by_stream.setdefault(key, []).append((path.name, spec))
    assert {"j", "b", "heatmap"} <= set(by_stream)
    for key in ("j", "b", "heatmap", "rgb_resnet"):
        first = by_stream[key][0][1]
        assert all(spec == first for _, spec in by_stream[key]), by_stream[key]


def test_the_rgb_config_names_the_rgb_encoder() -> None:
    names = [spec["encoder"] for spec in encoders(MODEL_CONFIGS / "mmixer_jh_rgb.yaml")]
    assert names == ["gcn", "heatmap", "rgb_resnet"]
