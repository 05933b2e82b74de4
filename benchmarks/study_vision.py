"""The vision-from-text study, end to end at a CPU scale: for each image source, the same
number of images, the same ResNet-18, the same MoCo-v2 budget at the same size; then linear
and weighted-kNN probes of every backbone (and of a random-init one) on Fashion-MNIST and
the handwritten digits. Writes a JSON of everything, loss-curve and accuracy plots, a
Markdown table and a self-contained HTML page. Every step is resumable: rerun the same
command after an interruption.

The full CPU study (about an hour on an idle 2-core machine is NOT enough for it; see
docs/vision.md for the measured rates) and the reduced one differ only in the numbers:

    .venv/bin/python benchmarks/study_vision.py --work /tmp/study --n 512 --epochs 2 \
        --batch-size 32 --size 64 --fmnist-train 2000 --fmnist-test 1000

Sources (--sources, ';'-separated): the recorded transcripts with parametric variants,
VAD shapes, dead leaves (mixed), fractals, shaders (benchmarks/shaders), and the
random-init floor that every probe reports.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from snellen.data import ROOT as DATA_ROOT

REPO = Path(__file__).resolve().parents[1]
SHARED = DATA_ROOT / "llm-drawings"  # the recordings that ship with snellen


def default_sources() -> dict[str, str]:
    tsvs = ",".join(str(p) for p in sorted(SHARED.glob("*.tsv"))) if SHARED.is_dir() else ""
    out = {}
    if tsvs:
        out["llm-transcripts"] = f"transcripts:{tsvs}"
    out.update({
        "vad-shapes": "vad-shapes",
        "dead-leaves": "dead-leaves:mixed",
        "fractals": "fractals",
        "shaders": f"shaders:{REPO / 'benchmarks' / 'shaders'}",
    })  # fmt: skip
    return out


def figure_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def main() -> int:
    from snellen.imagesets import build_dataset
    from snellen.pretrain import pretrain
    from snellen.probe import load_dataset, probe

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="working directory (resumable)")
    ap.add_argument("--n", type=int, default=512, help="images per source")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--momentum", type=float, default=0.99, help="key-encoder momentum")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training")
    ap.add_argument("--fmnist-train", type=int, default=2000)
    ap.add_argument("--fmnist-test", type=int, default=1000)
    ap.add_argument("--sources", default=None, help="NAME=SOURCE;NAME=SOURCE (default: all)")
    ap.add_argument("--docs", default=str(REPO / "docs"), help="where the table and plots go")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    sources = (
        dict(part.split("=", 1) for part in args.sources.split(";"))
        if args.sources
        else default_sources()
    )
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t_study = time.monotonic()
    timings: dict[str, dict[str, float]] = {}
    probes = {
        "fashion-mnist": load_dataset("fashion-mnist", seed=args.seed).limit(
            args.fmnist_train, args.fmnist_test, args.seed
        ),
        "digits": load_dataset("digits", seed=args.seed),
    }
    results: dict[str, Any] = {}
    histories: dict[str, list[dict[str, Any]]] = {}
    floor: dict[str, Any] = {}
    for name, spec in sources.items():
        t0 = time.monotonic()
        ds = build_dataset(spec, args.n, args.size, work / "data" / name, seed=args.seed,
                           shard_size=128, workers=args.workers)  # fmt: skip
        t1 = time.monotonic()
        ckpt = work / "ckpt" / f"{name}.pt"
        ckpt.parent.mkdir(exist_ok=True)
        r = pretrain(str(work / "data" / name), ckpt, arch="resnet18", epochs=args.epochs,
                     batch_size=args.batch_size, size=args.size, momentum=args.momentum,
                     seed=args.seed, threads=args.threads, workers=1, save_every=50)  # fmt: skip
        t2 = time.monotonic()
        import torch

        histories[name] = torch.load(ckpt, map_location="cpu", weights_only=False)["history"]
        results[name] = {"images": ds.images, "failed": sum(ds.failures.values()),
                         "final_loss": r.final_loss, "pretrain_images_per_s": r.images_per_s}  # fmt: skip
        for pname, splits in probes.items():
            rep = probe(ckpt, pname, data=splits, k=5, seed=args.seed, threads=args.threads,
                        cache_dir=work / "features")  # fmt: skip
            mine, rand = rep.results
            results[name][pname] = {"linear": mine.linear_top1, "knn": mine.knn_top1,
                                    "train": rep.train_size, "test": rep.test_size}  # fmt: skip
            floor[pname] = {"linear": rand.linear_top1, "knn": rand.knn_top1,
                            "train": rep.train_size, "test": rep.test_size}  # fmt: skip
        timings[name] = {"build_s": round(t1 - t0, 1), "pretrain_s": round(t2 - t1, 1),
                         "probe_s": round(time.monotonic() - t2, 1)}  # fmt: skip
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr)
    results["random-init"] = {"images": 0, **floor}
    summary = {
        "config": vars(args), "sources": sources, "results": results, "timings": timings,
        "seconds": round(time.monotonic() - t_study, 1), "load_average": os.getloadavg(),
    }  # fmt: skip
    (work / "study.json").write_text(json.dumps(summary, indent=2, default=str))
    write_outputs(summary, histories, Path(args.docs))
    return 0


def write_outputs(
    summary: dict[str, Any], histories: dict[str, list[dict[str, Any]]], docs: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = summary["results"]
    names = list(results)
    cfg = summary["config"]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, hist in histories.items():
        ax.plot([h["step"] for h in hist], [h["loss"] for h in hist], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("MoCo loss (InfoNCE)")
    ax.set_title(
        f"MoCo-v2, ResNet-18, {cfg['n']} images x {cfg['epochs']} epochs at {cfg['size']}px"
    )
    ax.legend(fontsize=8)
    loss_png = figure_png(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=False)
    for ax, pname in zip(axes, ("fashion-mnist", "digits"), strict=True):
        xs = range(len(names))
        lin = [results[n][pname]["linear"] for n in names]
        knn = [results[n][pname]["knn"] for n in names]
        ax.bar([x - 0.2 for x in xs], lin, 0.4, label="linear")
        ax.bar([x + 0.2 for x in xs], knn, 0.4, label="kNN (k=5)")
        ax.set_xticks(list(xs), names, rotation=30, ha="right", fontsize=8)
        lo = min(lin + knn)
        ax.set_ylim(max(0.0, lo - 0.1), 1.0)
        ax.set_title(pname)
        ax.legend(fontsize=8)
    acc_png = figure_png(fig)
    plt.close(fig)
    fig_dir = docs / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    (fig_dir / "vision_study_loss.png").write_bytes(loss_png)
    (fig_dir / "vision_study_probes.png").write_bytes(acc_png)

    fm, dg = results[names[0]]["fashion-mnist"], results[names[0]]["digits"]
    head = (
        "| source | images | Fashion-MNIST linear | Fashion-MNIST kNN | digits linear | digits kNN |\n"
        "|---|---|---|---|---|---|\n"
    )
    ranked = sorted(names, key=lambda n: -results[n]["fashion-mnist"]["linear"])
    rows = "".join(
        f"| {n} | {results[n]['images']} | {results[n]['fashion-mnist']['linear']:.4f} | "
        f"{results[n]['fashion-mnist']['knn']:.4f} | {results[n]['digits']['linear']:.4f} | "
        f"{results[n]['digits']['knn']:.4f} |\n"
        for n in ranked
    )
    note = (
        f"ResNet-18, MoCo-v2, {cfg['n']} images per source at {cfg['size']}px, {cfg['epochs']} "
        f"epochs of batch {cfg['batch_size']}, key momentum {cfg['momentum']}; probes on "
        f"Fashion-MNIST ({fm['train']} train / {fm['test']} test, stratified subset) and "
        f"digits ({dg['train']} / {dg['test']}); seed {cfg['seed']}; "
        f"{summary['seconds'] / 60:.1f} min in all, load average {summary['load_average'][0]:.1f}."
    )
    table = head + rows
    (docs / "vision-study-table.md").write_text(note + "\n\n" + table)
    b64 = {k: base64.b64encode(v).decode() for k, v in (("loss", loss_png), ("acc", acc_png))}
    html_rows = "".join(
        "<tr>" + "".join(f"<td>{c.strip()}</td>" for c in line.strip("|").split("|")) + "</tr>"
        for line in rows.strip().splitlines()
    )
    html = f"""<!doctype html><html><head><meta charset="utf-8"><title>snellen: vision from text</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}
td:first-child{{text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>Vision from text: which images teach a ResNet to see?</h1><p>{note}</p>
<table><tr><th>source</th><th>images</th><th>Fashion-MNIST linear</th><th>Fashion-MNIST kNN</th>
<th>digits linear</th><th>digits kNN</th></tr>{html_rows}</table>
<h2>Pre-training loss</h2><img alt="loss curves" src="data:image/png;base64,{b64["loss"]}">
<h2>Probe accuracy per source</h2><img alt="probe accuracy" src="data:image/png;base64,{b64["acc"]}">
</body></html>"""
    (docs / "vision-study.html").write_text(html)


if __name__ == "__main__":
    sys.exit(main())
