"""Atomic file writes: a crash or an error never leaves half a file, and a finished file is readable by all.

Every layer that writes a file uses this module (it sits at the bottom of the layers, beside `errors`):

- `atomic_write(path, mode)` yields an open file object, for writers that take a handle;
- `atomic_path(path)` yields a temporary path, for libraries that write by file name (``np.savez``,
  matplotlib's ``savefig``, ``torch.onnx.export``, OpenCV's video writer). The temporary name ends in the
  target's suffix, so such libraries neither append one nor pick another format;
- `PendingFile` is the same as an object, for writers whose lifetime is not one block (a video written
  frame by frame): `commit()` puts it in place, `discard()` drops it.

The temporary file lives in the target's directory (so the rename stays on one file system). On success it
is flushed and fsynced, given the mode a normal new file gets (0o666 minus the umask, where the temporary
file would have 0600), renamed over the target, and the directory is fsynced so the rename survives a
power cut. On an exception the temporary file is removed and the target is left as it was.

Directories (a packed store) are assembled in a `WorkDir` beside the target and put in place by
`replace_directory`: one atomic exchange where the kernel offers it (Linux ``renameat2``), else two renames
whose interrupted state `recover_directory` undoes. Each work folder has a sibling lock file, locked while
its writer lives (the kernel drops the lock when the process dies, even by SIGKILL), so
`clean_work_dirs` removes the leftovers of dead writers and never the folder of a live one.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; leftovers are then judged by age only
    fcntl = None  # type: ignore[assignment]


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (changing it races other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows): the rename is what it can do
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class PendingFile:
    """A temporary file beside `target`, empty until written through `path`; `commit()` or `discard()` it.

    Parent directories of `target` are created.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            dir=self.target.parent, prefix=f".{self.target.name}.", suffix=f".tmp{self.target.suffix}"
        )
        os.close(fd)
        self.path = Path(name)

    def commit(self) -> Path:
        """Sync the temporary file to disk, give it a normal file's mode and rename it over the target."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(self.path, 0o666 & ~_umask())
            os.replace(self.path, self.target)
        except BaseException:
            self.discard()
            raise
        _fsync_directory(self.target.parent)
        return self.target

    def discard(self) -> None:
        """Remove the temporary file; the target is untouched."""
        self.path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path (same directory, same suffix) that replaces `target` when the block succeeds."""
    pending = PendingFile(target)
    try:
        yield pending.path
    except BaseException:
        pending.discard()
        raise
    pending.commit()


