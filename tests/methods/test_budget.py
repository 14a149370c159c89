"""`--budget`: parsing, how many epochs fit, the rescaled schedule, and a real fit that ends in time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from skelact.errors import ConfigError
from skelact.methods.budget import (
    SchedulePlan,
    TimeBudget,
    epochs_that_fit,
    parse_budget,
    recent_epoch_time,
    revised_plan,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("600s", 600), ("10min", 600), ("1h", 3600), ("1.5h", 5400), ("1h30min", 5400), (" 10 min ", 600),
     ("90sec", 90), ("2m", 120), ("1hr", 3600), (45, 45.0)],
)  # fmt: skip
def test_parse_budget(text: str | int, seconds: float):
    assert parse_budget(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["10", "", "ten minutes", "10ms", "10 parsecs", "min10", "0s", "-5min", "10min x"]
)
def test_parse_budget_refuses_what_is_not_a_positive_duration(text: str):
    with pytest.raises(ConfigError, match="--budget"):
        parse_budget(text)


def test_epochs_that_fit_counts_whole_epochs_in_the_time_left():
    # 600 s budget, 75 s spent (setup + first epoch of 60 s): 525 s left hold 8 more epochs of 60 s
    assert epochs_that_fit(600, 75, 60, epochs_done=1) == 9
    assert epochs_that_fit(600, 600, 60, epochs_done=3) == 3  # nothing left: stop after what is done
    assert epochs_that_fit(600, 700, 60, epochs_done=3) == 3  # over budget: never negative
    assert epochs_that_fit(60, 10, 25, epochs_done=1) == 3  # 50 s left: exactly two more
    with pytest.raises(ValueError, match="positive"):
        epochs_that_fit(600, 0, 0, epochs_done=1)


def test_recent_epoch_time_follows_a_speed_change_but_not_one_slow_epoch():
    slow_start = [99.0, 102.0, 99.0, 62.0, 60.0, 59.0]  # issue 18's speed run: the VM sped up after 3 epochs
    assert recent_epoch_time(slow_start) == 60.0
    assert recent_epoch_time([60.0, 61.0, 200.0]) == 61.0  # one epoch beside another job
    assert recent_epoch_time([98.7]) == 98.7
    with pytest.raises(ValueError):
        recent_epoch_time([])


def test_revised_plan_shortens_at_once_and_extends_only_early_and_clearly():
    assert revised_plan(20, fits=18, done=15) == 18  # late, but the budget wins
    assert revised_plan(20, fits=20, done=3) is None
    assert revised_plan(20, fits=21, done=3) is None  # one more epoch: not worth reshaping the schedule
    assert revised_plan(21, fits=24, done=14) == 24  # two thirds of the way: still extended
    assert revised_plan(21, fits=30, done=15) is None  # later: kept
    assert revised_plan(40, fits=43, done=5) is None  # under 10 %


def test_rescaled_schedule_keeps_the_shape():
    # the shortened NW-UCLA recipe: 12 epochs, 1 warm-up epoch, x0.1 at epoch 9 -> 24 epochs: decay at 18
    recipe = SchedulePlan(epochs=12, schedule="step", warmup_epochs=1, milestones=(9,))
    longer = recipe.rescaled(24)
    assert (longer.epochs, longer.warmup_epochs, longer.milestones) == (24, 2, (18,))
    shorter = SchedulePlan(30, "cosine", warmup_epochs=3, milestones=(10, 20)).rescaled(10)
    assert (shorter.warmup_epochs, shorter.milestones) == (1, (3, 7))
    # a warm-up already finished by the epochs done stays finished instead of starting again
    assert recipe.rescaled(24, epochs_done=1).warmup_epochs == 1
    assert SchedulePlan(30, "cosine", warmup_epochs=2).rescaled(60, epochs_done=1).warmup_epochs == 4


def test_rescaled_cosine_reaches_zero_at_the_new_last_step():
    steps = 10
    recipe = SchedulePlan(epochs=30, schedule="cosine", warmup_epochs=1)
    factor = recipe.rescaled(6, epochs_done=1).factor(steps)
    assert factor(0) == pytest.approx(1 / steps)  # warm-up ramp as before
    assert factor(steps) == pytest.approx(1.0)
    assert factor(6 * steps) == pytest.approx(0.0, abs=1e-12)  # the end of the 6-epoch run
    assert recipe.factor(steps)(6 * steps) > 0.9  # the recipe's own plan was barely decayed there


def test_rescale_schedulers_gives_the_run_the_new_plan_from_the_next_step():
    from types import SimpleNamespace

    from lightning.pytorch.core.optimizer import LRSchedulerConfig

    from skelact.methods.budget import _rescale_schedulers

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    recipe = SchedulePlan(epochs=30, schedule="cosine", warmup_epochs=1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, recipe.factor(steps_per_epoch=10))
    for _ in range(10):  # the first epoch, under the recipe's plan: warm-up done
        optimizer.step()
        scheduler.step()
    trainer = SimpleNamespace(lr_scheduler_configs=[LRSchedulerConfig(scheduler, interval="step")])
    assert _rescale_schedulers(trainer, recipe.rescaled(3, epochs_done=1), steps_per_epoch=10)
    # step 10 of a 3-epoch run: a cosine from step 10 to 30, at its start
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)  # half-way through the decay
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_fit_with_a_budget_stops_in_time_with_its_schedule_completed(
    synthetic_store_3d: Path, tmp_path: Path, tiny_training: list[str]
):
    from skelact.cli.lightning import build_cli

    budget_s = 3.0
    args = [  # run=False builds without a subcommand, as `skelact fit` would
        *tiny_training,
        "--data.store", str(synthetic_store_3d),
        "--trainer.default_root_dir", str(tmp_path),
        "--trainer.max_epochs", "200",  # the recipe's length: far more than fits, so the budget decides
        "--model.warmup_epochs", "20",
        "--budget", f"{budget_s:g}s",
    ]  # fmt: skip
    cli = build_cli(args, run=False)
    budget = next(c for c in cli.trainer.callbacks if isinstance(c, TimeBudget))
    assert budget.budget_s == budget_s
    started = time.monotonic()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    fit_s = time.monotonic() - started
    planned = budget.planned_epochs
    assert planned is not None and 1 <= planned < 200
    assert cli.trainer.current_epoch == planned  # ran exactly the planned epochs
    assert fit_s <= budget_s + 1.0  # the budget's clock started earlier, when the trainer was built
    if planned >= 2:  # (a busy machine may fit one epoch only: then there is no schedule left to rescale)
        # Rescaled to the planned epochs: the last step's rate is near zero, not near the peak.
        assert cli.trainer.optimizers[0].param_groups[0]["lr"] < 0.05 * cli.model.hparams.lr
    # The plan travels in the checkpoint, for a resumed run.
    saved = torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    state = next(v for k, v in saved["callbacks"].items() if k.startswith("TimeBudget"))
    assert state["planned_epochs"] == planned and state["reference"]["epochs"] == 200
    restored = TimeBudget("1h")
    restored.load_state_dict(state)
    assert restored.planned_epochs == planned and restored.reference == budget.reference
    assert restored.applied == budget.applied and restored.steps_per_epoch == budget.steps_per_epoch


def test_budget_is_ignored_outside_fit_and_checked_in_fit():
    from skelact.methods.budget import budget_callbacks

    assert budget_callbacks("test", {"test": {"budget": "10min"}}) == []
    assert budget_callbacks("fit", {"fit": {"budget": None}}) == []
    (callback,) = budget_callbacks("fit", {"fit": {"budget": "10min"}})
    assert callback.budget_s == 600
    with pytest.raises(ConfigError, match="--budget '10'"):
        budget_callbacks("fit", {"fit": {"budget": "10"}})
