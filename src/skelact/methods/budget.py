"""`skelact fit --budget 10min`: size the number of epochs from the measured first epoch so the run fits.

A recipe's epoch count is right for one machine and one data size; on another the same run takes an hour or
a minute. With a budget, the first epoch runs under the recipe's plan and is timed (training, validation and
checkpoint together, plus the setup before it); the number of epochs is then what fits in the time left, and
the learning-rate schedule keeps the recipe's shape stretched or squeezed to that length: cosine decays to
zero at the new last step, step-decay milestones and the warm-up move to the same fractions of the run. A
warm-up already finished in the first epoch stays finished (stretching it would drop the rate and ramp it up
again). After every later epoch the plan is checked against the clock again: shortened when fewer epochs
fit, so a machine that slows down (shared cores) still ends inside the budget with the decay completed, and
extended in the first two thirds of the run when clearly more fit (the first epoch is often the slowest).

The budget counts from the moment the run is built (after the imports) to the end of fit; `skelact test`
afterwards is not included. One epoch is the smallest unit: a budget shorter than the first epoch gives a
one-epoch run. Resuming a budgeted run keeps its plan and the time it had already spent.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from skelact.errors import ConfigError
from skelact.methods.schedules import SCHEDULES, lr_factor

BUDGET_OPTION = "--budget"
BUDGET_HELP = (
    "fit only: a wall-time budget such as 600s, 10min or 1h. The first epoch is timed and the run gets as "
    "many epochs as fit, the learning-rate schedule (warm-up, decay) rescaled to them; trainer.max_epochs "
    "then only sets the schedule's shape (skelact.methods.budget)."
)
_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(hr|h|min|m|sec|s)", re.IGNORECASE)


def parse_budget(text: str | float | int) -> float:
    """Seconds of a budget written `600s`, `10min`, `1.5h` or `1h30min` (a number alone is refused: minutes
    and seconds are both plausible)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = re.sub(r"\s+", "", str(text))
        parts = list(_PART.finditer(value))
        if not parts or "".join(p.group(0) for p in parts) != value:
            raise ConfigError(
                f"{BUDGET_OPTION} {text!r}: expected a duration with a unit, e.g. 600s, 10min, 1h or 1h30min"
            )
        seconds = sum(float(p.group(1)) * _UNITS[p.group(2).lower()] for p in parts)
    if not seconds > 0 or math.isinf(seconds):
        raise ConfigError(f"{BUDGET_OPTION} {text!r}: the budget must be a positive duration")
    return seconds


def budget_callbacks(subcommand: str | None, config: Any) -> list[L.Callback]:
    """The `TimeBudget` of a `skelact fit` run whose configuration sets `budget`; [] otherwise (a fit's
    config.yaml reused by `test` or `validate` keeps the key, which then means nothing)."""
    section = config[subcommand] if subcommand else config
    budget = section.get("budget") if hasattr(section, "get") else None
    if budget in (None, "") or subcommand not in (None, "fit"):
        return []
    return [TimeBudget(budget)]


