"""Issue 13 item 4: replacing a store (`--overwrite`, `add_split`) survives being killed at any point,
leftovers of dead writers are removed by the next run (never a live writer's), and a finished store has a
normal folder's permissions."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from skelact.atomic import WorkDir
from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, write_store
from skelact.data.store_splits import add_split

SRC = Path(__file__).resolve().parents[2] / "src"

# Runs `write_store(out, 2 new samples, overwrite=True)` in a child that SIGKILLs itself at one point:
# "between-renames": on the two-rename path (file systems without an atomic exchange), after the old
# store is moved away and before the new one is moved in; "after-exchange": right after the atomic swap,
# before the old version is deleted; "while-writing": after the first sample is written.
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
import numpy as np
import skelact.atomic as atomic
from skelact.data.sample import SkeletonSample
from skelact.data.store import write_store

out, point = Path(sys.argv[1]), sys.argv[2]
real_replace = os.replace

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def samples():
    for i in range(2):
        if point == "while-writing" and i == 1:
            die()
        yield SkeletonSample(np.full((1, 3, 25, 3), 7.0, np.float32), 0, sample_id=f"new{i}")

if point == "between-renames":
    if hasattr(atomic, "_exchange"):
        atomic._exchange = lambda a, b: False
    def replace(src, dst):
        if Path(dst) == out and ".partial-" in Path(src).name:
            die()
        return real_replace(src, dst)
    os.replace = replace
elif point == "after-exchange":
    real_exchange = atomic._exchange
    def exchange(a, b):
        assert real_exchange(a, b), "this file system has no atomic exchange"
        die()
    atomic._exchange = exchange
write_store(out, samples(), layout="ntu25", class_names=["a", "b"], overwrite=True)
"""


def old_store(path: Path) -> Path:
    samples = [
        SkeletonSample(np.zeros((1, 4, 25, 3), np.float32), i % 2, sample_id=f"old{i}") for i in range(4)
    ]
    return write_store(path, samples, layout="ntu25", class_names=["a", "b"], splits={"all": [0, 1, 2, 3]})


def kill_writer(out: Path, point: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(out), point], env=env, capture_output=True, timeout=120
    )
    assert result.returncode == -9, result.stderr.decode()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_killed_between_the_two_renames_the_old_store_comes_back(tmp_path: Path) -> None:
    out = old_store(tmp_path / "st")
    kill_writer(out, "between-renames")
    assert not out.exists()  # the crash state: the old store sits in a hidden work folder
    assert any(name.startswith(".st.old-") for name in siblings(out))
    store = SkeletonStore(out)  # opening puts the old version back
    assert store.sample_ids == ["old0", "old1", "old2", "old3"]
    write_store(out, [SkeletonSample(np.ones((1, 2, 25, 3)), 1, sample_id="x")], layout="ntu25",
                class_names=["a", "b"], overwrite=True)  # fmt: skip
    assert siblings(out) == ["st"]  # the next run removed the dead writer's work folders
    assert SkeletonStore(out).sample_ids == ["x"]


def test_the_next_writer_recovers_too(tmp_path: Path) -> None:
    out = old_store(tmp_path / "st")
    kill_writer(out, "between-renames")
    with pytest.raises(Exception, match="already exists"):  # put back, so not silently overwritten
        old_store(out)
    assert SkeletonStore(out).sample_ids[0] == "old0"


def test_killed_right_after_the_swap_the_new_store_is_in_place(tmp_path: Path) -> None:
    out = old_store(tmp_path / "st")
    kill_writer(out, "after-exchange")
    assert SkeletonStore(out).sample_ids == ["new0", "new1"]
    assert len(siblings(out)) > 1  # the old version, not yet deleted
    add_split(out, "first", np.array([0]))  # any later writer of this store cleans up
    assert siblings(out) == ["st"]


def test_killed_while_writing_leaves_the_old_store_and_only_a_dead_folder(tmp_path: Path) -> None:
    out = old_store(tmp_path / "st")
    kill_writer(out, "while-writing")
    assert SkeletonStore(out).sample_ids[0] == "old0"
    assert any(name.startswith(".st.partial-") for name in siblings(out))
    live = WorkDir(out, "partial")  # another writer, alive, in this process
    try:
        old_store(tmp_path / "st2")
        add_split(out, "some", np.array([1, 2]))
        assert siblings(out) == sorted(["st", "st2", live.path.name, live.lock_path.name])
    finally:
        live.release()
    assert siblings(out) == ["st", "st2"]


def test_leftovers_of_older_skelact_are_recovered_or_aged_out(tmp_path: Path) -> None:
    """Folders made by tempfile.mkdtemp without a lock file, as skelact wrote them before."""
    out = old_store(tmp_path / "st")
    legacy_old = tmp_path / ".st.old-ab_cd123"
    legacy_old.mkdir()
    os.replace(out, legacy_old / "store")
    stale, fresh = tmp_path / ".st.partial-k2j4h5g6", tmp_path / ".st.partial-zz9yy8xx"
    stale.mkdir()
    (stale / "frames.f16").write_bytes(b"x")
    hours_ago = time.time() - 7200
    for path in (stale / "frames.f16", stale):
        os.utime(path, (hours_ago, hours_ago))
    fresh.mkdir()  # could belong to an older skelact writing right now
    unrelated = tmp_path / ".st.partial-notes"  # not a work folder name
    unrelated.mkdir()
    write_store(out, [SkeletonSample(np.ones((1, 2, 25, 3)), 1)], layout="ntu25", class_names=["a", "b"],
                overwrite=True)  # fmt: skip
    assert siblings(out) == sorted(["st", fresh.name, unrelated.name])


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o027, 0o750)])
def test_a_store_folder_has_a_normal_folder_mode(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        out = old_store(tmp_path / "st")
        assert stat.S_IMODE(out.stat().st_mode) == mode
        assert stat.S_IMODE((out / "manifest.json").stat().st_mode) == mode & 0o666
        add_split(out, "two", np.array([0, 1]))
        assert stat.S_IMODE(out.stat().st_mode) == mode
    finally:
        os.umask(previous)
