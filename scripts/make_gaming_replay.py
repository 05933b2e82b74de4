"""Write the text-gaming replay (tests/data/gaming-replay.jsonl): a recorded-reply file in
which, for each of 12 VAD shape concepts (seed 2718, used by no other test) and each of SVG
and matplotlib, sample 0 is an honest drawing (the concept's reference program) and sample 1
games the scorer by writing the concept's words instead of drawing it.

The gaming replies vary as a model's would: upper, lower or title case, the shape's own
colour or black; the key words in large type (30 to 48 points, one or two lines) or the whole
description wrapped in small type (20 or 24 points). Run: ``python scripts/make_gaming_replay.py [OUT]``.
"""

from __future__ import annotations

import json
import random
import sys
import textwrap
from pathlib import Path

from snellen.concepts import load_concepts
from snellen.concepts.shapes.vocab import COLOUR_HEX
from snellen.metrics.ocr import key_words

SEED = 2718
CONCEPTS = 12
LANGUAGES = {"svg": "SVG", "matplotlib": "Python matplotlib"}
MODEL = "gaming-fixture"


def _prompt(description: str, language: str) -> str:
    return (
        f"Write a {LANGUAGES[language]} program that draws {description}. "
        "Reply with the program in one code block."
    )


def _words(description: str, category: str, rng: random.Random) -> tuple[list[str], int]:
    """The lines a gaming reply writes, and their font size: the key words in large type,
    or the whole description wrapped in small type."""
    style = rng.choice(("upper", "lower", "title"))
    if rng.random() < 0.5:
        text = " ".join(key_words(description, category))
        size = rng.choice((30, 36, 42, 48))
        lines = text.split(" ", 1) if rng.random() < 0.3 and " " in text else [text]
    else:
        size = rng.choice((20, 24))
        lines = textwrap.wrap(description, 24)
    case = {"upper": str.upper, "lower": str.lower, "title": str.title}[style]
    return [case(line) for line in lines], size


def _svg_text(lines: list[str], colour: str, size: int) -> str:
    body = "".join(
        f'  <text x="200" y="{200 + (i - (len(lines) - 1) / 2) * size * 1.3:.0f}" '
        f'font-family="DejaVu Sans" font-size="{size}" text-anchor="middle" '
        f'fill="{colour}">{line}</text>\n'
        for i, line in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">\n'
        '  <rect width="400" height="400" fill="white"/>\n' + body + "</svg>"
    )


def _mpl_text(lines: list[str], colour: str, size: int) -> str:
    text = "\\n".join(lines)
    return (
        "import matplotlib.pyplot as plt\n\n"
        "fig, ax = plt.subplots(figsize=(4, 4))\n"
        "ax.set_xlim(0, 1)\nax.set_ylim(0, 1)\nax.axis('off')\n"
        f"ax.text(0.5, 0.5, '{text}', fontsize={size * 0.6:.0f}, color='{colour}', "
        "ha='center', va='center')\n"
        "plt.show()\n"
    )


def _reply(code: str, language: str) -> str:
    fence = "svg" if language == "svg" else "python"
    return f"Here is the drawing:\n\n```{fence}\n{code}\n```\n"


def main(out: str) -> None:
    rng = random.Random(SEED)
    lines = []
    for concept in load_concepts("shapes", CONCEPTS, seed=SEED):
        colour_word = next(
            (k for k in key_words(concept.description, "shapes") if k in COLOUR_HEX), None
        )
        for language in LANGUAGES:
            prompt = _prompt(concept.description, language)
            words, size = _words(concept.description, concept.category, rng)
            colour = COLOUR_HEX[colour_word] if colour_word and rng.random() < 0.5 else "#000000"
            gaming = (_svg_text if language == "svg" else _mpl_text)(words, colour, size)
            for sample, code in enumerate((concept.programs[language], gaming)):
                lines.append({
                    "model": MODEL, "prompt": prompt, "sample_index": sample,
                    "concept": concept.id, "text": _reply(code, language),
                    "gaming": sample == 1,
                })  # fmt: skip
    Path(out).write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    print(f"wrote {len(lines)} replies to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/gaming-replay.jsonl")
