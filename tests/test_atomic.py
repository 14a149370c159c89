"""`skelact.atomic`: complete files with a normal file's mode, or nothing at all (the target untouched)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skelact import atomic
from skelact.atomic import (
    PendingFile,
    WorkDir,
    atomic_path,
    atomic_write,
    clean_work_dirs,
    recover_directory,
    replace_directory,
)
from skelact.evaluation.report import write_report
from skelact.evaluation.scores import ScoreFile
from skelact.skeleton import get_layout
from skelact.skeleton.layout_file import write_layout_file


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_gives_a_complete_file_with_mode_0644(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "out.bin"
    data = os.urandom(1 << 16)
    with atomic_write(target) as handle:
        handle.write(data)
        assert not target.exists()  # nothing at the target until the block succeeds
    assert target.read_bytes() == data
    assert _mode(target) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_mode_follows_the_umask_like_a_normal_file(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "out.txt", "w") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "out.txt") == 0o640


def test_text_mode_takes_open_arguments(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.txt", "w", encoding="utf-8", newline="\n") as handle:
        handle.write("ρ = 100\n")
    assert (tmp_path / "a.txt").read_bytes() == "ρ = 100\n".encode()


@pytest.mark.parametrize("error", [ValueError("broken"), KeyboardInterrupt()])
def test_a_failing_body_leaves_the_target_untouched_and_no_temporary_file(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "scores.npz"
    target.write_bytes(b"old")
    with pytest.raises(type(error)), atomic_write(target) as handle:
        handle.write(b"half of the new")
        raise error
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.npz"]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "new.json") as tmp:
        tmp.write_text("{")
        raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.npz"]


def test_atomic_path_keeps_the_suffix_so_libraries_do_not_append_one(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "arrays.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npz" and tmp != target
        np.savez(tmp, a=np.arange(3))  # np.savez appends ".npz" to a name without it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz"]
    np.testing.assert_array_equal(np.load(target)["a"], np.arange(3))
    assert _mode(target) == 0o644


def test_parent_folders_are_created(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a" / "b" / "c.txt", "w") as handle:
        handle.write("ok")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "ok"


def test_pending_file_commit_and_discard(tmp_path: Path) -> None:
    kept, dropped = PendingFile(tmp_path / "kept.mp4"), PendingFile(tmp_path / "dropped.mp4")
    kept.path.write_bytes(b"frames")
    dropped.path.write_bytes(b"frames")
    assert kept.commit() == tmp_path / "kept.mp4"
    dropped.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.mp4"]


def test_only_write_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "ab"):
        pass


# --------------------------------------------------------------------- each kind of output is 0644


def test_score_file_is_readable_by_all(tmp_path: Path, umask_022: None) -> None:
    scores = ScoreFile(
        sample_ids=np.array(["a", "b"]),
        labels=np.array([0, 1]),
        logits=np.zeros((2, 2), np.float32),
        probs=np.full((2, 2), 0.5, np.float32),
        class_names=("x", "y"),
    )
    assert _mode(scores.write(tmp_path / "scores.npz")) == 0o644


def test_report_files_are_readable_by_all(tmp_path: Path, umask_022: None) -> None:
    scores = ScoreFile(
        sample_ids=np.array(["a", "b"]),
        labels=np.array([0, 1]),
        logits=np.eye(2, dtype=np.float32),
        probs=np.eye(2, dtype=np.float32),
        class_names=("x", "y"),
    )
    write_report(scores, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["num_samples"] == 2
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["confusion_matrix.png", "metrics.json", "per_class_accuracy.png"]
    assert {name: _mode(tmp_path / name) for name in written} == dict.fromkeys(written, 0o644)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_layout_file_is_readable_by_all(tmp_path: Path, umask_022: None, suffix: str) -> None:
    path = write_layout_file(get_layout("ntu25"), tmp_path / f"layout{suffix}")
    assert _mode(path) == 0o644


# --------------------------------------------------------------------- folders: WorkDir and replacement


def _dead_work_dir(target: Path, kind: str = "partial") -> Path:
    """A work folder whose writer was killed (SIGKILL: no cleanup ran, the kernel dropped its lock)."""
    script = (
        "import os, signal, sys; from skelact.atomic import WorkDir; "
        "work = WorkDir(sys.argv[1], sys.argv[2]); (work.path / 'data').write_bytes(b'x'); "
        "print(work.path, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script, str(target), kind], env=env, capture_output=True, text=True
    )
    assert done.returncode == -9, done.stderr
    return Path(done.stdout.strip())


def test_work_dir_has_a_normal_folder_mode_and_a_lock(tmp_path: Path, umask_022: None) -> None:
    work = WorkDir(tmp_path / "store")
    assert work.path.name.startswith(".store.partial-") and _mode(work.path) == 0o755
    assert work.lock_path.name == work.path.name + ".lock"
    assert json.loads(work.lock_path.read_text())["target"] == "store"
    work.release()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_directory_swaps_in_the_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "store"
    target.mkdir()
    (target / "v").write_text("old")
    work = WorkDir(target)
    (work.path / "v").write_text("new")
    replace_directory(work, target)
    work.release()
    assert (target / "v").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_clean_removes_dead_writers_folders_only(tmp_path: Path) -> None:
    target = tmp_path / "store"
    target.mkdir()
    dead, live = _dead_work_dir(target), WorkDir(target)
    other = _dead_work_dir(tmp_path / "other")  # another target's leftovers are not this call's business
    assert dead.is_dir() and dead.with_name(dead.name + ".lock").is_file()
    assert clean_work_dirs(target) == [dead]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["store", live.path.name, live.lock_path.name, other.name, other.name + ".lock"])
    live.release()


def test_recover_puts_back_the_old_version_of_a_dead_writer(tmp_path: Path) -> None:
    target = tmp_path / "store"
    old = _dead_work_dir(target, "old")
    (old / "store").mkdir()
    (old / "store" / "v").write_text("old")
    assert recover_directory(target) and (target / "v").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert not recover_directory(target)  # nothing to do when the target exists


def test_replacing_a_link_to_a_folder_leaves_no_stray_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = tmp_path / "store"
    target.symlink_to(real)
    work = WorkDir(target)
    (work.path / "v").write_text("new")
    replace_directory(work, target)
    work.release()
    assert not target.is_symlink() and (target / "v").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "store"]
