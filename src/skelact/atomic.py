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
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


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
