"""`skelact fit --ckpt_path` resumes the run the checkpoint belongs to, in its own directory, and selects the
weights the uninterrupted run selects (issue 13 items 5 and 6)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import pytest
import torch

import skelact.cli.lightning as lightning_cli
from skelact.cli.main import main
from skelact.cli.resume import newest_hpc_checkpoint, recorded_run, resolve_resume, run_of
from skelact.errors import ConfigError
from skelact.evaluation.selection import resolve_checkpoint
from skelact.methods.supervised import SupervisedClassifier

# Validation top-1 per epoch, scripted so that the best epoch (1) comes before the interruption (at the start
# of epoch 2) and the epoch after it is the best of the epochs after it: a resumed run that forgot its best
# score would keep epoch 2.
VAL_TOP1 = [0.2, 0.6, 0.4]
EPOCHS = ["--trainer.max_epochs", str(len(VAL_TOP1))]


def scripted_validation(self: SupervisedClassifier, batch: dict, batch_idx: int) -> None:
    self.log("val/top1", torch.tensor(VAL_TOP1[self.current_epoch]))


class CrashAtEpoch(L.Callback):
    """Stands for a killed job: raises when `epoch` starts, after the previous epoch's checkpoints."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("simulated crash")


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SupervisedClassifier, "validation_step", scripted_validation)


