"""MoCo's pieces without a Trainer: InfoNCE against its definition, the queue's FIFO order and window."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from skelact.errors import ConfigError
from skelact.losses.contrastive import info_nce, info_nce_logits
from skelact.losses.key_queue import KeyQueue


def _unit(*shape: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_info_nce_is_minus_log_softmax_of_the_positive() -> None:
    q, k, queue = _unit(4, 8, seed=1), _unit(4, 8, seed=2), _unit(16, 8, seed=3)
    tau = 0.07
    expected = []
    for i in range(4):  # literal definition, one sample at a time
        pos = math.exp(float(q[i] @ k[i]) / tau)
        neg = sum(math.exp(float(q[i] @ n) / tau) for n in queue)
        expected.append(-math.log(pos / (pos + neg)))
    assert float(info_nce(q, k, queue, tau)) == pytest.approx(sum(expected) / 4, rel=1e-5)
    logits = info_nce_logits(q, k, queue, tau)
    assert logits.shape == (4, 17) and torch.allclose(logits[:, 0], (q * k).sum(1) / tau)


def test_info_nce_rejects_a_non_positive_temperature() -> None:
    with pytest.raises(ConfigError, match="temperature"):
        info_nce(_unit(2, 4), _unit(2, 4), _unit(3, 4), 0.0)


def test_queue_starts_as_unit_noise_and_is_first_in_first_out() -> None:
    queue = KeyQueue(10, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(queue.keys.norm(dim=1), torch.ones(10))
    batches = [torch.full((4, 4), float(i + 1)) for i in range(3)]  # 12 keys into 10 slots
    for batch in batches:
        queue.enqueue(batch)
    assert int(queue.pointer) == 2 and int(queue.seen) == 12
    # slots 0-1 were overwritten by batch 3 (wrap-around), 2-3 still hold batch 1's last two keys
    assert queue.keys[:, 0].tolist() == [3, 3, 1, 1, 2, 2, 2, 2, 3, 3]
    assert queue.recent(6)[:, 0].tolist() == [2, 2, 3, 3, 3, 3]  # oldest first, ends at the newest


def test_recent_window_is_pointer_minus_n_to_pointer_minus_one() -> None:
    queue = KeyQueue(16384, 2)
    queue.keys[:, 0] = torch.arange(16384, dtype=torch.float32)  # each slot holds its own index
    queue.enqueue(torch.zeros(100, 2))
    queue.keys[:100, 0] = torch.arange(100, dtype=torch.float32)
    window = queue.recent(256)[:, 0].long()
    expected = (torch.arange(100 - 256, 100)) % 16384  # p - 256 ... p - 1 (mod K), spec §9.4
    assert torch.equal(window, expected)


def test_queue_state_is_in_the_state_dict() -> None:
    queue = KeyQueue(8, 3)
    queue.enqueue(_unit(5, 3))
    restored = KeyQueue(8, 3, generator=torch.Generator().manual_seed(9))
    restored.load_state_dict(queue.state_dict())
    assert torch.equal(restored.keys, queue.keys)
    assert int(restored.pointer) == 5 and int(restored.seen) == 5


def test_queue_refuses_more_keys_than_slots() -> None:
    with pytest.raises(ConfigError, match="cannot enqueue 9"):
        KeyQueue(8, 3).enqueue(torch.zeros(9, 3))


def test_logits_stay_float32_under_mixed_precision() -> None:
    q, k, queue = _unit(4, 8, seed=1), _unit(4, 8, seed=2), _unit(16, 8, seed=3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = info_nce_logits(q.bfloat16(), k.bfloat16(), queue, 0.07)
    assert mixed.dtype == torch.float32
    reference = info_nce_logits(q.bfloat16().float(), k.bfloat16().float(), queue, 0.07)
    torch.testing.assert_close(mixed, reference)
