"""`skelact fit` ends with the run directory, the selected checkpoint, its score and the time per epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelact.cli.main import main


def test_fit_prints_where_the_run_is_and_what_it_selected(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    tiny_fit_args: list[str],
) -> None:
    args = tiny_fit_args
    assert main(["fit", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    run_dir = tmp_path / "version_0"
    assert f"run directory: {run_dir}" in lines
    (selected,) = [line for line in lines if line.startswith("selected checkpoint: ")]
    path = Path(selected.removeprefix("selected checkpoint: "))
    assert path.parent == run_dir / "checkpoints" and path.name.startswith("best-") and path.is_file()
    score = lines[lines.index(selected) + 1].split()
    assert score[0] == "val/top1" and 0.0 <= float(score[1]) <= 1.0
    (timing,) = [line for line in lines if line.startswith("time per epoch: median ")]
    assert "over 2 epochs" in timing
    assert not any("litlogger" in record.getMessage() for record in caplog.records)
