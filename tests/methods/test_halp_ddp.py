"""HaLP pre-training under two-process DDP on CPU (gloo): identical weights, queues and prototypes on both
ranks, and a queue holding the keys of both ranks in rank order.

As tests/methods/test_ddp.py, the test runs this file as a script, the way users launch DDP; Lightning's
"ddp" strategy starts rank 1 by re-running the command.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

import skelact
from skelact.methods.halp import HaLP

BATCH, SAMPLES, EPOCHS = 4, 16, 2  # 2 steps per epoch and rank
SETTINGS = {
    "model_args": {"base_channels": 4},
    "num_persons": 1,
    "num_classes": 3,
    "dim": 16,
    "queue_size": 32,
    "num_prototypes": 4,
    "prototype_window": 16,
    "warmup_samples": 16,  # reached after 2 steps of 2 x 4 keys: HaLP is active in the later steps
    "refresh_every": 1,
    "num_positives": 5,
}


class RecordingHaLP(HaLP):
    """Keeps the keys this rank computed in its last step (before they are gathered), and its own state before
    the end-of-epoch copy of rank 0's buffers (which would hide a difference)."""

    def on_train_epoch_end(self) -> None:
        self.own_state = {k: v.detach().clone() for k, v in self.state_dict().items() if ".running_" not in k}
        super().on_train_epoch_end()

    def gather(self, tensor: Tensor) -> Tensor:
        if tensor.ndim == 2:
            self.last_local_keys = tensor.detach().clone()
        return super().gather(tensor)


def run_ranks(out: Path) -> None:
    torch.set_num_threads(1)
    L.seed_everything(0)
    keypoint = torch.randn(SAMPLES, 2, 1, 8, 25, 3, generator=torch.Generator().manual_seed(0))
    items = [{"keypoint": k, "index": i} for i, k in enumerate(keypoint)]
    model = RecordingHaLP(**SETTINGS)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_epochs=EPOCHS,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
    )
    trainer.fit(model, train_dataloaders=DataLoader(items, batch_size=BATCH))
    result = {
        "state": model.state_dict(),
        "own_state": model.own_state,
        "keys": model.last_local_keys,
        "world": trainer.world_size,
    }
    torch.save(result, out / f"rank{trainer.global_rank}.pt")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_halp_pretraining(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        # the skelact under test, also when it is not the installed one (a checkout run with PYTHONPATH=src)
        "PYTHONPATH": os.pathsep.join(
            [str(Path(skelact.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    for key in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK", "SLURM_JOB_ID", "SLURM_NTASKS"):
        env.pop(key, None)
    done = subprocess.run(
        [sys.executable, __file__, str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    # Identical weights of both encoders, queues, pointers, counters and prototypes on both ranks, as each
    # rank computed them, and, BatchNorm statistics included, after the epoch's end.
    for key in ("own_state", "state"):
        for name, value in ranks[0][key].items():
            torch.testing.assert_close(
                ranks[1][key][name], value, rtol=0, atol=0, msg=f"{key}: {name} differs"
            )
    state = ranks[0]["state"]
    steps = EPOCHS * SAMPLES // (2 * BATCH)
    assert int(state["queue.seen"]) == steps * 2 * BATCH  # every rank enqueued the keys of both
    assert bool(state["bank.ready"])
    # The last 2 x 4 queue rows are rank 0's keys, then rank 1's, from the last step.
    assert not torch.equal(ranks[0]["keys"], ranks[1]["keys"])  # the ranks saw different samples
    pointer = int(state["queue.pointer"])
    rows = (pointer - 2 * BATCH + torch.arange(2 * BATCH)) % state["queue.keys"].shape[0]
    expected = torch.cat([ranks[0]["keys"], ranks[1]["keys"]])
    torch.testing.assert_close(state["queue.keys"][rows], expected, rtol=0, atol=0)


if __name__ == "__main__":
    run_ranks(Path(sys.argv[1]))
