"""NegCLIP fine-tuning through `snellen train-clip --negclip`: POS-swap hard negative
captions, nearest-neighbour hard negative images, a NegCLIP TSV in the released format, and
the three model families (snellen-shapes, open_clip, transformers CLIP) saved so their
scorer loads them."""

from __future__ import annotations

import random

import pytest
import torch

from evaluate_helpers import make_open_clip, shape_image
from snellen.cli import main
from snellen.clip.pos import pos_tags
from snellen.errors import InputError
from snellen.evaluate.negclip import (
    NegClipConfig,
    finetune,
    noun_phrases,
    pos_negatives,
    swap_negatives,
)
from snellen.score import load_scorer


def test_swap_negatives_swap_two_words_of_one_part_of_speech_or_two_noun_phrases():
    caption = "a red circle above a blue square"
    tags = pos_tags([caption])[0]
    negs = swap_negatives(caption, tags, random.Random(0), k=5)
    assert negs and caption not in negs and len(set(negs)) == len(negs)
    for neg in negs:
        a, b = caption.split(), neg.split()
        assert sorted(a) == sorted(b)
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2:  # one word for another of its part of speech
            i, j = diff
            assert {tags[i][1][:2], tags[j][1][:2]} in ({"NN"}, {"JJ"}, {"RB"}, {"VB"})
        else:  # the two noun phrases exchanged
            assert neg == "a blue square above a red circle"
    assert "a blue circle above a red square" in negs or "a red square above a blue circle" in negs
    assert "a blue square above a red circle" in negs
    assert pos_negatives(["one"], seed=0) == [[]]  # nothing to swap


def test_noun_phrases_end_in_a_noun_and_keep_their_words():
    caption = "A little girl holding a kitten next to a blue fence."
    tags = pos_tags([caption])[0]
    words = [w for w, _ in tags]
    spans = noun_phrases(tags)
    assert [" ".join(words[a:b]) for a, b in spans] == ["A little girl", "a kitten", "a blue fence"]
    # the shipped NegCLIP data holds this very swap for this caption
    negs = swap_negatives(caption, tags, random.Random(1), k=12)
    assert "a blue fence holding a kitten next to A little girl." in negs


def _tsv(tmp_path, n=8):
    (tmp_path / "coco" / "val2014").mkdir(parents=True)
    rows = ["\ttitle\tfilepath\tneg_caption\tneg_image"]
    colours, shapes = ["red", "blue", "green"], ["circle", "square"]
    for i in range(n):
        c, s = colours[i % 3], shapes[i % 2]
        path = f"coco/val2014/COCO_val2014_{i:012d}.jpg"
        shape_image(c, s, offset=i).save(tmp_path / path)
        neg = [f"a {s} {c}", f"a {c} {shapes[1 - i % 2]}"]
        rows.append(f"{i}\ta {c} {s}\t{path}\t{neg!r}\t{[(i + 1) % n, (i + 2) % n, (i + 3) % n]!r}")
    tsv = tmp_path / "negclip.tsv"
    tsv.write_text("\n".join(rows) + "\n")
    return tsv


def test_snellen_shapes_finetunes_on_the_cpu_and_loads_as_a_scorer(tmp_path):
    out = tmp_path / "negclip.pt"
    assert main(["train-clip", "--negclip", "--init", "snellen-shapes", "--n-train", "48",
                 "--batch-size", "16", "--epochs", "1", "--out", str(out)]) == 0  # fmt: skip
    tuned = load_scorer(f"snellen-shapes:{out}", device="cpu")
    base = load_scorer("snellen-shapes", device="cpu")
    texts = ["a red circle", "a blue square above a green triangle"]
    assert not torch.allclose(tuned.embed_texts(texts), base.embed_texts(texts))
    from snellen.clip.model import load_checkpoint

    info = load_checkpoint(str(out))[2]
    assert info["steps"] == 3 and info["negclip_config"]["hard_images"] == 3
    assert info["examples"][0][1]  # a POS-swap negative was made for the first caption


def test_open_clip_finetunes_from_a_negclip_tsv(tmp_path):
    name, *_ = make_open_clip(tmp_path)
    tsv = _tsv(tmp_path)
    result = finetune(
        NegClipConfig(
            init=name,
            source=str(tsv),
            root=str(tmp_path),
            n_train=8,
            batch_size=4,
            epochs=1,
            lr=1e-3,
            warmup_steps=1,
            device="cpu",
        ),  # fmt: skip
        tmp_path / "tuned.pt",
        log=None,
    )
    assert result.steps == 2 and result.scorer and result.scorer.endswith("tuned.pt")
    tuned = load_scorer(result.scorer, device="cpu")
    before = load_scorer(name, device="cpu")
    assert not torch.allclose(
        tuned.embed_texts(["a red circle"]), before.embed_texts(["a red circle"])
    )


