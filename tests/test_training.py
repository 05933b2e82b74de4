"""The training layer (snellen.training): the one warm-up/cosine schedule, its fit to a
wall-clock budget (a time-limited run gets a schedule it can finish: warm-up, decay, annealed
end, instead of one the clock cuts off), and the resumable training state."""

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


# ---------------------------------------------------------------- the training state


def _parts(seed: int = 0):
    import random

    import torch

    from snellen.training.schedule import warmup_cosine_factor
    from snellen.training.state import TrainingState

    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine_factor(10, 2))
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    state = TrainingState(model, opt, sched, generators={"g": gen}, randoms={"r": rng})
    return state, model, opt, sched, gen, rng


def _train(parts, steps: int) -> list[float]:
    import random

    import numpy as np
    import torch

    _, model, opt, sched, gen, rng = parts
    out = []
    for _ in range(steps):
        x = torch.randn(8, 4, generator=gen) + torch.rand(1)  # a private and the global draw
        loss = (model(x) * (1 + rng.random() + random.random() + np.random.rand())).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        out.append(float(loss.detach()))
    return out


def test_a_saved_state_resumes_to_the_run_that_never_stopped(tmp_path):
    import random

    import numpy as np
    import torch

    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    whole = _parts()
    losses = _train(whole, 6)
    final = {k: v.clone() for k, v in whole[1].state_dict().items()}

    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    first = _parts()
    head = _train(first, 3)
    path = tmp_path / "state.pt"
    first[0].save(path, settings={"lr": 0.1}, step=3, epoch=0, note="kept")
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file
    # another process: everything drawn and stepped since is forgotten
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    second = _parts(seed=5)
    saved = second[0].resume(path, settings={"lr": 0.1}, mismatch="{path}: {diff}", hint="x")
    assert saved["step"] == 3 and saved["note"] == "kept" and saved["config"] == {"lr": 0.1}
    assert head + _train(second, 3) == losses
    for k, v in second[1].state_dict().items():
        assert torch.equal(v, final[k]), k
    assert second[3].last_epoch == 6


def test_other_settings_or_a_torn_file_never_resume(tmp_path):
    from snellen.errors import InputError
    from snellen.training.state import atomic_save

    state = _parts()[0]
    path = tmp_path / "state.pt"
    state.save(path, settings={"lr": 0.1, "seed": 0}, step=1, epoch=0)
    with pytest.raises(InputError, match=r"state.pt differs in seed"):
        state.resume(path, settings={"lr": 0.1, "seed": 1}, mismatch="{path} differs in {diff}",
                     hint="start over")  # fmt: skip
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot read this training state.*start over"):
        state.resume(path, settings={}, mismatch="", hint="start over")

    # a save that fails part-way leaves the previous file whole and no temporary file
    atomic_save({"model": 1}, path)
    before = path.read_bytes()

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        atomic_save({"model": Unpicklable()}, path)
    assert path.read_bytes() == before and not list(tmp_path.glob(".*.tmp"))


def test_a_negclip_state_of_the_earlier_layout_resumes(tmp_path):
    """Fine-tunes killed before the shared layout left OUT.resume.pt with settings,
    generator, random and torch_random at the top level: they still resume."""
    import random

    import torch

    from snellen.evaluate.negclip import _upgrade_state
    from snellen.training.state import TrainingState

    state, model, opt, _, gen, rng = _parts()
    _train((state, model, opt, _, gen, rng), 2)
    old = {
        "settings": {"lr": 0.1},
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "random": rng.getstate(),
        "torch_random": torch.get_rng_state(),
        "loop": {"step": 2},
    }
    path = tmp_path / "old.resume.pt"
    torch.save(old, path)
    want_gen, want_rng = torch.randn(3, generator=gen), rng.random()
    fresh = _parts(seed=3)
    # NegCLIP's parts: no scheduler (it sets its learning rate itself), its two generators
    fresh_state = TrainingState(fresh[1], fresh[2], generators={"batches": fresh[4]},
                                randoms={"draws": fresh[5]})  # fmt: skip
    saved = fresh_state.resume(path, settings={"lr": 0.1}, upgrade=_upgrade_state,
                            mismatch="{diff}", hint="")  # fmt: skip
    assert saved["loop"] == {"step": 2}
    assert torch.equal(torch.randn(3, generator=fresh[4]), want_gen)
    assert fresh[5].random() == want_rng
    assert isinstance(fresh[5], random.Random)
    for k, v in fresh[1].state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k


def test_the_schedule_as_a_lambda_factor_is_the_same_schedule():
    from snellen.training.schedule import warmup_cosine_factor

    factor = warmup_cosine_factor(100, 10)
    assert [factor(s) for s in range(101)] == [warmup_cosine(s, 100, 1.0, 10) for s in range(101)]
    assert factor(0) == pytest.approx(0.1) and factor(100) == pytest.approx(0.0)
