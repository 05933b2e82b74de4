"""The training layer every snellen trainer shares (ShapesCLIP training, NegCLIP
fine-tuning, MoCo pre-training): the one warm-up/cosine learning-rate schedule and its fit
to a wall-clock budget (:mod:`snellen.training.schedule`), and the resumable training state
(:mod:`snellen.training.state`: atomic saves; model, optimizer, scheduler, random states).
"""

from snellen.training.schedule import (
    BudgetFit,
    StepTimer,
    fit_steps,
    set_lr,
    warmup_cosine,
    warmup_cosine_factor,
)
from snellen.training.state import (
    TrainingState,
    atomic_save,
    read_state,
    rng_kept,
    rng_state,
    set_rng_state,
    settings_diff,
)

__all__ = [
    "BudgetFit",
    "StepTimer",
    "TrainingState",
    "atomic_save",
    "fit_steps",
    "read_state",
    "rng_kept",
    "rng_state",
    "set_lr",
    "set_rng_state",
    "settings_diff",
    "warmup_cosine",
    "warmup_cosine_factor",
]
