"""Two-process DDP on CPU (gloo): identical weights on both ranks, disjoint epoch-dependent data shards, and
validation/test metrics and the score file combined over both ranks.

The test runs this file as a script (`python test_ddp.py STORE OUT`), the way users launch DDP: Lightning's
"ddp" strategy then starts rank 1 by re-running the same command. Spawning from inside pytest would need
every object to be picklable by module name, which pytest's importlib mode does not give.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.samplers import EpochSampler
from skelact.evaluation.scores import ScoreFile
from skelact.methods.supervised import SupervisedClassifier

EPOCHS, STEPS, BATCH = 2, 2, 4


def make(store: str, report_dir: Path | None) -> tuple[SupervisedClassifier, SkeletonDataModule]:
    data = SkeletonDataModule(store, clip_len=12, batch_size=BATCH, normalize="center_align")
    model = SupervisedClassifier.for_data(
        data,
        model_args={"base_channels": 8},
        augment={"rotate": 0.1},
        report_dir=None if report_dir is None else str(report_dir),
    )
    return model, data


def trainer(devices: int, **kwargs: Any) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        max_epochs=EPOCHS,
        limit_train_batches=STEPS,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        **kwargs,
    )


class Recorder(L.Callback):
    """What one rank saw: sample indices per stage and epoch, and the sampler's epoch."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] = {}
        self.sampler_epochs: list[int] = []

    def _add(self, key: str, batch: dict[str, torch.Tensor]) -> None:
        self.seen.setdefault(key, []).extend(batch["index"].tolist())

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        sampler = trainer.train_dataloader.sampler
        assert isinstance(sampler, EpochSampler), type(sampler)  # not replaced by Lightning's wrapper
        self.sampler_epochs.append(sampler.epoch)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self._add(f"train{trainer.current_epoch}", batch)

    def on_validation_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, *args: Any) -> None:
        if not trainer.sanity_checking:
            self._add(f"val{trainer.current_epoch}", batch)

    def on_test_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, *args: Any) -> None:
        self._add("test", batch)


def run_ranks(store: str, out: Path, mode: str) -> None:
    """The body of each DDP process (rank 0 is the launched script, rank 1 its re-run by Lightning)."""
    torch.set_num_threads(1)
    L.seed_everything(0)
    if mode == "default_report_dir":  # `skelact test` without report_dir: scores go to <log dir>/test
        model, data = make(store, None)
        tester = trainer(2, default_root_dir=out)
        tester.test(model, datamodule=data)
        (out / f"rank{tester.global_rank}.json").write_text("{}")
        return
    model, data = make(store, out / "test")
    recorder = Recorder()
    fit = trainer(2, callbacks=[recorder])
    fit.fit(model, datamodule=data)
    rank = fit.global_rank
    torch.save(model.state_dict(), out / f"weights{rank}.pt")
    validated = dict(fit.callback_metrics)
    fit.test(model, datamodule=data)
    metrics = {**validated, **fit.callback_metrics}
    result = {
        "world_size": fit.world_size,
        "seen": recorder.seen,
        "sampler_epochs": recorder.sampler_epochs,
        "metrics": {k: float(v) for k, v in metrics.items()},
    }
    (out / f"rank{rank}.json").write_text(json.dumps(result))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(store: Path, out: Path, mode: str, timeout: float) -> subprocess.CompletedProcess:
    """Run this file as a DDP script with 2 CPU processes on a free local port."""
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
    }
    for key in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK", "SLURM_JOB_ID", "SLURM_NTASKS"):
        env.pop(key, None)  # a surrounding launcher or cluster job must not leak into the test's world
    command = [sys.executable, __file__, str(store), str(out), mode]
    return subprocess.run(command, env=env, cwd=out, capture_output=True, text=True, timeout=timeout)


def test_two_process_ddp(synthetic_store_3d: Path, tmp_path: Path) -> None:
    done = launch(synthetic_store_3d, tmp_path, "fit_test", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]

    # Identical weights after the steps (gradients all-reduced; buffers broadcast from rank 0).
    weights = [torch.load(tmp_path / f"weights{r}.pt", weights_only=True) for r in (0, 1)]
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, rtol=0, atol=0, msg=f"{name} differs")

    # Disjoint training shards that change with the epoch, the epoch reaching the sampler.
    store = SkeletonDataModule(str(synthetic_store_3d)).store
    train_ids = set(store.split("train").tolist())
    for epoch in range(EPOCHS):
        parts = [r["seen"][f"train{epoch}"] for r in ranks]
        assert all(len(p) == STEPS * BATCH for p in parts)
        assert not set(parts[0]) & set(parts[1]) and set(parts[0]) | set(parts[1]) <= train_ids
    assert ranks[0]["seen"]["train0"] != ranks[0]["seen"]["train1"]
    assert [r["sampler_epochs"] for r in ranks] == [list(range(EPOCHS))] * 2

    # Each rank evaluated its half; the logged metrics are those of both halves together, which equal the
    # single-process metrics of the same weights (exactly the split when its size is even; an odd split adds
    # a repeat of its first sample, which the expected value below counts too).
    for split, key in (("val", "val/top1"), ("test", "test/top1")):
        model, data = make(str(synthetic_store_3d), tmp_path / f"single_{split}")
        data.test_split = split
        model.load_state_dict(weights[0])
        trainer(1).test(model, datamodule=data, verbose=False)
        reference = ScoreFile.read(tmp_path / f"single_{split}" / "scores.npz")
        correct = dict(zip(reference.sample_ids, reference.probs.argmax(1) == reference.labels, strict=True))
        halves = [r["seen"][f"val{EPOCHS - 1}" if split == "val" else "test"] for r in ranks]
        assert set(halves[0]) | set(halves[1]) == set(store.split(split).tolist())
        assert len(halves[0]) == len(halves[1]) == -(-len(store.split(split)) // 2)
        expected = np.mean([correct[i] for i in data.sample_ids(np.asarray(halves[0] + halves[1]))])
        for r in ranks:
            assert abs(r["metrics"][key] - expected) < 1e-6, (key, r["metrics"][key], expected)

    # One score file, written by rank 0, holding every test sample once, equal to the single-process scores.
    ddp_scores = ScoreFile.read(tmp_path / "test" / "scores.npz")
    assert sorted(ddp_scores.sample_ids) == sorted(reference.sample_ids)
    assert len(ddp_scores.sample_ids) == len(store.split("test"))
    order = {name: i for i, name in enumerate(reference.sample_ids)}
    rows = [order[name] for name in ddp_scores.sample_ids]
    np.testing.assert_allclose(ddp_scores.probs, reference.probs[rows], rtol=1e-5, atol=1e-6)


def test_ddp_test_with_the_default_report_dir(synthetic_store_3d: Path, tmp_path: Path) -> None:
    done = launch(synthetic_store_3d, tmp_path, "default_report_dir", timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    scores = ScoreFile.read(tmp_path / "test" / "scores.npz")
    assert len(scores.sample_ids) == len(SkeletonDataModule(str(synthetic_store_3d)).store.split("test"))


if __name__ == "__main__":
    run_ranks(sys.argv[1], Path(sys.argv[2]), sys.argv[3])
