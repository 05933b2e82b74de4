"""The official VQA accuracy and a binary AUC, torchmetrics-style with functional twins.

VQA accuracy (Antol et al.; ``vqaEval.py`` of the VQA evaluation tools): a predicted answer is
normalised (newlines and tabs to spaces, punctuation, number words to digits, articles
dropped, contractions restored); each of the 10 human answers is left out in turn and the
prediction scores ``min(#matching remaining answers / 3, 1)``; the ten scores are averaged.
As in the official code, the human answers are normalised only for punctuation, and only
when they disagree (the annotation files already hold normalised answers).

>>> vqa_accuracy(["Two"], [["2"] * 10])
1.0
>>> round(vqa_accuracy(["red"], [["red", "red"] + ["blue"] * 8]), 4)
0.6
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "VQAAccuracy",
    "BinaryAUC",
    "binary_auc",
    "normalize_answer",
    "process_digit_article",
    "process_punctuation",
    "vqa_accuracy",
    "vqa_score",
]

# number words, articles and contractions exactly as the official evaluation lists them
NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip
ARTICLES = ("a", "an", "the")
PUNCT = (
    ";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@",
    "`", ",", "?", "!",
)  # fmt: skip
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")
# "word without apostrophe" -> "word with apostrophe", as the official table has it
_CONTRACTION_TABLE = """
aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've
couldnt've couldn't've|didnt didn't|doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've
hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|he'dve he'd've|hes he's
howd how'd|howll how'll|hows how's|Id've I'd've|I'dve I'd've|Im I'm|Ive I've|isnt isn't|itd it'd
itd've it'd've|it'dve it'd've|itll it'll|let's let's|maam ma'am|mightnt mightn't
mightnt've mightn't've|mightn'tve mightn't've|mightve might've|mustnt mustn't|mustve must've
neednt needn't|notve not've|oclock o'clock|oughtnt oughtn't|ow's'at 'ow's'at|'ows'at 'ow's'at
'ow'sat 'ow's'at|shant shan't|shed've she'd've|she'dve she'd've|she's she's|shouldve should've
shouldnt shouldn't|shouldnt've shouldn't've|shouldn'tve shouldn't've|somebody'd somebodyd
somebodyd've somebody'd've|somebody'dve somebody'd've|somebodyll somebody'll
somebodys somebody's|someoned someone'd|someoned've someone'd've|someone'dve someone'd've
someonell someone'll|someones someone's|somethingd something'd|somethingd've something'd've
something'dve something'd've|somethingll something'll|thats that's|thered there'd
thered've there'd've|there'dve there'd've|therere there're|theres there's|theyd they'd
theyd've they'd've|they'dve they'd've|theyll they'll|theyre they're|theyve they've|twas 'twas
wasnt wasn't|wed've we'd've|we'dve we'd've|weve we've|werent weren't|whatll what'll
whatre what're|whats what's|whatve what've|whens when's|whered where'd|wheres where's
whereve where've|whod who'd|whod've who'd've|who'dve who'd've|wholl who'll|whos who's
whove who've|whyll why'll|whyre why're|whys why's|wont won't|wouldve would've|wouldnt wouldn't
wouldnt've wouldn't've|wouldn'tve wouldn't've|yall y'all|yall'll y'all'll|y'allll y'all'll
yall'd've y'all'd've|y'alld've y'all'd've|y'all'dve y'all'd've|youd you'd|youd've you'd've
you'dve you'd've|youll you'll|youre you're|youve you've
"""
CONTRACTIONS = dict(
    pair.split(" ") for line in _CONTRACTION_TABLE.splitlines() for pair in line.split("|") if pair
)


def process_punctuation(text: str) -> str:
    """The official punctuation step: a mark next to a space (or any text with a digit comma
    digit) is removed, otherwise replaced by a space; periods not inside numbers go."""
    out = text
    glued = _COMMA_STRIP.search(text) is not None
    for p in PUNCT:
        if (p + " " in text or " " + p in text) or glued:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_STRIP.sub("", out)


def process_digit_article(text: str) -> str:
    """Lower case; number words to digits; articles dropped; contractions restored."""
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in ARTICLES]
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def normalize_answer(answer: str) -> str:
    """A predicted answer as the official evaluation compares it."""
    answer = answer.replace("\n", " ").replace("\t", " ").strip()
    return process_digit_article(process_punctuation(answer))


def vqa_score(prediction: str, human_answers: Sequence[str]) -> float:
    """The VQA accuracy of one prediction against its human answers (usually 10)."""
    if not human_answers:
        raise ValueError("a VQA question needs at least one human answer")
    pred = normalize_answer(prediction)
    gts = list(human_answers)
    if len(set(gts)) > 1:
        gts = [process_punctuation(a) for a in gts]
    total = 0.0
    for i in range(len(gts)):
        matches = sum(1 for j, a in enumerate(gts) if j != i and a == pred)
        total += min(1.0, matches / 3.0)
    return total / len(gts)


class VQAAccuracy:
    """Mean official VQA accuracy over the questions seen by :meth:`update` (0..1);
    :meth:`compute` also reports it per answer type when types are given."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.scores: list[float] = []
        self.types: list[str] = []

    def update(
        self,
        predictions: Sequence[str],
        human_answers: Sequence[Sequence[str]],
        answer_types: Sequence[str] | None = None,
    ) -> None:
        if len(predictions) != len(human_answers):
            raise ValueError(
                f"{len(predictions)} predictions but {len(human_answers)} answer lists"
            )
        self.scores += [vqa_score(p, a) for p, a in zip(predictions, human_answers, strict=True)]
        self.types += list(answer_types) if answer_types is not None else [""] * len(predictions)

    def compute(self) -> dict[str, float | int | dict[str, float]]:
        n = len(self.scores)
        by_type: dict[str, list[float]] = {}
        for s, t in zip(self.scores, self.types, strict=True):
            if t:
                by_type.setdefault(t, []).append(s)
        return {
            "accuracy": sum(self.scores) / n if n else float("nan"),
            "n": n,
            "per_answer_type": {t: sum(v) / len(v) for t, v in sorted(by_type.items())},
        }


def vqa_accuracy(predictions: Sequence[str], human_answers: Sequence[Sequence[str]]) -> float:
    """Functional twin of :class:`VQAAccuracy`: the mean official VQA accuracy (0..1)."""
    metric = VQAAccuracy()
    metric.update(predictions, human_answers)
    return float(metric.compute()["accuracy"])  # type: ignore[arg-type]


def binary_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half); NaN when
    only one class is present."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # average ranks over ties
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j) / 2 + 1
        rank_sum += avg_rank * sum(1 for k in range(i, j + 1) if pairs[k][1])
        i = j + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


class BinaryAUC:
    """ROC AUC and accuracy (threshold 0.5 on the scores) over all updates."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.scores: list[float] = []
        self.labels: list[int] = []

    def update(self, scores: Sequence[float], labels: Sequence[int]) -> None:
        self.scores += [float(s) for s in scores]
        self.labels += [int(y) for y in labels]

    def compute(self) -> dict[str, float | int]:
        n = len(self.labels)
        correct = sum(
            int((s >= 0.5) == bool(y)) for s, y in zip(self.scores, self.labels, strict=True)
        )
        return {
            "auc": binary_auc(self.scores, self.labels),
            "accuracy": correct / n if n else float("nan"),
            "n": n,
        }
