"""Learning-rate factors: linear warm-up, cosine to zero, step decay, constant."""

from __future__ import annotations

import itertools
import math

import pytest

from skelact.errors import ConfigError
from skelact.methods.schedules import check_schedule, lr_factor


def _factors(schedule: str, steps: range, **kwargs) -> list[float]:
    return [lr_factor(s, schedule=schedule, **kwargs) for s in steps]


@pytest.mark.parametrize("schedule", ["cosine", "step", "constant"])
def test_warmup_ramps_linearly_to_one(schedule: str):
    # 2 warm-up epochs of 5 steps (CTR-GCN uses 5 epochs): 1/10, 2/10, ..., 10/10
    kwargs = {"total_steps": 100, "steps_per_epoch": 5, "warmup_epochs": 2, "milestones": (8,)}
    assert _factors(schedule, range(10), **kwargs) == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert lr_factor(10, schedule=schedule, **kwargs) == pytest.approx(1.0)


def test_fractional_warmup_rounds_to_whole_steps():
    # 0.5 epochs of 7 steps -> round(3.5) = 4 warm-up steps
    got = _factors("constant", range(5), total_steps=50, steps_per_epoch=7, warmup_epochs=0.5)
    assert got == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])


def test_cosine_without_warmup():
    kwargs = {"total_steps": 100, "steps_per_epoch": 10}
    assert lr_factor(0, schedule="cosine", **kwargs) == 1.0
    assert lr_factor(25, schedule="cosine", **kwargs) == pytest.approx(0.5 + 0.5 * math.cos(math.pi / 4))
    assert lr_factor(50, schedule="cosine", **kwargs) == pytest.approx(0.5)
    last = lr_factor(99, schedule="cosine", **kwargs)
    assert 0 < last < 3e-4  # 0.5 * (1 + cos(0.99 pi)) ~ 2.5e-4
    assert lr_factor(100, schedule="cosine", **kwargs) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(150, schedule="cosine", **kwargs) == pytest.approx(0.0, abs=1e-12)  # clamped
    values = _factors("cosine", range(101), **kwargs)
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_cosine_after_warmup_starts_at_one_and_halves_midway():
    # 20 warm-up steps, then a cosine over the remaining 80
    kwargs = {"total_steps": 100, "steps_per_epoch": 10, "warmup_epochs": 2}
    assert lr_factor(19, schedule="cosine", **kwargs) == pytest.approx(1.0)
    assert lr_factor(20, schedule="cosine", **kwargs) == pytest.approx(1.0)
    assert lr_factor(60, schedule="cosine", **kwargs) == pytest.approx(0.5)
    assert lr_factor(100, schedule="cosine", **kwargs) == pytest.approx(0.0, abs=1e-12)


def test_step_decay_at_milestones():
    # CTR-GCN NTU: x0.1 at epochs 35 and 55 (specs/formats-and-preprocessing.md section 4.1)
    kwargs = {"total_steps": 650, "steps_per_epoch": 10, "milestones": (35, 55), "gamma": 0.1}
    assert lr_factor(0, schedule="step", **kwargs) == 1.0
    assert lr_factor(349, schedule="step", **kwargs) == 1.0
    assert lr_factor(350, schedule="step", **kwargs) == pytest.approx(0.1)
    assert lr_factor(549, schedule="step", **kwargs) == pytest.approx(0.1)
    assert lr_factor(550, schedule="step", **kwargs) == pytest.approx(0.01)
    assert lr_factor(649, schedule="step", **kwargs) == pytest.approx(0.01)


def test_step_decay_with_other_gamma_and_fractional_steps_per_epoch():
    # 2.5 steps per epoch: step 5 is epoch 2.0 exactly
    kwargs = {"total_steps": 20, "steps_per_epoch": 2.5, "milestones": (2, 4), "gamma": 0.5}
    assert _factors("step", range(4, 12), **kwargs) == pytest.approx([1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25])


def test_step_without_milestones_and_constant_stay_at_one():
    for schedule in ("step", "constant"):
        assert _factors(schedule, range(0, 1000, 99), total_steps=1000, steps_per_epoch=10) == [1.0] * 11


def test_unknown_schedule_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"unknown schedule 'linear'.*cosine, step, constant"):
        lr_factor(0, schedule="linear", total_steps=10, steps_per_epoch=1)
    with pytest.raises(ConfigError, match=r"unknown schedule 'linear'.*cosine, step, constant"):
        check_schedule("linear")
    assert check_schedule("step") == "step"


def test_epoch_warmup_holds_each_warmup_epoch_at_one_value():
    # CTR-GCN sets lr x (epoch + 1) / 5 once per epoch: 0.2 through epoch 0, ..., 1.0 through epoch 4
    kwargs = {"total_steps": 200, "steps_per_epoch": 10, "warmup_epochs": 5, "milestones": (15,)}
    got = _factors("step", range(60), warmup_interval="epoch", **kwargs)
    assert got == pytest.approx([min((s // 10 + 1) / 5, 1.0) for s in range(60)])
    assert lr_factor(150, schedule="step", warmup_interval="epoch", **kwargs) == pytest.approx(0.1)
    per_step = _factors("step", range(50), **kwargs)
    assert per_step[9] == pytest.approx(0.2) and per_step[0] == pytest.approx(0.02)  # the default differs


def test_unknown_warmup_interval_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"warmup_interval 'batch'.*step, epoch"):
        lr_factor(0, schedule="step", total_steps=10, steps_per_epoch=1, warmup_interval="batch")