def test_hf_clip_finetunes(tmp_path):
    from test_score_loading import _tiny_hf

    model, processor = _tiny_hf("clip")
    model.save_pretrained(tmp_path / "base")
    processor.save_pretrained(tmp_path / "base")
    tsv = _tsv(tmp_path, n=6)
    result = finetune(
        NegClipConfig(
            init=f"hf-clip:{tmp_path / 'base'}",
            source=str(tsv),
            root=str(tmp_path),
            n_train=6,
            batch_size=3,
            epochs=1,
            lr=1e-3,
            warmup_steps=1,
            device="cpu",
        ),  # fmt: skip
        tmp_path / "tuned",
        log=None,
    )
    tuned = load_scorer(result.scorer or "", device="cpu")
    assert tuned.embed_texts(["a red circle"]).shape == (1, 16)


def test_bad_tsv_and_model_say_what_to_do(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("title\tfilepath\nx\ty.jpg\n")
    with pytest.raises(InputError, match="needs the columns"):
        finetune(NegClipConfig(source=str(bad), n_train=2), log=None)
    with pytest.raises(InputError, match="cannot fine-tune"):
        finetune(NegClipConfig(init="mystery-model"), log=None)


def test_lock_image_trains_the_text_tower_only(tmp_path):
    from snellen.clip.model import load_checkpoint
    from snellen.score.shapes import shipped_weights

    result = finetune(
        NegClipConfig(n_train=16, batch_size=8, epochs=1, lock_image=True, warmup_steps=1, lr=1e-3),
        tmp_path / "locked.pt",
        log=None,
    )
    assert result.steps == 2
    tuned, _, _ = load_checkpoint(str(tmp_path / "locked.pt"))
    base, _, _ = load_checkpoint(str(shipped_weights()))
    for (name, a), (_, b) in zip(
        tuned.visual.state_dict().items(), base.visual.state_dict().items(), strict=True
    ):
        if a.is_floating_point():
            assert torch.allclose(a, b), name
    assert not all(
        torch.allclose(a, b)
        for a, b in zip(tuned.text.parameters(), base.text.parameters(), strict=True)
    )


def test_a_killed_fine_tune_resumes_to_the_same_weights(tmp_path):
    """SIGKILL mid-run, the same command again: it continues from the saved state and ends
    with the weights an uninterrupted run ends with, bit for bit."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from snellen.clip.model import load_checkpoint
    from snellen.evaluate.negclip import resume_path

    def args(out):
        return ["train-clip", "--negclip", "--n-train", "48", "--batch-size", "16",
                "--epochs", "5", "--warmup-steps", "2", "--lr", "1e-3", "--threads", "1",
                "--save-every", "1", "--out", str(out)]  # fmt: skip

    clean = tmp_path / "clean.pt"
    assert main(args(clean)) == 0
    out = tmp_path / "killed.pt"
    state = resume_path(out)
    src = str(Path(__import__("snellen").__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "snellen", *args(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists() and not out.exists(), "the run ended before it could be killed"
    saved = torch.load(state, weights_only=False)["loop"]["step"]
    assert 1 <= saved < 15

    lines: list[str] = []
    result = finetune(
        NegClipConfig(n_train=48, batch_size=16, epochs=5, warmup_steps=2, lr=1e-3, threads=1,
                      save_every=1),
        out, log=lines.append,
    )  # fmt: skip
    assert any(f"resumed from {state} at step {saved}/15" in line for line in lines)
    assert result.steps == 15 and not state.exists()
    a, b = load_checkpoint(str(clean))[0], load_checkpoint(str(out))[0]
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    # another run's settings never silently continue a state
    state.write_bytes(b"")
    with pytest.raises(InputError, match="delete it to start over"):
        finetune(NegClipConfig(n_train=48, batch_size=16), out, log=None)


def test_the_control_fine_tunes_without_hard_negatives(tmp_path):
    from snellen.clip.model import load_checkpoint

    out = tmp_path / "ft.pt"
    result = finetune(
        NegClipConfig(
            n_train=16, batch_size=8, epochs=1, negatives="none", hard_images=0, warmup_steps=1
        ),
        out,
        log=None,
    )
    assert result.steps == 2
    info = load_checkpoint(str(out))[2]
    assert info["examples"][0][1] == []  # no hard negative caption was made
    with pytest.raises(InputError, match="use auto, pos or none"):
        finetune(NegClipConfig(n_train=4, negatives="nope"), log=None)


def test_swap_kinds_can_be_chosen():
    caption = "a red circle above a blue square"
    words_only = pos_negatives([caption], seed=0, k=8, kinds=("noun", "adjective"))[0]
    assert words_only and "a blue square above a red circle" not in words_only
    phrases = pos_negatives([caption], seed=0, k=8, kinds=("noun phrase",))[0]
    assert phrases == ["a blue square above a red circle"]
    with pytest.raises(InputError, match="use some of noun, adjective"):
        pos_negatives([caption], seed=0, kinds=("clause",))


def test_a_scorer_without_a_trainable_view_says_which_can_be_fine_tuned(tmp_path):
    from test_score_siglip_dino import _dinov2

    _dinov2(tmp_path)
    with pytest.raises(InputError, match=r"cannot fine-tune 'dinov2:.*': fine-tune snellen-shapes"):
        finetune(NegClipConfig(init=f"dinov2:{tmp_path}", n_train=4, device="cpu"), log=None)
