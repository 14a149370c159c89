"""SIGTERM during `skelact fit` (issue 13 item 7): the batch finishes, last.ckpt is written and named, the
process exits with 143 within seconds, and `--ckpt_path last` continues the run from that checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from skelact.cli.main import main

SRC = Path(__file__).resolve().parents[2] / "src"

# Runs `skelact fit` in a child process that signals its whole process group (as schedulers do: the loader
# worker gets SIGTERM too) after batch 2 of epoch 1, and says when it did.
CHILD = """
import os, signal, sys, time
import lightning as L
import skelact.cli.lightning as cli
from skelact.cli.main import main

class Signal(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == 1 and batch_idx == 2:
            print(f"SENT {time.time()}", file=sys.stderr, flush=True)
            os.killpg(os.getpgrp(), signal.SIGTERM)

defaults = cli.default_callbacks
cli.default_callbacks = lambda: [*defaults(), Signal()]
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_checkpoints_exits_143_and_resumes(tmp_path: Path, tiny_fit_args: list[str]) -> None:
    args = tiny_fit_args
    args += ["--data.batch_size", "8", "--data.num_workers", "1"]  # several batches per epoch, a worker
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "fit", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, so the signal reaches nothing else
    )
    try:
        _, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    ended = time.time()
    sent = float(next(line for line in err.splitlines() if line.startswith("SENT ")).split()[1])
    assert child.returncode == 143, err[-2000:]
    assert ended - sent < 8.0  # one batch, a checkpoint and the teardown
    assert "Traceback" not in err and "DataLoader worker" not in err
    last = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    message = [line for line in err.splitlines() if "stopped by SIGTERM" in line]
    assert len(message) == 1 and str(last) in message[0] and "--ckpt_path last" in message[0]

    saved = torch.load(last, map_location="cpu", weights_only=True)
    per_epoch = saved["global_step"] - 3  # stopped after batches 0, 1 and 2 of epoch 1
    assert saved["epoch"] == 1 and f"epoch 1, step {saved['global_step']}" in message[0]
    assert saved["skelact_selection"]["role"] == "last"

    assert main(["fit", *args, "--ckpt_path", "last"]) == 0  # the same command continues the run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["version_0"]
    final = torch.load(last, map_location="cpu", weights_only=True)
    assert final["epoch"] == 1 and final["global_step"] == 2 * per_epoch  # the rest of epoch 1, not more
