"""The predictor rebuilds training-time input handling from the checkpoint alone (DESIGN.md principle 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skelact.data.store import SkeletonStore
from skelact.evaluation.scores import ScoreFile
from skelact.inference import Predictor


def test_predictor_reproduces_the_test_scores(trained_run: dict[str, Path]) -> None:
    scores = ScoreFile.read(trained_run["test_dir"] / "scores.npz")
    predictor = Predictor.from_checkpoint(trained_run["ckpt"])
    store = SkeletonStore(trained_run["store"])
    predictions = predictor.predict_store(store, "test", top_k=12)
    assert [p.sample_id for p in predictions] == scores.sample_ids.tolist()
    for p, probs in zip(predictions, scores.probs, strict=True):
        rebuilt = np.zeros(12, dtype=np.float32)
        rebuilt[p.indices] = p.probabilities
        np.testing.assert_allclose(rebuilt, probs, atol=1e-5)


def test_checkpoint_carries_the_pipeline(trained_run: dict[str, Path]) -> None:
    checkpoint = torch.load(trained_run["ckpt"], map_location="cpu", weights_only=True)
    record = checkpoint["skelact"]
    assert record["layout"]["name"] == "ntu25"
    assert record["modality"] == ["j"]
    assert record["class_names"][0] == "wave" and len(record["class_names"]) == 12
    assert record["data"]["clip"]["clip_len"] == 16
    assert record["data"]["clip"]["normalize"] == "center_align"
    assert record["model"] == "stgcn" and record["model_args"] == {"base_channels": 8}


def test_predict_sample_matches_predict_store(trained_run: dict[str, Path]) -> None:
    predictor = Predictor.from_checkpoint(trained_run["ckpt"])
    store = SkeletonStore(trained_run["store"])
    index = int(store.split("test")[0])
    from_store = predictor.predict_store(store, "test", top_k=3)[0]
    # float16 storage: the in-memory sample is what the store returns, so the results agree.
    from_sample = predictor.predict_sample(store[index], top_k=3)
    assert from_sample.indices == from_store.indices
    np.testing.assert_allclose(from_sample.probabilities, from_store.probabilities, atol=1e-6)


def test_a_store_of_other_class_names_is_scored_in_the_checkpoints_classes(
    trained_run: dict[str, Path], tmp_path: Path
) -> None:
    """The same clips under reversed class names: label i now names the checkpoint's class 11 - i."""
    from skelact.data.store import write_store

    store = SkeletonStore(trained_run["store"])
    renamed = SkeletonStore(
        write_store(
            tmp_path / "renamed", iter(store), layout=store.layout, class_names=store.class_names[::-1]
        )
    )
    predictions = Predictor.from_checkpoint(trained_run["ckpt"]).predict_store(renamed, top_k=1)
    assert [p.label for p in predictions] == [11 - int(label) for label in store.labels]


def test_a_store_prepared_for_another_normalisation_is_refused(
    trained_run: dict[str, Path], tmp_path: Path
) -> None:
    """An NTU `ctrgcn` store (normalised offline, `none` online) fed to a `center_align` checkpoint."""
    from skelact.data.store import write_store
    from skelact.errors import FormatError

    store = SkeletonStore(trained_run["store"])
    other = write_store(
        tmp_path / "other",
        iter(store),
        layout=store.layout,
        class_names=store.class_names,
        provenance={"preset": "ctrgcn", "online_normalize": "none"},
    )
    predictor = Predictor.from_checkpoint(trained_run["ckpt"])
    with pytest.raises(FormatError) as caught:
        predictor.predict_store(SkeletonStore(other))
    assert "prepared (preset 'ctrgcn') for normalize 'none'" in str(caught.value)
    assert "the checkpoint normalises with 'center_align'" in str(caught.value)


def test_the_nw_ucla_default_pipeline_is_rebuilt_by_the_predictor(
    synthetic_store_3d: Path, tmp_path: Path
) -> None:
    """configs/recipes/nw_ucla.yaml's official feeder pipeline (sorted_random frames, view_minmax) is the
    NW-UCLA default since issue 20: the checkpoint alone must reproduce what `skelact test` scored."""
    from skelact.cli.main import main

    configs = Path(__file__).resolve().parents[2] / "configs"
    files = ["trainer/cpu", "data/synthetic3d", "model/stgcn", "recipes/ctrgcn", "recipes/nw_ucla"]
    common = [arg for name in files for arg in ("--config", str(configs / f"{name}.yaml"))]
    common += ["--model.model_args", '{"base_channels": 8}', "--trainer.precision", "32-true"]
    common += ["--data.clip_len", "16", "--data.batch_size", "16", "--data.repeat", "1"]
    common += ["--trainer.max_epochs", "1", "--data.num_workers", "0"]
    common += ["--trainer.enable_progress_bar", "false"]
    common += ["--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)]
    assert main(["fit", *common]) == 0
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    assert main(["test", *common, "--ckpt_path", str(ckpt)]) == 0
    predictor = Predictor.from_checkpoint(ckpt)
    assert (predictor.spec.sampling, predictor.spec.normalize) == ("sorted_random", "view_minmax")
    scores = ScoreFile.read(tmp_path / "version_1" / "test" / "scores.npz")
    predictions = predictor.predict_store(SkeletonStore(synthetic_store_3d), "test", top_k=12)
    for p, probs in zip(predictions, scores.probs, strict=True):
        rebuilt = np.zeros(12, dtype=np.float32)
        rebuilt[p.indices] = p.probabilities
        np.testing.assert_allclose(rebuilt, probs, atol=1e-5)
