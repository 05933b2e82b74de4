"""Throughput of `snellen eval` against clip_benchmark on the same model and data.

    .venv/bin/python benchmarks/eval.py                # 384 images, ViT-B-32
    .venv/bin/python benchmarks/eval.py --quick        # 96 images

Model: open_clip's ViT-B-32 architecture with random weights (no CLIP weights install
offline; the compute is the real model's). Data: an ImageFolder of VAD shapes rendered from
their reference programs and saved as 512 px JPEGs (12 shape classes x 80 CLIP templates
for zero-shot), and the same pictures as a Karpathy test JSON with 5 captions each (five
phrasings of the picture's spec, as COCO's five annotators) for retrieval, so every image is
decoded and resized, as photographs are. Both sides use the same DataLoader worker count,
batch size and torch threads. Pairs are compared like for like: snellen ``fp32`` against
clip_benchmark ``amp=False``, snellen ``amp`` against clip_benchmark ``amp=True`` (its
default: bfloat16 autocast on the CPU), and snellen ``bf16`` (the model itself in bfloat16)
against clip_benchmark ``amp=True`` too. Zero-shot times ``zero_shot_classifier`` +
``run_classification`` (clip_benchmark 1.6.2's last step, ``accuracy``, fails under numpy 2,
so it is left out of its timing); retrieval times its ``evaluate`` whole. snellen's text
cache is cleared before each of its runs (cold: every text embedded). The systems run
interleaved (A B C D, A B C D, ...) so a change in machine load hits all of them; each row is
the median of ``--repeats`` runs, with the load average around them; images/s = images /
wall time of the whole task (text encoding included). The metric column shows that each
pair computed the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch


def make_data(root: Path, n: int) -> tuple[Path, Path]:
    from snellen.clip.data import render_svg_reference
    from snellen.concepts.shapes import iter_shapes
    from snellen.concepts.shapes.describe import describe

    folder, karpathy = root / "folder", root / "karpathy"
    (karpathy / "images").mkdir(parents=True)
    items, per_class = [], {}
    for c in iter_shapes(None, seed=3, split="all"):
        spec = c.attributes
        if spec["composition"] != "single":
            continue
        shape = spec["shape"]
        if per_class.get(shape, 0) >= n // 12 and len(per_class) >= 12:
            if sum(per_class.values()) >= n:
                break
            continue
        if shape not in per_class and len(per_class) >= 12:
            continue
        per_class[shape] = per_class.get(shape, 0) + 1
        image = render_svg_reference(c.programs["svg"], 512).convert("RGB")
        (folder / shape).mkdir(parents=True, exist_ok=True)
        image.save(folder / shape / f"{c.id.replace('/', '_')}.jpg", quality=90)
        name = f"images/{len(items):05d}.jpg"
        image.save(karpathy / name, quality=90)
        # five distinct captions per image, as COCO's five annotators: phrasings of one spec
        captions: list[str] = []
        for k in range(100):
            text = describe({**spec, "phrasing": int(spec.get("phrasing", 0)) + k})
            if text not in captions:
                captions.append(text)
            if len(captions) == 5:
                break
        items.append({"image": name, "caption": captions})
    (karpathy / "coco_karpathy_test.json").write_text(json.dumps(items))
    return folder, karpathy


def timed(fn) -> tuple[float, float, object]:
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    return seconds, os.getloadavg()[0], out


def _run_all(
    systems: dict[str, list[tuple[str, object]]], args: argparse.Namespace
) -> dict[tuple[str, str], list[tuple[float, float, object]]]:
    """Every system of every task, ``--repeats`` times, interleaved."""
    runs: dict[tuple[str, str], list[tuple[float, float, object]]] = {}
    for task in args.tasks.split(","):
        for r in range(args.repeats):
            for label, fn in systems[task]:
                seconds, load, value = timed(fn)
                runs.setdefault((task, label), []).append((seconds, load, value))
                print(f"  {task} {label} run {r + 1}: {seconds:.2f} s, load {load:.2f}, "
                      f"metric {value:.4f}", flush=True)  # fmt: skip
    return runs


def _report(
    runs: dict[tuple[str, str], list[tuple[float, float, object]]], n_images: int,
    args: argparse.Namespace,
) -> None:  # fmt: skip
    """The table of medians (and the rows as JSON with --out)."""
    rows = []
    for (task, label), rs in runs.items():
        seconds = statistics.median(s for s, _, _ in rs)
        loads = [ld for _, ld, _ in rs]
        rows.append({
            "task": task, "system": label, "images": n_images, "seconds": seconds,
            "images_per_s": n_images / seconds, "metric": rs[0][2],
            "load_min": min(loads), "load_max": max(loads),
            "runs": [s for s, _, _ in rs],
        })  # fmt: skip
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{torch.get_num_threads()} torch threads, {args.workers} loader workers, batch "
          f"{args.batch_size}, ViT-B-32 (random weights), {args.repeats} interleaved runs "
          "each (median)")  # fmt: skip
    print("| task | system | images | seconds (median) | images/s | speed-up | metric | "
          "load average |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    by = {(r["task"], r["system"]): r for r in rows}
    for r in rows:
        ref = {"snellen eval fp32": "clip_benchmark amp=False",
               "snellen eval amp": "clip_benchmark amp=True",
               "snellen eval bf16": "clip_benchmark amp=True"}.get(r["system"])  # fmt: skip
        speed = f"{by[(r['task'], ref)]['seconds'] / r['seconds']:.1f}x" if ref else ""
        metric = "acc1" if r["task"] == "zeroshot" else "R@5"
        print(f"| {r['task']} | {r['system']} | {r['images']} | {r['seconds']:.1f} | "
              f"{r['images_per_s']:.1f} | {speed} | {metric} {r['metric']:.4f} | "
              f"{r['load_min']:.1f}-{r['load_max']:.1f} |")  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    ap.add_argument("--tasks", default="zeroshot,retrieval")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    n = 96 if args.quick else 384
    if args.threads:
        torch.set_num_threads(args.threads)

    import open_clip
    from clip_benchmark.metrics import zeroshot_classification as zc
    from clip_benchmark.metrics import zeroshot_retrieval as zr
    from PIL import Image
    from torchvision.datasets import ImageFolder

    from snellen.datasets import build_dataset
    from snellen.evaluate import run_eval
    from snellen.evaluate.embed import clear_text_cache
    from snellen.score import load_scorer

    tmp = Path(tempfile.mkdtemp(prefix="snellen-bench-eval-"))
    folder, karpathy = make_data(tmp, n)
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32")
    model.eval()
    weights = tmp / "vit-b-32-random.pt"
    torch.save(model.state_dict(), weights)
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    scorer = load_scorer(f"open-clip:ViT-B-32:{weights}", device="cpu", batch_size=args.batch_size)
    data = build_dataset("imagefolder", folder)
    retrieval = build_dataset("retrieval/coco", karpathy)
    n_images = len(data)

    def ours_zs(precision: str):
        def run():
            clear_text_cache()
            return run_eval("zeroshot", scorer, "imagefolder", folder, workers=args.workers,
                            batch_size=args.batch_size, progress=False, data=data,
                            precision=precision).metrics["acc1"]  # fmt: skip

        return run

    def ref_zs(amp: bool):
        def run():
            loader = torch.utils.data.DataLoader(
                ImageFolder(str(folder), transform=preprocess), batch_size=args.batch_size,
                num_workers=args.workers,
            )  # fmt: skip
            clf = zc.zero_shot_classifier(
                model, tokenizer, data.classnames, data.templates, "cpu", amp=amp
            )
            logits, target = zc.run_classification(model, clf, loader, "cpu", amp=amp)
            return float((logits.argmax(1) == target).float().mean())

        return run

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(retrieval.images)

        def __getitem__(self, i):
            image = Image.open(retrieval.images[i].path).convert("RGB")
            return preprocess(image), retrieval.captions[i]

    def collate(batch):
        images, texts = zip(*batch, strict=True)
        return torch.stack(images), list(texts)

    def ours_ret(precision: str):
        def run():
            clear_text_cache()
            return run_eval("retrieval", scorer, "retrieval/coco", karpathy,
                            workers=args.workers, batch_size=args.batch_size, progress=False,
                            data=retrieval, precision=precision,
                            ).metrics["image_retrieval_recall@5"]  # fmt: skip

        return run

    def ref_ret(amp: bool):
        def run():
            loader = torch.utils.data.DataLoader(Pairs(), batch_size=args.batch_size,
                                                 num_workers=args.workers, collate_fn=collate)  # fmt: skip
            return zr.evaluate(model, loader, tokenizer, "cpu", amp=amp, recall_k_list=[5])[
                "image_retrieval_recall@5"
            ]

        return run

    systems = {
        "zeroshot": [
            ("snellen eval fp32", ours_zs("fp32")),
            ("clip_benchmark amp=False", ref_zs(False)),
            ("snellen eval amp", ours_zs("amp")),
            ("clip_benchmark amp=True", ref_zs(True)),
            ("snellen eval bf16", ours_zs("bf16")),
        ],
        "retrieval": [
            ("snellen eval fp32", ours_ret("fp32")),
            ("clip_benchmark amp=False", ref_ret(False)),
            ("snellen eval amp", ours_ret("amp")),
            ("clip_benchmark amp=True", ref_ret(True)),
            ("snellen eval bf16", ours_ret("bf16")),
        ],
    }
    runs = _run_all(systems, args)
    _report(runs, n_images, args)


if __name__ == "__main__":
    main()