@pytest.fixture(scope="module")
def uninterrupted(
    synthetic_store_3d: Path, tmp_path_factory: pytest.TempPathFactory, tiny_training_args: tuple[str, ...]
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("uninterrupted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SupervisedClassifier, "validation_step", scripted_validation)
        args = [
            *tiny_training_args,
            "--data.store",
            str(synthetic_store_3d),
            "--trainer.default_root_dir",
            str(root),
        ]
        assert main(["fit", *args, *EPOCHS]) == 0
    yield root / "version_0"


def interrupted_run(common: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Trains the first two of three epochs, then crashes."""
    defaults = lightning_cli.default_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(lightning_cli, "default_callbacks", lambda: [*defaults(), CrashAtEpoch(2)])
        with pytest.raises(RuntimeError, match="simulated crash"):
            main(["fit", *common, *EPOCHS])


def weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]


def logged(run_dir: Path, key: str) -> list[tuple[int, float]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [(int(row["epoch"]), float(row[key])) for row in csv.DictReader(handle) if row.get(key)]


def assert_same_run(resumed: Path, reference: Path) -> None:
    """Same final weights, same selected checkpoint and score, same logged validation history."""
    final, expected = (
        weights(resumed / "checkpoints" / "last.ckpt"),
        weights(reference / "checkpoints" / "last.ckpt"),
    )
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[k], expected[k]) for k in expected)
    selected = Path(resolve_checkpoint(str(resumed), None))  # one best-*.ckpt, or it raises
    assert selected.name == Path(resolve_checkpoint(str(reference), None)).name == "best-001.ckpt"
    state = torch.load(selected, map_location="cpu", weights_only=True)["skelact_selection"]
    assert state["epoch"] == 1 and state["monitor_value"] == pytest.approx(VAL_TOP1[1])
    assert logged(resumed, "val/top1") == logged(reference, "val/top1")
    assert [value for _, value in logged(resumed, "val/top1")] == pytest.approx(VAL_TOP1)


@pytest.mark.parametrize("workers", [0, 1])
def test_ckpt_path_last_resumes_the_run_in_its_directory(
    workers: int, tmp_path: Path, tiny_fit_args: list[str], uninterrupted: Path,
    scripted: None, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With loader workers too: Lightning hands them epoch 0's order on a resume (RestartLoaderOnResume);
    the uninterrupted reference runs without workers (the order does not depend on them)."""
    common = tiny_fit_args
    common += ["--data.num_workers", str(workers)]
    interrupted_run(common, monkeypatch)
    assert main(["fit", *common, *EPOCHS, "--ckpt_path", "last"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["version_0"]  # no new run started from epoch 0
    assert_same_run(tmp_path / "version_0", uninterrupted)


@pytest.mark.parametrize("given", ["relative", "hpc"])
def test_a_resumed_file_keeps_the_runs_selection(
    given: str, tmp_path: Path, tiny_fit_args: list[str], uninterrupted: Path,
    scripted: None, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Resumed from a path spelled otherwise than the run's folder was (relative, from another working
    directory), or from a file outside the run (Lightning's hpc_ckpt_N.ckpt of a SLURM requeue): the run
    continues in its folder and restores ModelCheckpoint's best score and files."""
    common = tiny_fit_args
    interrupted_run(common, monkeypatch)
    monkeypatch.chdir(tmp_path)
    last = Path("version_0") / "checkpoints" / "last.ckpt"  # relative; the run recorded an absolute folder
    if given == "hpc":
        last = tmp_path / "hpc_ckpt_1.ckpt"
        shutil.move(tmp_path / "version_0" / "checkpoints" / "last.ckpt", last)
    with pytest.warns() as caught:
        assert main(["fit", *common, *EPOCHS, "--ckpt_path", str(last)]) == 0
    assert not [w for w in caught if "dirpath has changed" in str(w.message)]
    assert sorted(p.name for p in tmp_path.glob("version_*")) == ["version_0"]
    assert_same_run(tmp_path / "version_0", uninterrupted)


def test_ckpt_path_last_without_a_run_is_one_line(
    tmp_path: Path, tiny_fit_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    common = tiny_fit_args
    assert main(["fit", *common, "--ckpt_path", "last"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run to resume" in err
    assert str(tmp_path / "version_*" / "checkpoints" / "last.ckpt") in err
    assert not list(tmp_path.iterdir())  # nothing trained


def test_a_weights_only_checkpoint_cannot_resume_a_fit(
    trained_run: dict[str, Path], tiny_training: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = torch.load(trained_run["ckpt"], map_location="cpu", weights_only=True)
    checkpoint.pop("optimizer_states")
    weights = tmp_path / "weights.ckpt"
    torch.save(checkpoint, weights)
    args = [*tiny_training, "--data.store", str(trained_run["store"])]
    assert main(["fit", *args, "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", str(weights)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds weights only" in err and "--method finetune" in err


def test_last_finds_the_one_run_and_refuses_several(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no run to resume"):
        resolve_resume("last", str(tmp_path / "absent"))
    (tmp_path / "version_0").mkdir()  # e.g. a `skelact test` run: no checkpoints
    (tmp_path / "version_1" / "checkpoints").mkdir(parents=True)
    (tmp_path / "version_1" / "checkpoints" / "last.ckpt").write_bytes(b"")
    resume = resolve_resume("last", str(tmp_path))
    assert resume.run_dir == tmp_path / "version_1"
    assert resume.checkpoint == str(tmp_path / "version_1" / "checkpoints" / "last.ckpt")
    (tmp_path / "version_12" / "checkpoints").mkdir(parents=True)
    (tmp_path / "version_12" / "checkpoints" / "last.ckpt").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"ambiguous.*\(version_1, version_12\)"):
        resolve_resume("last", str(tmp_path))


def test_a_run_directory_or_file_names_its_run(tmp_path: Path) -> None:
    checkpoints = tmp_path / "version_3" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.ckpt").write_bytes(b"")
    (checkpoints / "best-002.ckpt").write_bytes(b"")
    for given in (tmp_path / "version_3", checkpoints):
        assert resolve_resume(str(given), "runs").checkpoint == str(checkpoints / "last.ckpt")
    assert resolve_resume(str(checkpoints / "best-002.ckpt"), "runs").run_dir == tmp_path / "version_3"
    assert run_of(tmp_path / "elsewhere.ckpt") is None  # a file outside a run: a new run
    assert run_of(tmp_path / "checkpoints" / "x.ckpt") is None  # a folder named checkpoints is not enough
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_resume(str(tmp_path), "runs")


def test_a_file_outside_a_run_names_the_run_it_records(tmp_path: Path) -> None:
    checkpoints = tmp_path / "version_2" / "checkpoints"
    checkpoints.mkdir(parents=True)
    state = {
        "SelectionCheckpoint{'monitor': 'val/top1'}": {"dirpath": str(checkpoints), "best_model_score": 1.0}
    }
    assert recorded_run({"callbacks": state}) == tmp_path / "version_2"
    torch.save({"callbacks": state, "state_dict": {}}, tmp_path / "hpc_ckpt_3.ckpt")
    (tmp_path / "hpc_ckpt_12.ckpt").write_bytes((tmp_path / "hpc_ckpt_3.ckpt").read_bytes())
    assert newest_hpc_checkpoint(str(tmp_path)) == str(tmp_path / "hpc_ckpt_12.ckpt")  # by number, not name
    assert resolve_resume(str(tmp_path / "hpc_ckpt_12.ckpt"), "runs").run_dir == tmp_path / "version_2"
    shutil.rmtree(tmp_path / "version_2")  # its run is gone: a new run
    assert resolve_resume(str(tmp_path / "hpc_ckpt_12.ckpt"), "runs").run_dir is None
    assert newest_hpc_checkpoint(str(tmp_path / "version_2")) is None
