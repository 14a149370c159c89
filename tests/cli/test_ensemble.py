"""`skelact ensemble`: the printed table, presets, the fused file, one-line errors, validation-only search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.evaluation.scores import ScoreFile

CLASSES = tuple(f"action {c}" for c in range(6))
MODALITIES = ("j", "b", "jm", "bm")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_streams(
    folder: Path, split: str, seed: int, n: int = 40, labels: np.ndarray | None = None, record: bool = True
) -> tuple[list[Path], np.ndarray]:
    """Four streams of decreasing quality on `n` samples of `split`, ids distinct per split."""
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    true = rng.integers(0, k, n)
    strength = (0.8, 0.6, 0.3, 0.1)  # hard enough that the searched weights are not all equal
    paths = []
    for modality, s in zip(MODALITIES, strength, strict=True):
        logits = s * 2 * np.eye(k)[true] + rng.normal(0, 1, (n, k))
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        meta = {"split": split, "modality": modality} if record else {}
        scores = ScoreFile(
            sample_ids=np.array([f"{split}_{i:03d}" for i in range(n)]),
            labels=true if labels is None else labels,
            logits=logits.astype(np.float32),
            probs=probs.astype(np.float32),
            class_names=CLASSES,
            meta=meta,
        )
        paths.append(scores.write(folder / split / modality / "scores.npz"))
    return paths, true


def fused_top1(paths: list[Path], weights: list[float], mode: str) -> float:
    files = [ScoreFile.read(p) for p in paths]
    field = [f.probs if mode == "probs" else f.logits for f in files]
    fused = sum(w * f.astype(np.float64) for w, f in zip(weights, field, strict=True))
    return float((fused.argmax(1) == files[0].labels).mean())


def test_prints_each_stream_and_the_fused_accuracy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=0)
    code, out, _ = run(capsys, "ensemble", *map(str, paths), "--preset", "pyskl")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["stream", "weight", "top-1", "top-5", "mean", "class", "file"]
    assert [line.split()[:2] for line in lines[1:5]] == [["j", "2"], ["b", "2"], ["jm", "1"], ["bm", "1"]]
    expected = fused_top1(paths, [2, 2, 1, 1], "probs")
    assert lines[5].split()[:2] == ["fused", f"{expected * 100:.2f}%"]
    single = ScoreFile.read(paths[0])
    assert lines[1].split()[2] == f"{(single.probs.argmax(1) == single.labels).mean() * 100:.2f}%"
    assert "softmax" in out and "2:2:1:1 (preset pyskl)" in out and "40 test samples" in out


def test_json_output_and_fused_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=1)
    out_file = tmp_path / "fused" / "scores.npz"
    code, out, _ = run(
        capsys, "ensemble", *map(str, paths), "--preset", "ctrgcn", "--out", str(out_file), "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["fuse"] == "logits" and result["weights"] == [0.6, 0.6, 0.4, 0.4]
    assert result["fused"]["top1"] == pytest.approx(fused_top1(paths, [0.6, 0.6, 0.4, 0.4], "logits"))
    assert [s["modality"] for s in result["streams"]] == list(MODALITIES)
    fused = ScoreFile.read(out_file)
    assert result["out"] == str(out_file)
    assert fused.meta["split"] == "test" and fused.meta["ensemble"]["weights_from"] == "preset ctrgcn"
    assert float((fused.probs.argmax(1) == fused.labels).mean()) == pytest.approx(result["fused"]["top1"])
    assert sorted(p.name for p in out_file.parent.iterdir()) == ["scores.npz"]  # atomic: no temporary left


def test_given_weights_and_fusion_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=2)
    code, out, _ = run(
        capsys, "ensemble", *map(str, paths), "--weights", "1,0,0,3", "--fuse", "logits", "--json"
    )
    assert code == 0
    assert json.loads(out)["fused"]["top1"] == pytest.approx(fused_top1(paths, [1, 0, 0, 3], "logits"))


def test_files_without_modality_use_the_preset_by_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=3, record=False)
    code, out, _ = run(capsys, "ensemble", *map(str, paths), "--preset", "pyskl")
    assert code == 0
    assert "note: the score files record no modality; preset pyskl assumes" in out
    assert [line.split()[:2] for line in out.splitlines()[1:5]] == [
        ["#1", "2"],
        ["#2", "2"],
        ["#3", "1"],
        ["#4", "1"],
    ]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--weights", "1,1"], "2 weights for 4 score files"),
        (["--weights", "a,b,c,d"], "not a list of numbers"),
        (["--weights", "1,1,1,1", "--preset", "pyskl"], "not allowed with argument"),
        (["--search-on", "val"], "--val-scores"),
        (["--val-scores", "x.npz"], "only used with --search-on val"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], fragment: str
) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=4)
    code, out, err = run(capsys, "ensemble", *map(str, paths), *extra)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


def test_misaligned_files_are_a_one_line_error_naming_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paths, _ = write_streams(tmp_path, "test", seed=5)
    other, _ = write_streams(tmp_path / "other", "test", seed=5, n=39)
    code, _, err = run(capsys, "ensemble", str(paths[0]), str(other[1]))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cover different samples" in err and str(paths[0]) in err and str(other[1]) in err


def test_weight_search_uses_validation_labels_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    test_paths, true = write_streams(tmp_path, "test", seed=6)
    val_paths, _ = write_streams(tmp_path, "val", seed=7, n=60)
    code, out, _ = run(
        capsys,
        "ensemble",
        *map(str, test_paths),
        "--search-on",
        "val",
        "--val-scores",
        *map(str, val_paths),
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["weights_from"] == "searched on validation scores"
    assert len(set(result["weights"])) > 1  # a real choice, not a tie broken towards equal weights
    assert result["search"]["val_files"] == list(map(str, val_paths))
    assert result["fused"]["top1"] == pytest.approx(fused_top1(test_paths, result["weights"], "probs"))

    # The same test scores with garbage labels: the chosen weights do not move.
    garbage = (true + 1 + np.random.default_rng(0).integers(0, 4, len(true))) % len(CLASSES)
    garbage_paths, _ = write_streams(tmp_path / "garbage", "test", seed=6, labels=garbage)
    # Validation files given in another order are matched to the test streams by modality.
    code, out, _ = run(
        capsys,
        "ensemble",
        *map(str, garbage_paths),
        "--search-on",
        "val",
        "--val-scores",
        *map(str, reversed(val_paths)),
        "--json",
    )
    assert code == 0
    assert json.loads(out)["weights"] == result["weights"]


def test_weight_search_refuses_test_scores_as_validation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    test_paths, _ = write_streams(tmp_path, "test", seed=8)
    code, _, err = run(
        capsys, "ensemble", *map(str, test_paths), "--search-on", "val", "--val-scores", *map(str, test_paths)
    )
    assert code == 2 and "'test' split" in err


def test_search_prints_the_chosen_weights(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    test_paths, _ = write_streams(tmp_path, "test", seed=9)
    val_paths, _ = write_streams(tmp_path, "val", seed=10)
    code, out, _ = run(
        capsys, "ensemble", *map(str, test_paths), "--search-on", "val", "--val-scores", *map(str, val_paths)
    )
    assert code == 0
    assert "(searched on validation scores)" in out and "test labels were not used" in out


def test_end_to_end_on_score_files_written_by_skelact_test(
    capsys: pytest.CaptureFixture[str], trained_run: dict[str, Path], tmp_path: Path
) -> None:
    """Joint stream from the shared tiny run, bone stream trained here; test and val scores of both."""
    configs = Path(__file__).resolve().parents[2] / "configs"
    tiny = [
        "--config", str(configs / "trainer" / "cpu.yaml"),
        "--config", str(configs / "data" / "synthetic3d.yaml"),
        "--config", str(configs / "model" / "stgcn.yaml"),
        "--model.model_args", '{"base_channels": 8}',
        "--data.clip_len", "16",
        "--data.batch_size", "16",
        "--trainer.max_epochs", "1",
        "--trainer.enable_progress_bar", "false",
        "--data.store", str(trained_run["store"]),
        "--trainer.default_root_dir", str(tmp_path),
    ]  # fmt: skip
    assert main(["fit", *tiny, "--model.modality", "b"]) == 0
    bone_run = tmp_path / "version_0"
    written = {}
    for stream, run_dir, modality in (("j", trained_run["run_dir"], "j"), ("b", bone_run, "b")):
        for split in ("test", "val"):
            out = tmp_path / f"{stream}_{split}"
            args = [
                *tiny,
                "--model.modality",
                modality,
                "--data.test_split",
                split,
                "--model.report_dir",
                str(out),
            ]
            assert main(["test", *args, "--ckpt_path", str(run_dir)]) == 0
            written[stream, split] = out / "scores.npz"
    capsys.readouterr()
    assert ScoreFile.read(written["b", "val"]).meta["split"] == "val"

    test_files = [str(written["b", "test"]), str(written["j", "test"])]
    code, out, _ = run(capsys, "ensemble", *test_files, "--preset", "pyskl", "--json")
    assert code == 0
    result = json.loads(out)
    assert [s["modality"] for s in result["streams"]] == ["b", "j"] and result["weights"] == [2.0, 2.0]
    assert result["fused"]["top1"] == pytest.approx(fused_top1(list(map(Path, test_files)), [1, 1], "probs"))

    val_files = [str(written["j", "val"]), str(written["b", "val"])]
    code, out, _ = run(
        capsys, "ensemble", *test_files, "--search-on", "val", "--val-scores", *val_files, "--json"
    )
    assert code == 0
    search = json.loads(out)["search"]
    assert search["val_files"] == val_files[::-1]  # matched to the test files' streams by modality
    code, _, err = run(capsys, "ensemble", *test_files, "--search-on", "val", "--val-scores", *test_files)
    assert code == 2 and "'test' split" in err


def test_psumnet_preset_fuses_part_streams_by_recorded_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Three part streams that all read joints ("j"), told apart by the model they record."""
    rng = np.random.default_rng(3)
    k, n = len(CLASSES), 30
    true = rng.integers(0, k, n)
    paths, logits = [], {}
    for model in ("psumnet_hand", "psumnet_leg", "psumnet_body"):
        logits[model] = (np.eye(k)[true] + rng.normal(0, 1, (n, k))).astype(np.float32)
        probs = np.exp(logits[model]) / np.exp(logits[model]).sum(1, keepdims=True)
        scores = ScoreFile(
            sample_ids=np.array([f"s{i}" for i in range(n)]),
            labels=true,
            logits=logits[model],
            probs=probs.astype(np.float32),
            class_names=CLASSES,
            meta={"split": "test", "modality": "j", "model": model},
        )
        paths.append(scores.write(tmp_path / model / "scores.npz"))
    out_file = tmp_path / "fused.npz"
    args = ["ensemble", *map(str, paths), "--preset", "psumnet_ntu60_xsub", "--json", "--out", str(out_file)]
    code, out, _ = run(capsys, *args)
    result = json.loads(out)
    assert code == 0 and result["fuse"] == "logits" and result["weights"] == [1.8, 0.7, 2.0]
    assert [s["name"] for s in result["streams"]] == ["psumnet_hand", "psumnet_leg", "psumnet_body"]
    expected = (
        2.0 * logits["psumnet_body"] + 1.8 * logits["psumnet_hand"] + 0.7 * logits["psumnet_leg"]
    ) / 4.5
    np.testing.assert_allclose(ScoreFile.read(out_file).logits, expected, rtol=1e-5)
    assert result["fused"]["top1"] == pytest.approx(float((expected.argmax(1) == true).mean()))
    code, out, _ = run(capsys, *args[:-3], "--json", "--fuse", "probs")
    assert code == 0 and json.loads(out)["fuse"] == "probs"


