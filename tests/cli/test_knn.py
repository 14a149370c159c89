"""`skelact knn`: the features of a trained encoder retrieve their class better than chance, and the result
tables land where they should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from skelact.cli.main import main
from skelact.data.store import SkeletonStore
from skelact.evaluation.knn import knn_top1
from skelact.inference.predictor import Predictor


def test_knn_command_matches_the_library_and_writes_tables(
    trained_run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "knn"
    args = [
        "knn",
        "--ckpt",
        str(trained_run["ckpt"]),
        "--store",
        str(trained_run["store"]),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    table = json.loads((out / "knn.json").read_text())
    top1 = table["rows"][0]["top1"]
    assert f"top-1 {top1:.4f}" in capsys.readouterr().out
    assert "| top1 |" in (out / "knn.md").read_text()

    predictor = Predictor.from_checkpoint(trained_run["ckpt"])
    store = SkeletonStore(trained_run["store"])
    gallery, gallery_labels = predictor.embed_store(store, "train")
    queries, query_labels = predictor.embed_store(store, "test")
    assert gallery.shape[1] == table["feature_dim"] == predictor.net.backbone.num_features
    assert top1 == pytest.approx(knn_top1(gallery, gallery_labels, queries, query_labels))
    # Each query's own features in the gallery are found at similarity 1: a sanity check of the embedding.
    assert knn_top1(queries, query_labels, queries, query_labels) == 1.0
    assert not torch.isnan(gallery).any()


def test_knn_names_an_unknown_split(
    trained_run: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["knn", "--ckpt", str(trained_run["ckpt"]), "--store", str(trained_run["store"])]
    assert main([*args, "--query-split", "nope", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
