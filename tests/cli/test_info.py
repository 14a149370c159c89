"""`skelact info` shows the storage type and the checksum state; `--verify` hashes again; `skelact prepare
--dtype` picks the storage type. Issue 13: flipped frame bytes used to pass `skelact info`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def nw_ucla_folder(root: Path) -> Path:
    """Six NW-UCLA JSON files (two actions, views 1-3) with values that float16 cannot hold exactly."""
    folder = root / "all_sqe"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for action, label in ((1, 1), (2, 2)):
        for view in (1, 2, 3):
            name = f"a{action:02d}_s01_e00_v{view:02d}"
            record = {"file_name": name, "skeletons": rng.normal(size=(5, 20, 3)).tolist(), "label": label}
            (folder / f"{name}.json").write_text(json.dumps(record))
    return root


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_prepare_dtype_then_info_verify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dtype: str
) -> None:
    raw, out_dir = nw_ucla_folder(tmp_path / "raw"), tmp_path / "store"
    args = ["prepare", "nw-ucla", "--raw", str(raw), "--out", str(out_dir), "--workers", "1", "--no-progress"]
    assert run(capsys, *args, "--val-fraction", "0", "--dtype", dtype)[0] == 0
    code, out, _ = run(capsys, "info", str(out_dir), "--verify")
    suffix = {"float32": "f32", "float16": "f16"}[dtype]
    assert code == 0
    assert f"storage    {dtype}" in out
    assert f"checksum   frames.{suffix} (" in out and "SHA-256 matches the manifest, hashed now in" in out
    summary = json.loads(run(capsys, "info", str(out_dir), "--json")[1])
    assert summary["dtype"] == dtype
    assert [c["file"] for c in summary["checksums"]] == [f"frames.{suffix}"]


def test_info_refuses_flipped_frame_bytes_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw, out_dir = nw_ucla_folder(tmp_path / "raw"), tmp_path / "store"
    args = ["prepare", "nw-ucla", "--raw", str(raw), "--out", str(out_dir), "--workers", "1", "--no-progress"]
    assert run(capsys, *args, "--val-fraction", "0")[0] == 0
    frames = next(out_dir.glob("frames.*"))
    with open(frames, "r+b") as fh:
        fh.seek(64)
        fh.write(b"\xff\xff\xff\xff\xff\xff")  # NaN patterns, same size
    for extra in ([], ["--verify"]):
        code, out, err = run(capsys, "info", str(out_dir), *extra)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code != 0 and out == "" and len(lines) == 1, err
        assert f"{frames.name} does not match the SHA-256 in manifest.json" in lines[0]
        assert "skelact prepare" in lines[0]
