"""`skelact info STORE | head -1` ends quietly (issue 13 item 9): no traceback, exit status 141 as for any
command whose reader left early; a broken pipe that is not standard output still shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skelact.cli import main as cli_main

SRC = Path(__file__).resolve().parents[2] / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    return env


def test_a_reader_that_leaves_before_the_output_ends_quietly(synthetic_store_3d: Path) -> None:
    """Standard output's reader is gone before skelact writes (closed at once, so the test does not race)."""
    command = [sys.executable, "-m", "skelact.cli.main", "info", str(synthetic_store_3d)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == cli_main.EXIT_BROKEN_PIPE == 141
    assert err == ""  # was a BrokenPipeError traceback


def test_head_gets_its_line_and_nothing_is_printed_to_stderr(synthetic_store_3d: Path) -> None:
    pipeline = f"{sys.executable} -m skelact.cli.main info {synthetic_store_3d} | head -1"
    result = subprocess.run(
        ["bash", "-c", pipeline], capture_output=True, text=True, env=_env(), timeout=120, check=True
    )
    assert result.stdout.startswith("store ") and result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_another_broken_pipe_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard output is fine (here: pytest's capture): the error is not the reader leaving, so it shows."""

    def dispatch(args: list[str]) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli_main, "_dispatch", dispatch)
    with pytest.raises(BrokenPipeError):
        cli_main.main(["info", "x"])
