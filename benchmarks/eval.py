"""Throughput of `snellen eval` against clip_benchmark on the same model and data.

    .venv/bin/python benchmarks/eval.py            # 384 images, ViT-B-32
    .venv/bin/python benchmarks/eval.py --quick    # 96 images

Model: open_clip's ViT-B-32 architecture with random weights (no CLIP weights install
offline; the compute is the real model's). Data: an ImageFolder of VAD shapes rendered from
their reference programs and saved as 512 px JPEGs (12 shape classes), so every image is
decoded and resized, as photographs are. Both sides use the same DataLoader worker count and
batch size; clip_benchmark runs with its default ``amp=True`` (bfloat16 autocast on the
CPU) and with ``amp=False`` (float32, what snellen computes). Zero-shot times
``zero_shot_classifier`` + ``run_classification`` (clip_benchmark 1.6.2's last step,
``accuracy``, fails under numpy 2, so it is left out of its timing); retrieval times its
``evaluate`` whole. Every row is the best of ``--repeats`` runs; images/s = images / wall
time of the whole task (text encoding included). The accuracies of each pair of rows are
printed so a reader sees they computed the same thing.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch


def make_data(root: Path, n: int) -> tuple[Path, Path]:
    from snellen.clip.data import render_svg_reference
    from snellen.concepts.shapes import iter_shapes

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
        items.append({"image": name, "caption": [c.description]})
    (karpathy / "coco_karpathy_test.json").write_text(json.dumps(items))
    return folder, karpathy


def best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    n = 96 if args.quick else 384

    import open_clip
    from clip_benchmark.metrics import zeroshot_classification as zc
    from clip_benchmark.metrics import zeroshot_retrieval as zr
    from PIL import Image
    from torchvision.datasets import ImageFolder

    from snellen.evaluate import build_dataset, evaluate
    from snellen.evaluate.embed import clear_text_cache

    tmp = Path(tempfile.mkdtemp(prefix="snellen-bench-eval-"))
    folder, karpathy = make_data(tmp, n)
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32")
    model.eval()
    weights = tmp / "vit-b-32-random.pt"
    torch.save(model.state_dict(), weights)
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    name = f"open-clip:ViT-B-32:{weights}"
    from snellen.score import load_scorer

    scorer = load_scorer(name, device="cpu", batch_size=args.batch_size)
    data = build_dataset("imagefolder", folder)
    n_images = len(data)
    rows = []

    def ours_zs():
        clear_text_cache()
        return evaluate("zeroshot", scorer, "imagefolder", folder, workers=args.workers,
                        batch_size=args.batch_size, progress=False).metrics["acc1"]  # fmt: skip

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

    retrieval = build_dataset("retrieval/coco", karpathy)

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(retrieval.images)

        def __getitem__(self, i):
            image = Image.open(retrieval.images[i].path).convert("RGB")
            return preprocess(image), retrieval.captions[i]

    def collate(batch):
        images, texts = zip(*batch, strict=True)
        return torch.stack(images), list(texts)

    def ours_ret():
        clear_text_cache()
        return evaluate("retrieval", scorer, "retrieval/coco", karpathy, workers=args.workers,
                        batch_size=args.batch_size, progress=False).metrics["image_retrieval_recall@5"]  # fmt: skip

    def ref_ret(amp: bool):
        def run():
            loader = torch.utils.data.DataLoader(Pairs(), batch_size=args.batch_size,
                                                 num_workers=args.workers, collate_fn=collate)  # fmt: skip
            return zr.evaluate(model, loader, tokenizer, "cpu", amp=amp, recall_k_list=[5])[
                "image_retrieval_recall@5"
            ]

        return run

    for task, label, fn in [
        ("zeroshot", "snellen eval", ours_zs),
        ("zeroshot", "clip_benchmark amp=False", ref_zs(False)),
        ("zeroshot", "clip_benchmark amp=True", ref_zs(True)),
        ("retrieval", "snellen eval", ours_ret),
        ("retrieval", "clip_benchmark amp=False", ref_ret(False)),
        ("retrieval", "clip_benchmark amp=True", ref_ret(True)),
    ]:
        seconds, value = best(fn, args.repeats)
        rows.append((task, label, n_images, seconds, n_images / seconds, value))

    print(f"\n{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"{args.workers} loader workers, batch {args.batch_size}, ViT-B-32 (random weights)")  # fmt: skip
    print(f"{'task':<10} {'system':<26} {'images':>6} {'seconds':>8} {'images/s':>9} {'metric':>8}")
    for task, label, k, s, rate, value in rows:
        print(f"{task:<10} {label:<26} {k:>6} {s:>8.2f} {rate:>9.1f} {value:>8.4f}")


if __name__ == "__main__":
    main()
