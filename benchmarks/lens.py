"""Speed of LENS's two stages on the shapes VQA set: the vision modules batched (what snellen
does) against one image at a time, and the cost split between vision and reasoner.

    .venv/bin/python benchmarks/lens.py                      # 64 images, 6 reasoner calls
    .venv/bin/python benchmarks/lens.py --images 32 --calls 4 --engine transformers

Vision rows: tags (snellen-shapes over the 23 shape names), attributes (over 253 colour-shape
phrases), captions (caption retrieval from a 20,000-caption bank; 10 sampled per image). The
text embeddings are computed once before the timing in both modes, as LENS stores them.
"Batched" sends 64 images per call; "one at a time" sends each alone. Every vision row is
the best of two runs. The reasoner row times LENS prompts of the VQA mode (10 retrieved
captions and a question) with a 10-token answer, no reply cache.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--engine", default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from PIL import Image

    from snellen.datasets import build_shapes_vqa
    from snellen.datasets.vqa import load_vqa
    from snellen.lens import CaptionModule, ImageBatch, Prompter, TagModule
    from snellen.lens.captioners import load_captioner
    from snellen.lens.modules import AttributeModule
    from snellen.lens.vocab import shape_names, shapes_descriptors
    from snellen.score import load_scorer

    tmp = Path(tempfile.mkdtemp(prefix="lens-bench-"))
    root = build_shapes_vqa(tmp / "data", n_val=args.images, n_train=0)
    items = load_vqa(root, "val")
    images = [Image.open(it.image).convert("RGB") for it in items]
    scorer = load_scorer("snellen-shapes", device="cpu")
    names = shape_names()
    attrs = [f"a {d} {n}" for n, ds in shapes_descriptors(names).items() for d in ds]
    modules = {
        "tags": TagModule(scorer, names, template="a {}", embeddings_dir=tmp / "emb"),
        "attributes": AttributeModule(scorer, attrs, embeddings_dir=tmp / "emb"),
        "captions": CaptionModule(load_captioner("shapes-retrieval", cache=tmp / "emb"), n=10),
    }

    def timed(batch_size: int, names: list[str]) -> float:
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            for i in range(0, len(images), batch_size):
                batch = ImageBatch(
                    [str(k) for k in range(i, i + batch_size)], images[i : i + batch_size]
                )
                for n in names:
                    modules[n].run(batch)
            best = min(best, time.perf_counter() - start)
        return best

    print(f"# LENS vision stage, {len(images)} shapes images, {platform.machine()}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print(f"{'modules':<28}{'batched img/s':>15}{'one-by-one img/s':>18}{'speed-up':>10}")
    rows = [["tags"], ["attributes"], ["captions"], ["tags", "attributes", "captions"]]
    all_batched = 0.0
    for names_ in rows:
        b = timed(64, names_)
        o = timed(1, names_)
        if len(names_) == 3:
            all_batched = b
        print(
            f"{'+'.join(names_):<28}{len(images) / b:>15.1f}{len(images) / o:>18.1f}{o / b:>9.1f}x"
        )

    if args.calls <= 0:
        return
    from snellen.llm import ChatRequest, load_model

    llm = load_model(args.model, engine=args.engine)
    prompter = Prompter.for_mode("vqa")
    batch = ImageBatch(["0"], images[:1])
    caps = modules["captions"].run(batch)[0].texts
    reqs = [
        ChatRequest(
            messages=[
                {"role": "system", "content": "Answer the question with a single word or number."},
                {"role": "user", "content": prompter.fill({"captions": caps}, items[i].question)},
            ],
            temperature=0.0,
            max_tokens=10,
            seed=i,
        )  # fmt: skip
        for i in range(args.calls)
    ]
    start = time.perf_counter()
    llm.chat_many(reqs)
    per_call = (time.perf_counter() - start) / len(reqs)
    vision_per_image = all_batched / len(images)
    total = vision_per_image + per_call
    print(
        f"\n# cost per question ({args.model}, {args.calls} calls, engine {llm.describe().get('engine', '-')})"
    )
    print(
        f"vision modules (batched)   {1000 * vision_per_image:8.1f} ms  {100 * vision_per_image / total:5.1f}%"
    )
    print(f"reasoner (one call)        {1000 * per_call:8.1f} ms  {100 * per_call / total:5.1f}%")


if __name__ == "__main__":
    main()
