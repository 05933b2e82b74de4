"""Probing frozen backbones: linear (L-BFGS logistic regression or the MoCo SGD recipe) and
weighted kNN on cached features, beside a random-init floor.

>>> from snellen.probe import probe
>>> probe("moco.pt", "fashion-mnist", k=5).results  # doctest: +SKIP
"""

from snellen.probe.evaluate import ProbeReport, ProbeScores, extract_features, probe, score_features
from snellen.probe.metrics import Accuracy, accuracy, knn_predict, logistic_lbfgs, logistic_sgd

run_probe = probe  # the name in ``snellen``'s API (``snellen.probe`` is this package)

__all__ = [
    "Accuracy",
    "ProbeReport",
    "ProbeScores",
    "accuracy",
    "extract_features",
    "knn_predict",
    "logistic_lbfgs",
    "logistic_sgd",
    "probe",
    "run_probe",
    "score_features",
]