@contextmanager
def atomic_write(target: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """An open file (`mode` "wb" or "w", with `open`'s keyword arguments such as encoding) that replaces
    `target` when the block succeeds."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_write writes a new file: mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(target) as tmp, open(tmp, mode, **open_kwargs) as handle:
        yield handle
        handle.flush()


# ----------------------------------------------------------------------------------------------- folders

WORK_KINDS = ("partial", "old")
# A work folder without a lock file was left by a skelact from before the locks (or its writer is a few
# microseconds old); it counts as abandoned once nothing in it changed for this long.
UNLOCKED_STALE_S = 3600.0
_LOCK_SUFFIX = ".lock"
_TOKEN = re.compile(r"^[a-z0-9_]{8}$")  # ours are 8 hex digits; tempfile.mkdtemp's (older skelact) 8 of these


class WorkDir:
    """A new folder ``.NAME.KIND-XXXXXXXX`` beside `target`, with a locked sibling file ``<folder>.lock``.

    The folder gets a normal folder's mode (0o777 minus the umask; `tempfile.mkdtemp` would give 0700, and a
    finished store would keep it). The lock file names the target, so recovery never moves one target's
    old version to another's place. `release()` deletes the folder (if still there) and then the lock.
    """

    def __init__(self, target: str | os.PathLike[str], kind: str = "partial") -> None:
        if kind not in WORK_KINDS:
            raise ValueError(f"kind must be one of {WORK_KINDS}, got {kind!r}")
        self.target = Path(target)
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        while True:
            name = f".{self.target.name}.{kind}-{secrets.token_hex(4)}"
            self.lock_path = parent / (name + _LOCK_SUFFIX)
            try:  # the lock exists before the folder: a cleaner never sees this folder unlocked
                self._fd: int | None = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
            except FileExistsError:
                continue
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            os.write(self._fd, json.dumps({"target": self.target.name, "pid": os.getpid()}).encode())
            self.path = parent / name
            try:
                os.mkdir(self.path, 0o777)  # the umask applies, as for any new folder
            except BaseException:
                self._drop_lock()
                raise
            return

    def release(self) -> None:
        """Delete the folder (whatever it holds now) and the lock file, then unlock."""
        if self.path.is_symlink():  # a target that was a link to a store was swapped out as the link
            self.path.unlink()
        shutil.rmtree(self.path, ignore_errors=True)
        self._drop_lock()

    def _drop_lock(self) -> None:
        self.lock_path.unlink(missing_ok=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def replace_directory(work: WorkDir, target: str | os.PathLike[str]) -> None:
    """Put the finished folder `work.path` at `target`; an existing `target` ends up in a work folder that
    `work.release()` (which the caller still owes) deletes.

    An existing target is swapped in one atomic exchange where the kernel and file system support it, so
    any crash leaves either the old or the new version at `target`. Elsewhere the old version is renamed
    into an ``old`` work folder first; a crash between the two renames leaves `target` missing until
    `recover_directory` (which every skelact writer and reader of `target` calls) puts the old one back.
    """
    target = Path(target)
    if not target.exists() and not target.is_symlink():
        os.replace(work.path, target)
    elif not _exchange(work.path, target):
        old = WorkDir(target, "old")
        try:
            os.replace(target, old.path / "store")
        except BaseException:
            old.release()
            raise
        try:
            os.replace(work.path, target)
        except BaseException:
            os.replace(old.path / "store", target)  # if this fails too, recover_directory will
            old.release()
            raise
        old.release()  # open readers keep their memory maps: unlinked files live on
    _fsync_directory(target.parent)


def recover_directory(target: str | os.PathLike[str]) -> bool:
    """If `target` is missing because a replacement died between its two renames, move the old version
    back; True if it did. Only an ``old`` work folder of `target` whose writer is dead is used."""
    target = Path(target)
    if target.exists() or target.is_symlink() or not target.parent.is_dir():
        return False
    for folder in sorted(_work_dirs(target, ("old",)), key=_newest_mtime, reverse=True):
        with _claim(folder, target, recovering=True) as claimed:
            if claimed and (folder / "store").is_dir():
                try:
                    os.replace(folder / "store", target)
                except FileNotFoundError:  # another process recovered it first
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                _fsync_directory(target.parent)
                return True
    return False


def clean_work_dirs(target: str | os.PathLike[str]) -> list[Path]:
    """Delete the work folders (and lone lock files) of `target` left by dead writers; return them.

    Call `recover_directory` first: an abandoned old version is kept while `target` is missing.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    missing = not target.exists() and not target.is_symlink()
    for folder in _work_dirs(target, WORK_KINDS):
        if missing and (folder / "store").is_dir():
            continue  # the only copy of the old version
        with _claim(folder, target, recovering=False) as claimed:
            if claimed:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    for lock in target.parent.glob(f".{_glob_escape(target.name)}.*{_LOCK_SUFFIX}"):
        folder = lock.with_name(lock.name[: -len(_LOCK_SUFFIX)])
        if _is_work_name(folder.name, target) and not folder.exists() and _age(lock) > 60.0:
            with _claim(folder, target, recovering=False) as claimed:  # a writer that died after its rename
                if claimed:
                    removed.append(lock)
    return removed


def _work_dirs(target: Path, kinds: tuple[str, ...]) -> list[Path]:
    pattern = f".{_glob_escape(target.name)}.*-*"
    return [
        p
        for p in target.parent.glob(pattern)
        if _is_work_name(p.name, target, kinds) and p.is_dir() and not p.is_symlink()
    ]


def _is_work_name(name: str, target: Path, kinds: tuple[str, ...] = WORK_KINDS) -> bool:
    for kind in kinds:
        prefix = f".{target.name}.{kind}-"
        if name.startswith(prefix) and _TOKEN.match(name[len(prefix) :]):
            return True
    return False


@contextmanager
def _claim(folder: Path, target: Path, *, recovering: bool) -> Iterator[bool]:
    """Yield True if `folder`'s writer is dead and this process now holds its lock (removed on exit)."""
    lock = folder.with_name(folder.name + _LOCK_SUFFIX)
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:  # no lock: an older skelact's folder, or one a few microseconds old
        yield recovering or _newest_mtime(folder) < time.time() - UNLOCKED_STALE_S
        return
    try:
        if fcntl is None:
            owned = _newest_mtime(folder) < time.time() - UNLOCKED_STALE_S
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                owned = True
            except OSError:  # its writer is alive
                owned = False
        if owned:
            try:
                owned = json.loads(os.pread(fd, 4096, 0)).get("target") == target.name
            except (ValueError, AttributeError, OSError):
                owned = False  # not a lock file of ours
        yield owned
        if owned:
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _newest_mtime(folder: Path) -> float:
    """The latest change in `folder` or its direct entries (a live writer appends to a file in it)."""
    try:
        times = [folder.stat().st_mtime]
        times += [entry.stat(follow_symlinks=False).st_mtime for entry in os.scandir(folder)]
    except OSError:
        return time.time()
    return max(times)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc without the wrapper (glibc < 2.28, some musl)
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):  # kernel or file system
        return False
    raise OSError(code, os.strerror(code), str(b))