def test_psumnet_streams_end_to_end(
    capsys: pytest.CaptureFixture[str], synthetic_store_3d: Path, tmp_path: Path
) -> None:
    """Three tiny part streams trained and tested through the command line; the preset finds each score
    file's stream by the model it records."""
    configs = Path(__file__).resolve().parents[2] / "configs"
    files = {}
    for stream in ("leg", "body", "hand"):
        root = tmp_path / stream
        tiny = [
            "--config", str(configs / "trainer" / "cpu.yaml"),
            "--config", str(configs / "data" / "synthetic3d.yaml"),
            "--config", str(configs / "model" / f"psumnet_{stream}.yaml"),
            "--model.model_args", '{"base_channels": 8}',
            "--data.clip_len", "16",
            "--data.batch_size", "16",
            "--trainer.max_epochs", "1",
            "--trainer.enable_progress_bar", "false",
            "--data.store", str(synthetic_store_3d),
            "--trainer.default_root_dir", str(root),
        ]  # fmt: skip
        assert main(["fit", *tiny]) == 0
        out = root / "scores"
        assert (
            main(["test", *tiny, "--model.report_dir", str(out), "--ckpt_path", str(root / "version_0")]) == 0
        )
        files[stream] = out / "scores.npz"
        assert ScoreFile.read(files[stream]).meta["model"] == f"psumnet_{stream}"
    capsys.readouterr()
    code, out, _ = run(
        capsys, "ensemble", *map(str, files.values()), "--preset", "psumnet_ntu60_xsub", "--json"
    )
    result = json.loads(out)
    assert code == 0 and result["weights"] == [0.7, 2.0, 1.8] and result["fuse"] == "logits"
    assert [s["name"] for s in result["streams"]] == ["psumnet_leg", "psumnet_body", "psumnet_hand"]
    assert result["fused"]["top1"] == pytest.approx(
        fused_top1(list(files.values()), [0.7, 2.0, 1.8], "logits")
    )
