"""snellen: a vision check-up for language models, and vision systems built out of text.

The Python API mirrors the command line: every ``snellen SUBCOMMAND`` calls one of the
functions below (also reachable from the sub-package named after it), with the same
argument names. Names are imported lazily, so ``import snellen`` stays cheap.

>>> import snellen
>>> snellen.load_concepts("objects-2", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; each pairs with a subcommand
_API = {
    "run_checkup": "snellen.checkup",  # snellen checkup
    "run_demo": "snellen.checkup.demo",  # snellen demo --checkup-only
    "run_tour": "snellen.reproduce.demo",  # snellen demo (make demo)
    "export_concepts": "snellen.concepts",  # snellen concepts export
    "load_concepts": "snellen.concepts",
    "iter_concepts": "snellen.concepts",
    "list_concept_sets": "snellen.concepts",  # snellen concepts list
    "render_programs": "snellen.render",  # snellen render
    "render_many": "snellen.render",
    "render_one": "snellen.render",
    "extract_code": "snellen.render",
    "RenderJob": "snellen.render",
    "score_run": "snellen.metrics",  # snellen score
    "load_scorer": "snellen.score",
    "train_clip": "snellen.clip",  # snellen train-clip
    "TrainConfig": "snellen.clip",
    "write_report": "snellen.report",  # snellen report
    "write_eval_report": "snellen.report",  # snellen report DIR (of eval runs)
    "compare_runs": "snellen.metrics",  # snellen compare RUN [RUN ...]
    "write_compare": "snellen.report",  # snellen compare --out FILE.html|.csv|.md
    "load_model": "snellen.llm",  # snellen llm ask / serve
    "ChatRequest": "snellen.llm",
    "grammar_text": "snellen.llm.grammar",  # snellen checkup --constrain grammar
    "drawing_grammar": "snellen.llm.grammar",
    "Run": "snellen.store",
    "build_dataset": "snellen.imagesets",  # snellen dataset build
    "load_source": "snellen.imagesets",
    "run_pretrain": "snellen.pretrain",  # snellen pretrain
    "load_backbone": "snellen.pretrain",
    "run_probe": "snellen.probe",  # snellen probe
    "run_lens": "snellen.lens",  # snellen lens classify | vqa | binary
    "build_vocab": "snellen.lens",  # snellen lens vocab
    "build_shapes_vqa": "snellen.datasets",  # snellen lens shapes-data vqa
    "build_shapes_classify": "snellen.datasets",  # snellen lens shapes-data classify
    "load_dataset": "snellen.datasets",  # every dataset of snellen eval, probe and lens
    "run_eval": "snellen.evaluate",  # snellen eval
    "results_table": "snellen.evaluate",  # snellen eval table
    "sweep": "snellen.evaluate",  # snellen eval TASK --model A,B --dataset X,Y
    "run_reproduce": "snellen.reproduce",  # snellen reproduce NAME
    "read_finding": "snellen.reproduce",  # a findings.json back as a Finding
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'snellen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
