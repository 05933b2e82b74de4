"""The vision check-up tasks: draw, parametric diversity, recognize, correct, and the main
job that runs them end to end (:func:`run_checkup`, what ``snellen checkup`` calls).

>>> from snellen.checkup import run_checkup
>>> result = run_checkup("runs/demo")  # doctest: +SKIP
"""

from __future__ import annotations

from snellen.checkup.jobs import DRAWINGS, RECOGNITION, DrawJob, GenerationSettings, Reply
from snellen.checkup.pipeline import TASKS, CheckupResult, run_checkup
from snellen.checkup.prompts import PromptTemplates

__all__ = [
    "DRAWINGS",
    "RECOGNITION",
    "TASKS",
    "CheckupResult",
    "DrawJob",
    "GenerationSettings",
    "PromptTemplates",
    "Reply",
    "run_checkup",
]
