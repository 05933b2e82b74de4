"""`snellen eval zeroshot` and `retrieval` against clip_benchmark itself, on the same
random-init open_clip ViT (saved to disk, loaded by name) and the same small ImageFolder
and Karpathy fixtures: accuracy and recall agree to 1e-6."""

from __future__ import annotations

import pytest
import torch

from evaluate_helpers import make_imagefolder, make_karpathy, make_open_clip
from snellen.datasets import build_dataset
from snellen.evaluate import run_eval
from test_evaluate_metrics import topk_accuracy


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return make_open_clip(tmp_path_factory.mktemp("clip"))


def test_zeroshot_agrees_with_clip_benchmark(tmp_path, tiny_clip):
    from clip_benchmark.metrics import zeroshot_classification as zc
    from sklearn.metrics import balanced_accuracy_score
    from torchvision.datasets import ImageFolder

    name, model, preprocess, tokenizer = tiny_clip
    root = make_imagefolder(tmp_path / "folder", per_class=5)
    ours = run_eval("zeroshot", name, "imagefolder", root, workers=2, batch_size=4,
                    progress=False)  # fmt: skip

    data = build_dataset("imagefolder", root)
    classifier = zc.zero_shot_classifier(
        model, tokenizer, data.classnames, data.templates, "cpu", amp=False
    )
    loader = torch.utils.data.DataLoader(ImageFolder(str(root), transform=preprocess), batch_size=7)
    logits, target = zc.run_classification(model, classifier, loader, "cpu", amp=False)
    (acc1,) = topk_accuracy(logits, target, (1,))
    bal = balanced_accuracy_score(target, logits.argmax(axis=1))
    assert ours.counts["images"] == 15
    assert ours.metrics["acc1"] == pytest.approx(acc1, abs=1e-6)
    assert ours.metrics["mean_per_class_recall"] == pytest.approx(bal, abs=1e-6)
    assert ours.metrics["acc5"] is None  # three classes, as clip_benchmark's NaN


def test_retrieval_agrees_with_clip_benchmark(tmp_path, tiny_clip):
    from clip_benchmark.metrics import zeroshot_retrieval as zr
    from PIL import Image

    name, model, preprocess, tokenizer = tiny_clip
    make_karpathy(tmp_path, "coco_karpathy_test.json", n=12)
    ours = run_eval("retrieval", name, "retrieval/coco", tmp_path, workers=0, progress=False)
    data = build_dataset("retrieval/coco", tmp_path)

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(data.images)

        def __getitem__(self, i):
            return preprocess(Image.open(data.images[i].path).convert("RGB")), data.captions[i]

    def collate(batch):
        images, texts = zip(*batch, strict=True)
        return torch.stack(images), list(texts)

    loader = torch.utils.data.DataLoader(Pairs(), batch_size=5, collate_fn=collate)
    ref = zr.evaluate(model, loader, tokenizer, "cpu", amp=False, recall_k_list=[1, 5, 10])
    assert ours.counts == {"images": 12, "texts": 24, "skipped": 0}
    for key, value in ref.items():
        assert ours.metrics[key] == pytest.approx(value, abs=1e-6), key
    assert 0 < ref["image_retrieval_recall@5"] < 1  # a random model: not a trivial 0 or 1
