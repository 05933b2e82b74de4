"""The record one evaluation run writes; it lives with the other shared records
(:mod:`snellen.records.evaluation`), since the report reads it too."""

from snellen.records.evaluation import EvalResult

__all__ = ["EvalResult"]
