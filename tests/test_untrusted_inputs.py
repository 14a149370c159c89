"""Every loader of a file a user may have downloaded refuses a code-carrying payload and runs nothing.

Each payload, if executed, would create a marker file; the test asserts one clear skelact error and no
marker. docs/security.md lists these loaders; the checkpoint paths of the CLI are covered by
tests/cli/test_checkpoint_safety.py, the restricted unpickler in depth by
tests/data/formats/test_safe_pickle.py.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from skelact.data.formats.agcn_npy import load_agcn_labels, open_agcn_data
from skelact.data.formats.ctrgcn_npz import npz_member
from skelact.data.formats.custom_npy import read_custom_npy
from skelact.data.formats.pyskl_pickle import load_pyskl_pickle
from skelact.errors import SkelactError
from skelact.evaluation.scores import ScoreFile
from skelact.inference.pipeline import load_checkpoint
from skelact.inference.predictor import Predictor
from skelact.skeleton.layout_file import load_layout


class Payload:
    """Pickles as a shell command that creates `marker`: the classic malicious-pickle payload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def _object_npy(path: Path, marker: Path) -> Path:
    np.save(path, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    return path


def _pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"annotations": [Payload(marker)]}))
    return path


def _object_npz(path: Path, marker: Path, member: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive, archive.open(f"{member}.npy", "w") as handle:
        np.lib.format.write_array(handle, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    return path


def _checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {}, "skelact": Payload(marker)}, path)
    return path


def _yaml_layout(path: Path, marker: Path) -> Path:
    path.write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    return path


LOADERS: dict[str, tuple[Callable[[Path, Path], Path], Callable[[Path], object]]] = {
    "custom npy": (lambda d, m: _object_npy(d / "clip.npy", m), read_custom_npy),
    "agcn data npy": (lambda d, m: _object_npy(d / "data.npy", m), open_agcn_data),
    "agcn label pickle": (lambda d, m: _pickle(d / "label.pkl", m), load_agcn_labels),
    "pyskl pickle": (lambda d, m: _pickle(d / "ann.pkl", m), load_pyskl_pickle),
    "ctrgcn npz": (lambda d, m: _object_npz(d / "ntu.npz", m, "x_train"), lambda p: npz_member(p, "x_train")),
    "score file": (lambda d, m: _object_npz(d / "scores.npz", m, "logits"), ScoreFile.read),
    "checkpoint": (lambda d, m: _checkpoint(d / "evil.ckpt", m), load_checkpoint),
    "predictor checkpoint": (lambda d, m: _checkpoint(d / "evil.ckpt", m), Predictor.from_checkpoint),
    "layout yaml": (lambda d, m: _yaml_layout(d / "evil.yaml", m), load_layout),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_a_code_carrying_file_is_refused_and_runs_nothing(name: str, tmp_path: Path) -> None:
    write, load = LOADERS[name]
    marker = tmp_path / "pwned"
    path = write(tmp_path, marker)
    with pytest.raises(SkelactError) as caught:
        load(path)
    assert not marker.exists(), f"{name}: the payload ran"
    assert path.name in str(caught.value), f"{name}: the error does not name the file: {caught.value}"
    assert "\n" not in str(caught.value).strip()


def test_the_payload_does_run_when_unpickled_unsafely(tmp_path: Path) -> None:
    """The check above could fail: plain pickle runs the payload and creates the marker."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker)))  # the point of the test
    assert marker.exists()
