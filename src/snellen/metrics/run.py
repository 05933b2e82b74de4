"""Scoring a check-up run: fidelity, diversity and (with a reference folder) realism of its
rendered drawings, written into the run (``metrics`` and per-drawing ``fidelity`` records)
and to ``RUN/metrics.json``.

Reads the run's ``drawings`` records; the fields used are ``key``, ``concept_id``,
``category``, ``description``, ``language``, ``model``, ``sample``, ``round``, ``status``,
``image`` (an artifact reference or a path) and, when present, ``task``. Only drawings
with status ``ok`` and an image are scored; every description in the run (failed drawings
included) is a fidelity candidate for its category.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from PIL import Image

from snellen.errors import InputError
from snellen.metrics.fidelity import Fidelity, aggregate

DRAWINGS = "drawings"
FIDELITY = "fidelity"
METRICS = "metrics"
GROUPS = ("task", "category", "language", "model", "round")


def _records_table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


def _open(run: Any, ref: str) -> Image.Image:
    from snellen.clip.data import resolve_image

    im = Image.open(resolve_image(run, ref))
    im.load()
    return im


def score_run(
    run_or_path: Any,
    scorer: Any = None,
    reference: str | Path | None = None,
    *,
    lpips_weights: str | Path | None = None,
    lpips_net: str = "alex",
    lpips_heads: str | Path | None = None,
    inception_weights: str | Path | None = None,
    diversity: bool = True,
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score the drawings of a run and store the results in it; returns the metrics dict
    (the content of ``RUN/metrics.json``). ``scorer`` is a :class:`~snellen.score.Scorer`, a
    registry name, or None for ``snellen-shapes``; ``device`` is for the scorer named by a
    string and for the metric networks (default: CUDA when present)."""
    from snellen.score import DEFAULT_SCORER, Scorer, load_scorer
    from snellen.store import Run

    t0 = time.monotonic()
    if not isinstance(run_or_path, Run) and not (Path(run_or_path) / "records.sqlite").exists():
        raise InputError(f"{run_or_path} is not a snellen run directory (no records.sqlite)")
    run = run_or_path if isinstance(run_or_path, Run) else Run(run_or_path)
    say = log or (lambda _m: None)
    drawings = list(run.records(DRAWINGS))
    if not drawings:
        raise InputError(
            f"{run.path} has no '{DRAWINGS}' records to score (kinds present: "
            f"{', '.join(run.kinds()) or 'none'}); score the output of `snellen checkup`"
        )
    for field in ("category", "description", "status"):
        if any(field not in r for r in drawings):
            raise InputError(f"{run.path}: '{DRAWINGS}' records lack the field {field!r}")
    ok = [r for r in drawings if r["status"] == "ok" and r.get("image")]
    if not isinstance(scorer, Scorer):
        scorer = load_scorer(scorer or DEFAULT_SCORER, **({"device": device} if device else {}))
    say(f"{len(ok)} of {len(drawings)} drawings rendered; scoring with {scorer.name}")

    fid = Fidelity(scorer)
    fid.add_candidates([r["description"] for r in drawings], [r["category"] for r in drawings])
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(ok), unit="img", desc="fidelity", mininterval=1.0)
    for i in range(0, len(ok), batch_size):
        batch = ok[i : i + batch_size]
        fid.update(
            [_open(run, r["image"]) for r in batch],
            [r["description"] for r in batch],
            [r["category"] for r in batch],
            meta=[
                {
                    "drawing": r["key"],
                    "concept_id": r.get("concept_id"),
                    **{g: r.get(g) for g in GROUPS if g != "category"},
                    "sample": r.get("sample"),
                }
                for r in batch
            ],  # fmt: skip
        )
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    per_image = fid.compute()
    non_standard = bool(not scorer.labels.get("standard", True))
    fid_label = f"fidelity[{scorer.name}{', non-standard' if non_standard else ''}]"
    if len(per_image):
        run.put_many(
            FIDELITY,
            (
                (f"{row['drawing']}|{scorer.name}", {**row, "scorer": scorer.name})
                for row in _records_table(per_image)
            ),
        )
    tables = aggregate(per_image, "percentile", GROUPS) if len(per_image) else {}
    notes: list[str] = []
    if non_standard:
        notes.append(f"{fid_label}: {scorer.labels.get('note', 'non-standard scorer')}")
    domain = scorer.labels.get("domain", "")
    off_domain = sorted({r["category"] for r in ok} - {"shapes"}) if domain == "VAD shapes" else []
    if off_domain:
        notes.append(
            f"{scorer.name} was trained on shapes only; fidelity for {', '.join(off_domain)} is a "
            "rough indication (name a real CLIP with --scorer for these)"
        )
    metrics: dict[str, Any] = {
        "run": str(run.path),
        "scorer": {"name": scorer.name, **scorer.labels},
        "drawings": len(drawings),
        "rendered": len(ok),
        "fidelity": {
            "metric": fid_label,
            "standard": not non_standard,
            "definition": "percentile rank of the true description among all descriptions of "
            "the same category in the run: 100*(N-1-above-ties/2)/(N-1); 100 = ranked first",
            "overall": _records_table(tables["all"])[0] if tables else None,
            "by": {k: _records_table(v) for k, v in tables.items() if k != "all"},
        },
    }

    if diversity:
        from snellen.metrics.diversity import Diversity, lpips_distance, summarise

        dist = lpips_distance(lpips_net, lpips_weights, lpips_heads, device)
        div = Diversity(dist)
        keys = ("task", "concept_id", "category", "language", "model", "round")
        for i in range(0, len(ok), batch_size):
            batch = ok[i : i + batch_size]
            div.update(
                [_open(run, r["image"]) for r in batch],
                [tuple(r.get(k) for k in keys) for r in batch],
                meta=[{k: r.get(k) for k in keys} for r in batch],
            )
        groups = div.compute()
        div_label = f"diversity[{dist.label}]"
        metrics["diversity"] = {
            "metric": div_label,
            "standard": dist.standard,
            "definition": "mean pairwise distance between the images of one (task, concept, "
            "language, model, round); groups with fewer than two images are left out",
            "resize": f"clean-fid convention to {div.size}x{div.size}, rounded to 8 bits, "
            "scaled to [-1, 1]",
            "groups": int(groups["diversity"].notna().sum()) if len(groups) else 0,
            "by": {
                "task,category,language": _records_table(
                    summarise(groups, ["task", "category", "language"])
                ),
                "language": _records_table(summarise(groups, ["language"])),
                "model": _records_table(summarise(groups, ["model"])),
            },
        }
        if not dist.standard:
            notes.append(
                f"{div_label}: EfficientNet-Lite0 features with uniform weights, not LPIPS; "
                "pass --lpips-weights for the standard LPIPS"
            )

    if reference is not None:
        from snellen.metrics.realism import Realism, feature_extractor

        feats = feature_extractor(
            "inception" if inception_weights else "efficientnet-lite0", inception_weights, device
        )
        overall = Realism(reference, feats)
        # features once per drawing; the per-language scores take subsets of them
        features = torch.cat(
            [feats([_open(run, r["image"]) for r in ok[i : i + batch_size]]) for i in range(0, len(ok), batch_size)]
        ) if ok else torch.zeros(0, 1)  # fmt: skip
        result = overall.score_features(features)
        by_language = {}
        for lang in sorted({r["language"] for r in ok}):
            idx = [i for i, r in enumerate(ok) if r["language"] == lang]
            if len(idx) >= 2:
                by_language[lang] = overall.score_features(features[idx])
        metrics["realism"] = {**result, "reference": str(reference), "by_language": by_language}
        if not feats.standard:
            notes.append(
                f"fid/kid[{feats.label}]: EfficientNet-Lite0 features, not Inception-v3; "
                "pass --inception-weights for the standard FID"
            )
    metrics["labels"] = notes
    metrics["seconds"] = round(time.monotonic() - t0, 2)
    from snellen.store.run import content_key

    key = content_key(scorer.name, str(reference), str(lpips_weights), str(inception_weights))
    run.put(METRICS, key, metrics)
    _write_json(run.path / "metrics.json", metrics)
    return metrics


def _write_json(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, default=str)
    os.replace(tmp, path)


def drawing_images(run: Any, records: Iterable[dict[str, Any]]) -> list[Image.Image]:
    return [_open(run, r["image"]) for r in records]
