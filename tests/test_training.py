"""The warm-up/cosine schedule shared by ShapesCLIP training and NegCLIP fine-tuning, and its
fit to a wall-clock budget: a time-limited run gets a schedule it can finish (warm-up,
decay, annealed end) instead of one the clock cuts off."""

from __future__ import annotations

import math

import pytest

from snellen.training.schedule import StepTimer, fit_steps, warmup_cosine


def test_warmup_then_cosine_to_zero():
    lrs = [warmup_cosine(s, 100, 1.0, 10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))  # decays after warm-up
    assert lrs[55] == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)))
    assert warmup_cosine(100, 100, 1.0, 10) == pytest.approx(0.0)
    # the clock can move the decay ahead of the steps, never the warm-up
    assert warmup_cosine(20, 100, 1.0, 10, time_progress=1.0) == pytest.approx(0.0)
    assert warmup_cosine(3, 100, 1.0, 10, time_progress=1.0) == pytest.approx(0.4)


def test_fit_shortens_the_schedule_and_its_warmup_to_the_budget():
    # 750 planned steps at 2 s a step, 10 steps done, 600 s left: 300 more
    fit = fit_steps(
        750, 50, done_steps=10, seconds_per_step=2.0, seconds_left=600.0, timed_steps=8,
        budget_seconds=620.0,
    )  # fmt: skip
    assert fit.fitted_steps == 310 and fit.planned_steps == 750
    assert fit.warmup_steps == 31  # a tenth of the fitted schedule, not half of it
    # the fitted schedule ends annealed at its last step
    assert warmup_cosine(fit.fitted_steps - 1, fit.fitted_steps, 1.0, fit.warmup_steps) < 1e-3
    # a budget that holds the whole plan changes nothing
    roomy = fit_steps(
        750, 50, done_steps=10, seconds_per_step=0.1, seconds_left=600.0, timed_steps=8,
        budget_seconds=620.0,
    )  # fmt: skip
    assert (roomy.fitted_steps, roomy.warmup_steps) == (750, 50)
    # no time left: the schedule ends after the next step
    spent = fit_steps(
        750, 50, done_steps=10, seconds_per_step=2.0, seconds_left=-5.0, timed_steps=8,
        budget_seconds=620.0,
    )  # fmt: skip
    assert spent.fitted_steps == 11 and spent.warmup_steps == 1


def test_step_timer_reports_after_its_probe_then_every_refit():
    once = StepTimer(probe=3, refit_every=0)
    got = [once.step() for _ in range(6)]
    assert got[:3] == [None, None, None] and got[3] is not None and got[3] >= 0
    assert got[4:] == [None, None] and once.done
    timer = StepTimer(probe=3, refit_every=2)
    due = [i for i in range(10) if timer.step() is not None]
    assert due == [3, 5, 7, 9]  # the first step is not timed


def test_a_refit_keeps_the_plan_and_a_finished_warmup():
    first = fit_steps(
        750, 50, done_steps=10, seconds_per_step=2.0, seconds_left=600.0, timed_steps=8,
        budget_seconds=620.0,
    )  # fmt: skip
    # the machine got faster: the schedule lengthens (never past the plan), warm-up kept
    later = fit_steps(
        first.fitted_steps, 50, done_steps=100, seconds_per_step=1.0, seconds_left=500.0,
        timed_steps=8, budget_seconds=620.0, previous=first,
    )  # fmt: skip
    assert later.planned_steps == 750 and later.fitted_steps == 600
    assert later.warmup_steps == first.warmup_steps == 31
    assert later.first_fitted_steps == 310 and later.refits == 1


@pytest.mark.slow
def test_a_time_limited_negclip_run_fits_its_schedule(tmp_path):
    """A 30-second budget (data included) on a schedule of 4,000 steps: timed, fitted,
    re-estimated, recorded. Slow on purpose: the budget must leave room for the probe steps
    on a loaded machine."""
    from snellen.clip.model import load_checkpoint
    from snellen.evaluate.negclip import NegClipConfig, finetune

    out = tmp_path / "fit.pt"
    cfg = NegClipConfig(
        n_train=32, batch_size=8, epochs=1000, warmup_steps=50, hard_images=0,
        negatives="none", threads=1, max_minutes=0.5, save_every=0,
    )  # fmt: skip
    result = finetune(cfg, out, log=None)
    assert result.fit is not None
    fit = result.fit
    assert fit["planned_steps"] == 4000 and fit["fitted_steps"] < 4000
    assert fit["seconds_per_step"] > 0 and fit["timed_steps"] == 8
    assert fit["warmup_steps"] <= max(1, fit["fitted_steps"] // 10)
    assert result.steps <= fit["fitted_steps"]
    assert load_checkpoint(str(out))[2]["schedule_fit"] == fit


def test_negclip_defaults_are_the_measured_recipe():
    from snellen.cli.train_clip import NEGCLIP_DEFAULTS
    from snellen.evaluate.negclip import NegClipConfig

    cfg = NegClipConfig()
    assert {k: getattr(cfg, k) for k in NEGCLIP_DEFAULTS} == NEGCLIP_DEFAULTS
    # 16,000 pairs in batches of 128 for 6 epochs: the 750 steps of docs/evaluate.md
    assert int(cfg.epochs * (cfg.n_train // cfg.batch_size)) == 750
