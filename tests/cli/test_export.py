"""`skelact export` (issue 13 item 10): a count of 0 or less is an error, not the checkpoint's default; an
existing `--out` is kept unless `--overwrite` is given; a shape other than the checkpoint's needs
`--force-pipeline` (issue 19 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelact.cli.main import main


def export(ckpt: Path, out: Path, *extra: str) -> list[str]:
    return ["export", "--ckpt", str(ckpt), "--format", "torchscript", "--out", str(out), *extra]


@pytest.mark.parametrize("option", ["--clip-len", "--persons"])
@pytest.mark.parametrize("value", ["0", "-2"])
def test_a_count_below_one_is_refused_not_replaced(
    option: str, value: str, trained_run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.pt"
    assert main(export(trained_run["ckpt"], out, option, value)) == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be at least 1, got {value}" in err and err.count("\n") == 1
    assert not out.exists()


def test_an_existing_out_is_kept_without_overwrite(
    trained_run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.pt"
    out.write_bytes(b"an earlier export")
    assert main(export(trained_run["ckpt"], out)) == 2
    err = capsys.readouterr().err
    assert "m.pt exists (hint: pass --overwrite" in err and err.count("\n") == 1
    assert out.read_bytes() == b"an earlier export"
    assert main(export(trained_run["ckpt"], out, "--overwrite", "--clip-len", "16")) == 0
    assert "(N, 2, 16, 25, 3)" in capsys.readouterr().out
    assert out.read_bytes() != b"an earlier export" and not list(tmp_path.glob(".*tmp*"))


def test_a_shape_other_than_the_checkpoints_needs_force(
    trained_run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tiny run was fit on 16-frame clips of 2 persons."""
    out = tmp_path / "m.pt"
    assert main(export(trained_run["ckpt"], out, "--clip-len", "8", "--persons", "1")) == 2
    err = capsys.readouterr().err
    assert "--clip-len 8 (the checkpoint's is 16); --persons 1 (the checkpoint's is 2)" in err
    assert "--force-pipeline" in err and err.count("\n") == 1 and not out.exists()
    assert main(export(trained_run["ckpt"], out, "--clip-len", "8", "--force-pipeline")) == 0
    assert "(N, 2, 8, 25, 3)" in capsys.readouterr().out
