"""`skelact fit | validate | test --ckpt_path` never runs code from a checkpoint (issue 13 item 1) and
answers a missing, empty or foreign file with one line."""

from __future__ import annotations

import http.server
import pathlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from skelact.cli.main import main


class Payload:
    """Unpickling this calls Path.touch(marker): a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (pathlib.Path.touch, (self.marker,))


@pytest.fixture
def malicious(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    ckpt = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": Payload(marker)}, ckpt)
    return ckpt, marker


@pytest.fixture
def served(malicious: tuple[Path, Path]) -> Iterator[str]:
    """The malicious file on a local HTTP server (loopback only), stopped after the test."""
    folder = malicious[0].parent

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{malicious[0].name}"
    finally:
        server.shutdown()
        server.server_close()


def run(args: list[str], store: Path, root: Path, ckpt: str) -> int:
    return main(
        [*args, "--data.store", str(store), "--trainer.default_root_dir", str(root), "--ckpt_path", ckpt]
    )


@pytest.mark.parametrize("command", ["test", "validate", "fit"])
def test_a_local_malicious_checkpoint_runs_nothing(
    command: str, malicious: tuple[Path, Path], synthetic_store_3d: Path, tmp_path: Path,
    tiny_training: list[str], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ckpt, marker = malicious
    assert run([command, *tiny_training], synthetic_store_3d, tmp_path / "runs", str(ckpt)) == 2
    assert not marker.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot load checkpoint" in err and "evil.ckpt" in err
    assert "could run code" in err


def test_a_remote_checkpoint_is_refused(
    served: str, malicious: tuple[Path, Path], synthetic_store_3d: Path, tmp_path: Path,
    tiny_training: list[str], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert run(["test", *tiny_training], synthetic_store_3d, tmp_path / "runs", served) == 2
    assert not malicious[1].exists()
    assert "local files only" in capsys.readouterr().err


def test_missing_and_empty_checkpoints_are_one_line(
    synthetic_store_3d: Path, tmp_path: Path, tiny_training: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["test", *tiny_training], synthetic_store_3d, tmp_path / "runs", str(tmp_path / "no.ckpt")) == 2
    )
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty.ckpt").write_bytes(b"")
    assert (
        run(["test", *tiny_training], synthetic_store_3d, tmp_path / "runs", str(tmp_path / "empty.ckpt"))
        == 2
    )
    err = capsys.readouterr().err
    assert "cannot load checkpoint: " in err and "None" not in err