def epochs_that_fit(budget_s: float, elapsed_s: float, epoch_s: float, epochs_done: int) -> int:
    """Total epochs of the run: those done plus as many whole epochs of `epoch_s` as the time left holds."""
    if epoch_s <= 0:
        raise ValueError(f"epoch time must be positive, got {epoch_s}")
    left = max(budget_s - elapsed_s, 0.0)
    return epochs_done + int(left // epoch_s)


def recent_epoch_time(epoch_times: list[float], window: int = 3) -> float:
    """The time of an epoch from now on: the median of the last `window` epochs.

    The median, so that one epoch slowed by another job on shared cores does not reshape the schedule; the
    last few only, because a VM's speed drifts: an NW-UCLA speed run (issue 18) took 99-102 s for its first
    three epochs and 58-62 s for the next five, and the median of all epochs kept the plan at 8 epochs, so
    the fit ended after 612 s of its 900-s budget.
    """
    if not epoch_times:
        raise ValueError("no epoch timed yet")
    return statistics.median(epoch_times[-window:])


def revised_plan(planned: int, fits: int, done: int) -> int | None:
    """The new total when the clock disagrees with the plan after `done` epochs, else None.

    Shorter at once when fewer epochs fit (the run must end in time). Longer only in the first two thirds of
    the plan and by at least 2 epochs and 10 %: the first epoch is usually the slowest (allocation, a machine
    busier at start), but stretching a schedule near its end, or by an epoch at a time, would raise the
    decayed rate again for little gain.
    """
    if fits < planned:
        return fits
    if 3 * done <= 2 * planned and fits >= planned + max(2, math.ceil(0.1 * planned)):
        return fits
    return None


@dataclass(frozen=True)
class SchedulePlan:
    """A per-step schedule (`schedules.lr_factor`) in epochs: what a recipe sets, and what a budget makes."""

    epochs: int
    schedule: str
    warmup_epochs: float = 0.0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1

    def rescaled(self, epochs: int, epochs_done: int = 0) -> SchedulePlan:
        """The same shape over `epochs`: warm-up and milestones at the same fractions of the run. A warm-up
        that `epochs_done` already completed is kept as it was."""
        ratio = epochs / self.epochs
        warmup = self.warmup_epochs if self.warmup_epochs <= epochs_done else self.warmup_epochs * ratio
        milestones = tuple(max(1, round(m * ratio)) for m in self.milestones)
        return SchedulePlan(epochs, self.schedule, warmup, milestones, self.gamma)

    def factor(self, steps_per_epoch: float) -> Callable[[int], float]:
        """The learning-rate multiplier per optimizer step, for `LambdaLR`."""
        total = max(round(self.epochs * steps_per_epoch), 1)
        return lambda step: lr_factor(
            step,
            total_steps=total,
            steps_per_epoch=steps_per_epoch,
            schedule=self.schedule,
            warmup_epochs=self.warmup_epochs,
            milestones=self.milestones,
            gamma=self.gamma,
        )

    def describe(self) -> str:
        warmup = f"warm-up {self.warmup_epochs:.3g} epoch(s), " if self.warmup_epochs else ""
        if self.schedule == "step":
            return f"{warmup}x{self.gamma:g} at epoch(s) {list(self.milestones)}"
        return f"{warmup}{self.schedule}" + (" to zero" if self.schedule == "cosine" else "")


class TimeBudget(L.Callback):
    """Sizes `max_epochs` (and the method's per-step schedule) so that fit ends within `budget`.

    Args:
        budget: seconds, or a duration such as "10min" (`parse_budget`).
    """

    def __init__(self, budget: str | float) -> None:
        self.budget_s = parse_budget(budget)
        self._started = time.monotonic()
        self._epoch_started: float | None = None
        self._epoch_times: list[float] = []
        self.reference: SchedulePlan | None = None  # the recipe's plan, read when fit starts
        self.planned_epochs: int | None = None
        self.applied: SchedulePlan | None = None  # the schedule the run follows now
        self.steps_per_epoch: float | None = None

    # -- what a checkpoint keeps, so a resumed run continues the same plan
    def state_dict(self) -> dict[str, Any]:
        return {
            "budget_s": self.budget_s,
            "spent_s": time.monotonic() - self._started,
            "epoch_times": list(self._epoch_times),
            "planned_epochs": self.planned_epochs,
            "reference": _plan_state(self.reference),
            "applied": _plan_state(self.applied),
            "steps_per_epoch": self.steps_per_epoch,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._started = time.monotonic() - float(state_dict.get("spent_s", 0.0))
        self._epoch_times = [float(t) for t in state_dict.get("epoch_times", [])]
        self.planned_epochs = state_dict.get("planned_epochs")
        self.reference = _plan_from_state(state_dict.get("reference"))
        self.applied = _plan_from_state(state_dict.get("applied"))
        self.steps_per_epoch = state_dict.get("steps_per_epoch")

    # -- hooks
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.reference is None:  # not restored from a checkpoint
            self.reference = _recipe_plan(trainer, pl_module)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Resumed: the method rebuilt its schedule for the recipe's length; put the run's plan back.
        if self.planned_epochs is not None:
            trainer.fit_loop.max_epochs = self.planned_epochs
        if self.applied is not None:
            _rescale_schedulers(trainer, self.applied, self.steps_per_epoch or 1.0)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_started = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning runs the epoch's validation before this hook, so the time includes it.
        if self._epoch_started is None:
            return
        self._epoch_times.append(time.monotonic() - self._epoch_started)
        done = trainer.current_epoch + 1
        if self.steps_per_epoch is None and trainer.global_step:  # optimizer steps of one epoch, measured
            self.steps_per_epoch = trainer.global_step / done
        elapsed = time.monotonic() - self._started
        estimate = recent_epoch_time(self._epoch_times)
        fits = max(epochs_that_fit(self.budget_s, elapsed, estimate, done), done)
        fits = int(trainer.strategy.broadcast(fits, src=0))  # every rank follows rank 0's clock
        if self.planned_epochs is None:
            rank_zero_info(
                f"budget {_clock(self.budget_s)}: epoch 1 took {estimate:.1f} s, {_clock(elapsed)} spent "
                f"-> {fits} epoch(s) (the recipe: {self.reference.epochs if self.reference else '?'})"
            )
            self._apply(trainer, pl_module, fits, done=done)
        elif (revised := revised_plan(self.planned_epochs, fits, done)) is not None:
            rank_zero_info(
                f"budget {_clock(self.budget_s)}: epochs now take {estimate:.1f} s; {_clock(elapsed)} spent "
                f"-> {'shortened' if revised < self.planned_epochs else 'extended'} from "
                f"{self.planned_epochs} to {revised} epoch(s)"
            )
            self._apply(trainer, pl_module, revised, done=done)

    def _apply(self, trainer: L.Trainer, pl_module: L.LightningModule, epochs: int, done: int) -> None:
        self.planned_epochs = epochs
        trainer.fit_loop.max_epochs = epochs
        if self.reference is None or epochs <= done:
            return  # the run ends after this epoch: nothing left to schedule
        plan = self.reference.rescaled(epochs, epochs_done=done)
        if (
            self.applied is not None and self.applied.warmup_epochs <= done
        ):  # a warm-up once finished stays so
            plan = replace(plan, warmup_epochs=self.applied.warmup_epochs)
        self.applied = plan
        rescaled = _rescale_schedulers(trainer, plan, self.steps_per_epoch or 1.0)
        if rescaled:
            rank_zero_info(f"budget: learning-rate schedule over {epochs} epochs: {plan.describe()}")


def _recipe_plan(trainer: L.Trainer, pl_module: L.LightningModule) -> SchedulePlan | None:
    """The schedule the method was configured with (`schedule`, `warmup_epochs`, `milestones`, `gamma`
    hyper-parameters, as `schedules.step_schedule` reads them), or None for a method without one."""
    hp = getattr(pl_module, "hparams", {})
    if hp.get("schedule") not in SCHEDULES or not trainer.max_epochs or trainer.max_epochs < 1:
        rank_zero_warn(
            "--budget sizes the number of epochs only: this method has no skelact per-step schedule "
            "(model.schedule) and a finite trainer.max_epochs to rescale"
        )
        return None
    return SchedulePlan(
        epochs=int(trainer.max_epochs),
        schedule=str(hp["schedule"]),
        warmup_epochs=float(hp.get("warmup_epochs") or 0.0),
        milestones=tuple(int(m) for m in (hp.get("milestones") or ())),
        gamma=float(hp.get("gamma", 0.1)),
    )


def _rescale_schedulers(trainer: L.Trainer, plan: SchedulePlan, steps_per_epoch: float) -> bool:
    """Give the per-step `LambdaLR` of the run `plan`'s multiplier, from the next step on; whether one was
    found."""
    found = False
    for config in trainer.lr_scheduler_configs:
        scheduler = config.scheduler
        if not isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR) or config.interval != "step":
            continue
        factor = plan.factor(steps_per_epoch)
        scheduler.lr_lambdas = [factor for _ in scheduler.lr_lambdas]
        # The rate of the next step was set by the old multiplier; set it from the new one.
        for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, strict=True):
            group["lr"] = base * factor(scheduler.last_epoch)
        found = True
    if not found:
        rank_zero_warn("--budget: no per-step LambdaLR schedule found; only the number of epochs changed")
    return found


def _plan_state(plan: SchedulePlan | None) -> dict[str, Any] | None:
    return None if plan is None else {**asdict(plan), "milestones": list(plan.milestones)}


def _plan_from_state(state: dict[str, Any] | None) -> SchedulePlan | None:
    return None if not state else SchedulePlan(**{**state, "milestones": tuple(state["milestones"])})


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
