"""Check-up metrics, each a class with ``update`` / ``compute`` / ``reset`` and a
functional twin:

* fidelity (:mod:`~snellen.metrics.fidelity`): percentile rank of an image's true description
  among the descriptions of its category, under an image-text scorer;
* diversity (:mod:`~snellen.metrics.diversity`): mean pairwise LPIPS within a concept;
* realism (:mod:`~snellen.metrics.realism`): FID and KID against a reference folder;
* VQA accuracy and binary AUC (:mod:`~snellen.metrics.vqa`), for LENS.

:func:`score_run` applies them to a check-up run. Values computed with offline stand-in
networks carry ``non-standard`` in their names and ``standard: false``.
"""

from snellen.metrics.bootstrap import mean_interval, paired_difference
from snellen.metrics.compare import Comparison, compare_runs
from snellen.metrics.diversity import Diversity, diversity, lpips_distance
from snellen.metrics.fidelity import Fidelity, aggregate, fidelity, rank_and_percentile
from snellen.metrics.realism import (
    Realism,
    feature_extractor,
    fid_from_features,
    frechet_distance,
    kid_from_features,
    realism,
)
from snellen.metrics.run import score_run
from snellen.metrics.vqa import BinaryAUC, VQAAccuracy, binary_auc, vqa_accuracy

__all__ = [
    "Comparison",
    "compare_runs",
    "mean_interval",
    "paired_difference",
    "BinaryAUC",
    "VQAAccuracy",
    "binary_auc",
    "vqa_accuracy",
    "Diversity",
    "Fidelity",
    "Realism",
    "aggregate",
    "diversity",
    "feature_extractor",
    "fid_from_features",
    "fidelity",
    "frechet_distance",
    "kid_from_features",
    "lpips_distance",
    "rank_and_percentile",
    "realism",
    "score_run",
]
