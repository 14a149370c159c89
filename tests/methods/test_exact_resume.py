"""Testing a fit run's checkpoint does not restore (and warn about) the fit run's selection state."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelact.cli.main import main


def test_test_does_not_warn_that_the_checkpoint_folder_changed(
    trained_run: dict[str, Path], tiny_training: list[str], tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    args = [
        *tiny_training,
        "--data.store", str(trained_run["store"]),
        "--trainer.default_root_dir", str(tmp_path),
        "--ckpt_path", str(trained_run["ckpt"]),
    ]  # fmt: skip
    assert main(["test", *args]) == 0
    assert (tmp_path / "version_0" / "test" / "metrics.json").is_file()
    messages = [str(w.message) for w in recwarn]
    assert not any("dirpath has changed" in m for m in messages), messages
