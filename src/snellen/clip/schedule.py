"""The learning-rate schedule of snellen's trainers (ShapesCLIP training and NegCLIP
fine-tuning), and fitting it to a wall-clock budget.

Linear warm-up to the peak, then a cosine decay to 0. With a time budget (``--max-minutes``)
the trainer first times a few steps, estimates how many steps the budget holds
(:func:`fit_steps`), and sets the schedule's length to that, so a time-limited run warms up,
decays and ends annealed instead of being cut off part-way (a fixed 750-step schedule
stopped by the clock after 60 steps never leaves its warm-up). If the machine slows down
after the estimate, the decay follows the clock as well (``time_progress``), so the run
still ends at a learning rate near 0 when its time is up.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BudgetFit", "StepTimer", "fit_steps", "warmup_cosine"]

# the warm-up of a schedule shortened to fit a budget is at most this share of it
MAX_WARMUP_SHARE = 0.1


def warmup_cosine(
    step: int, total: int, peak: float, warmup: int, time_progress: float = 0.0
) -> float:
    """The learning rate of ``step`` (0-based) of ``total``: linear warm-up over ``warmup``
    steps, then cosine decay to 0 by the end of the steps or of the time budget
    (``time_progress``, the share of it used), whichever comes first."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = max((step - warmup) / max(1, total - warmup), time_progress)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class BudgetFit:
    """How a schedule was fitted to a time budget: the steps the settings ask for, the
    measured speed, and the steps (and warm-up) the budget holds."""

    planned_steps: int
    fitted_steps: int
    warmup_steps: int
    seconds_per_step: float
    timed_steps: int
    budget_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_steps(
    planned_steps: int,
    warmup_steps: int,
    *,
    done_steps: int,
    seconds_per_step: float,
    seconds_left: float,
    timed_steps: int,
    budget_seconds: float,
) -> BudgetFit:
    """The schedule a budget holds: ``done_steps`` already taken plus as many more as
    ``seconds_left`` allows at ``seconds_per_step``, never more than ``planned_steps``; the
    warm-up shrinks with it (to at most a tenth of the fitted steps), never below 1."""
    more = int(max(0.0, seconds_left) / max(seconds_per_step, 1e-9))
    fitted = max(done_steps + 1, min(planned_steps, done_steps + more))
    warmup = warmup_steps
    if fitted < planned_steps:
        warmup = max(1, min(warmup_steps, int(MAX_WARMUP_SHARE * fitted)))
    return BudgetFit(
        planned_steps=planned_steps,
        fitted_steps=fitted,
        warmup_steps=warmup,
        seconds_per_step=round(seconds_per_step, 4),
        timed_steps=timed_steps,
        budget_seconds=round(budget_seconds, 1),
    )


class StepTimer:
    """Times ``probe`` training steps after the first (which pays one-off costs: allocation,
    lazy initialisation) and then says the measured seconds per step, once."""

    def __init__(self, probe: int = 8) -> None:
        self.probe = max(1, probe)
        self._start: float | None = None
        self._steps = 0
        self.done = False

    def step(self) -> float | None:
        """Call after every step; returns the seconds per step when the probe is complete."""
        if self.done:
            return None
        now = time.monotonic()
        if self._start is None:
            self._start = now
            return None
        self._steps += 1
        if self._steps < self.probe:
            return None
        self.done = True
        return (now - self._start) / self._steps
