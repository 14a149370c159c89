"""Reading a checkpoint file safely: `weights_only=True`, checksums checked, one clear error for a bad file.

Every command that takes a checkpoint (predict, export, render, video, and fit/validate/test `--ckpt_path`)
reads it through `load_checkpoint`, so a missing, empty, truncated, damaged, foreign or code-carrying file
gets the same one-line answer everywhere. Imports neither Lightning nor plotting (deployments use it).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from skelact.errors import FormatError, SkelactError

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default format is a zip archive
LIGHTNING_VERSION_KEY = "pytorch-lightning_version"  # Lightning's trainer reads it before anything else
REFUSED = "it holds objects other than tensors and plain data; refused, as loading them could run code"


def load_checkpoint(
    path: str | Path, map_location: str = "cpu", *, trainer_state: bool = False
) -> dict[str, Any]:
    """A checkpoint file as a dict, loaded with `weights_only=True` (no code runs); one clear error else.

    `trainer_state=True` also requires what Lightning's Trainer reads before any skelact hook runs
    (`fit/validate/test --ckpt_path`); `Predictor` and export need the weights and the pipeline record only.
    """
    path = Path(path)
    if path.is_dir():
        raise SkelactError(f"{path} is a directory, not a checkpoint file", hint="give a .ckpt file")
    if not path.is_file():
        raise SkelactError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise FormatError(
            "cannot load checkpoint: the file is empty (0 bytes)",
            path=path,
            hint="it was not written completely; use another checkpoint of the run",
        )
    damage = _checksum_failure(path)
    if damage:
        raise FormatError(f"cannot load checkpoint: {damage}", path=path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or foreign file
        raise FormatError(f"cannot load checkpoint: {_load_failure(err, path)}", path=path) from None
    _check_structure(checkpoint, path, trainer_state)
    return checkpoint


def _checksum_failure(path: Path) -> str | None:
    """torch does not check the zip's CRC-32s, so a damaged tensor would load as silently wrong weights."""
    if not zipfile.is_zipfile(path):
        return None  # the legacy format has no checksums; a truncated zip fails in torch.load instead
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
        return f"the zip archive is damaged ({err})"
    if bad is None:
        return None
    return f"the checksum of {bad} does not match its bytes (the file was damaged after it was saved)"


def _load_failure(err: Exception, path: Path) -> str:
    """Why torch could not read the file, in words that say what to do, never blank and never one line of a
    torch traceback that recommends loading the file unsafely."""
    text = str(err).strip()
    if "Weights only load failed" in text:
        if "Unsupported operand" in text:  # not a pickle opcode: random bytes, not a refused object
            return (
                "not a torch checkpoint (its bytes are not torch's pickle format: a damaged or foreign file)"
            )
        return REFUSED
    if isinstance(err, EOFError):
        return "the file ends early (it was not written or copied completely)"
    with open(path, "rb") as handle:
        is_zip = handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    if is_zip and not zipfile.is_zipfile(path):  # starts as a zip, but its central directory is missing
        return "the file is truncated (its zip archive has no end); it was not written or copied completely"
    if is_zip:  # a complete zip archive, but not one torch.save wrote
        detail = text.splitlines()[0].split("] ", 1)[-1].strip(" .") if text else type(err).__name__
        return f"not a torch checkpoint (a zip archive torch cannot read: {detail[:120]})"
    return "not a torch checkpoint (neither a zip archive nor torch's legacy format)"


def _check_structure(checkpoint: Any, path: Path, trainer_state: bool) -> None:
    """The parts every reader indexes into, checked once, so a foreign dict is one error and not a crash."""
    if not isinstance(checkpoint, dict):
        raise FormatError("not a Lightning checkpoint (no dict inside)", path=path)
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        found = "none" if state is None else f"a {type(state).__name__}"
        raise FormatError(
            f"not a Lightning checkpoint: 'state_dict' should map names to tensors, found {found}", path=path
        )
    odd = next((key for key, value in state.items() if not isinstance(value, torch.Tensor)), None)
    if odd is not None:
        raise FormatError(
            f"state_dict entry {odd!r} holds {type(state[odd]).__name__}, not a tensor", path=path
        )
    hparams = checkpoint.get("hyper_parameters", {})
    if not isinstance(hparams, Mapping):
        raise FormatError(f"'hyper_parameters' is a {type(hparams).__name__}, not a mapping", path=path)
    if trainer_state and LIGHTNING_VERSION_KEY not in checkpoint:
        raise FormatError(
            f"no Lightning trainer state (no {LIGHTNING_VERSION_KEY!r}); the Trainer cannot restore it",
            path=path,
            hint="`skelact predict` and `skelact export` read such a file; fit/validate/test need one "
            "written by `skelact fit`",
        )
