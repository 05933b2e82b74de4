"""The official VQA accuracy against a faithful port of the official evaluation loop
(``vqaEval.py`` of the VQA evaluation tools: answer dicts, answers mutated in place,
leave-one-out over dict identity) on identical inputs; the binary AUC against scikit-learn."""

from __future__ import annotations

import copy
import random
import re

import pytest

from snellen.metrics.vqa import (
    ARTICLES,
    CONTRACTIONS,
    NUMBER_WORDS,
    PUNCT,
    BinaryAUC,
    VQAAccuracy,
    binary_auc,
    normalize_answer,
    vqa_accuracy,
    vqa_score,
)


class OfficialVQAEval:
    """The official evaluation's accuracy computation, statement for statement (its tables
    are shared; its control flow is not)."""

    def __init__(self) -> None:
        self.contractions = CONTRACTIONS
        self.manualMap = dict(NUMBER_WORDS)
        self.articles = list(ARTICLES)
        self.periodStrip = re.compile(r"(?!<=\d)(\.)(?!\d)")
        self.commaStrip = re.compile(r"(\d)(\,)(\d)")
        self.punct = list(PUNCT)

    def processPunctuation(self, inText):
        outText = inText
        for p in self.punct:
            if (p + " " in inText or " " + p in inText) or (
                re.search(self.commaStrip, inText) is not None
            ):
                outText = outText.replace(p, "")
            else:
                outText = outText.replace(p, " ")
        outText = self.periodStrip.sub("", outText, re.UNICODE)
        return outText

    def processDigitArticle(self, inText):
        outText = []
        tempText = inText.lower().split()
        for word in tempText:
            word = self.manualMap.setdefault(word, word)
            if word not in self.articles:
                outText.append(word)
        for wordId, word in enumerate(outText):
            if word in self.contractions:
                outText[wordId] = self.contractions[word]
        return " ".join(outText)

    def evaluate(self, gts, res):
        accQA = []
        for quesId in gts:
            resAns = res[quesId]["answer"]
            resAns = resAns.replace("\n", " ")
            resAns = resAns.replace("\t", " ")
            resAns = resAns.strip()
            resAns = self.processPunctuation(resAns)
            resAns = self.processDigitArticle(resAns)
            gtAcc = []
            gtAnswers = [ans["answer"] for ans in gts[quesId]["answers"]]
            if len(set(gtAnswers)) > 1:
                for ansDic in gts[quesId]["answers"]:
                    ansDic["answer"] = self.processPunctuation(ansDic["answer"])
            for gtAnsDatum in gts[quesId]["answers"]:
                otherGTAns = [item for item in gts[quesId]["answers"] if item != gtAnsDatum]
                matchingAns = [item for item in otherGTAns if item["answer"] == resAns]
                acc = min(1, float(len(matchingAns)) / 3)
                gtAcc.append(acc)
            accQA.append(float(sum(gtAcc)) / len(gtAcc))
        return accQA


POOL = ["2", "two", "Two.", "red", "Red", "dark red", "the cat", "a cat", "cat", "yes", "no",
        "yes!", "dont know", "don't know", "3,000", "3000", "ten", "10", "t-shirt", "t shirt",
        "black/white", "black white", "none", "0", "it's red", "its red", "man's hat",
        "3.5", "3.5 ", "Yes\n", "new york", "new-york", "(a)", "a", "?", "hot dog", "hotdog"]  # fmt: skip


def _case(rng: random.Random) -> tuple[str, list[str]]:
    k = rng.randint(1, 4)
    choices = rng.sample(POOL, k)
    humans = [rng.choice(choices) for _ in range(10)]
    pred = rng.choice(POOL + [rng.choice(choices)] * 4)
    return pred, humans


def test_matches_the_official_evaluation_on_identical_inputs() -> None:
    rng = random.Random(0)
    cases = [_case(rng) for _ in range(600)]
    cases += [("Two", ["2"] * 10), ("two", ["2"] * 3 + ["3"] * 7), ("the cat.", ["cat"] * 10),
              ("dont", ["don't"] * 10), ("yes", ["yes"] * 2 + ["no"] * 8),
              ("3,000", ["3000"] * 4 + ["3,000"] * 6), ("t-shirt", ["t shirt"] * 5 + ["t-shirt"] * 5)]  # fmt: skip
    gts = {
        i: {"answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1} for k, a in enumerate(h)]}
        for i, (_, h) in enumerate(cases)
    }  # fmt: skip
    res = {i: {"answer": p} for i, (p, _) in enumerate(cases)}
    official = OfficialVQAEval().evaluate(copy.deepcopy(gts), res)
    ours = [vqa_score(p, h) for p, h in cases]
    assert ours == pytest.approx(official, abs=1e-12)
    # the cases exercise every branch: full, partial and zero credit
    assert {0.0, 1.0} <= set(round(x, 6) for x in ours) and any(0 < x < 1 for x in ours)
    metric = VQAAccuracy()
    metric.update([p for p, _ in cases[:300]], [h for _, h in cases[:300]])
    metric.update([p for p, _ in cases[300:]], [h for _, h in cases[300:]])
    assert metric.compute()["accuracy"] == pytest.approx(sum(official) / len(official))
    assert vqa_accuracy([p for p, _ in cases], [h for _, h in cases]) == pytest.approx(
        sum(official) / len(official)
    )


def test_normalisation_steps() -> None:
    assert normalize_answer("Two dogs.") == "2 dogs"
    assert normalize_answer("The  cat") == "cat"
    assert normalize_answer("dont") == "don't"
    assert normalize_answer("3.5") == "3.5"
    assert vqa_score("red", ["red"] * 2 + ["blue"] * 8) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        vqa_score("x", [])


def test_auc_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(1)
    labels = [rng.randint(0, 1) for _ in range(200)]
    scores = [round(rng.random(), 1) + 0.3 * y for y in labels]  # ties on purpose
    assert binary_auc(scores, labels) == pytest.approx(metrics.roc_auc_score(labels, scores))
    m = BinaryAUC()
    m.update(scores[:50], labels[:50])
    m.update(scores[50:], labels[50:])
    got = m.compute()
    assert got["auc"] == pytest.approx(metrics.roc_auc_score(labels, scores))
    assert got["accuracy"] == pytest.approx(
        metrics.accuracy_score(labels, [int(s >= 0.5) for s in scores])
    )
