"""LENS's prompts: four modes as templates a user can override, the modules each mode needs,
and few-shot examples.

The modes follow the public LENS code (``vqa``, ``vision``, ``hm``, ``all``), with one fix:
there the ``hm`` prompt printed the attributes under a second "Tags:" heading; here every
field sits under its own name. A template is a Python format string over the fields
``{tags} {attributes} {captions} {caption} {ocr} {question}``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from snellen.errors import InputError

OCR_LINE = 'OCR: this is an image with written "{ocr}" on it\n'
TEMPLATES: dict[str, str] = {
    "vqa": "Captions: {captions}\nQuestion: {question}\nShort Answer:",
    "vision": "Tags: {tags}\nAttributes: {attributes}\nQuestion: {question}\nShort Answer:",
    "hm": "Tags: {tags}\nAttributes: {attributes}\nCaption: {caption}\n"
    + OCR_LINE
    + "Question: {question}\nShort Answer:",
    "all": "Tags: {tags}\nAttributes: {attributes}\nCaptions: {captions}\n"
    + OCR_LINE
    + "Question: {question}\nShort Answer:",
}
BLIND_TEMPLATE = "Question: {question}\nShort Answer:"
# the paper's module choice per task
TASK_MODES = {"classify": "vision", "vqa": "vqa", "binary": "hm"}
FIELDS = ("tags", "attributes", "captions", "caption", "ocr", "question")
FIELD_MODULE = {"tags": "tags", "attributes": "attributes", "captions": "captions",
                "caption": "captions", "ocr": "ocr"}  # fmt: skip


def template_fields(template: str) -> list[str]:
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise InputError(
            f"prompt template uses unknown field(s) {', '.join(unknown)}; "
            f"available: {', '.join(FIELDS)}"
        )
    return names


@dataclass(frozen=True)
class Prompter:
    """Fills a mode's template from an image's module texts and the question."""

    mode: str
    template: str

    @classmethod
    def for_mode(cls, mode: str, template: str | Path | None = None) -> Prompter:
        if template is not None:
            text = Path(template).read_text() if Path(str(template)).is_file() else str(template)
            template_fields(text)
            return cls(mode, text)
        if mode not in TEMPLATES:
            raise InputError(f"unknown LENS mode {mode!r}; use one of {', '.join(TEMPLATES)}")
        return cls(mode, TEMPLATES[mode])

    def modules(self) -> list[str]:
        """The vision modules this template needs."""
        out: list[str] = []
        for f in template_fields(self.template):
            m = FIELD_MODULE.get(f)
            if m and m not in out:
                out.append(m)
        return out

    def fill(self, texts: Mapping[str, Sequence[str]], question: str) -> str:
        captions = list(texts.get("captions", ()))
        return self.template.format(
            tags=", ".join(texts.get("tags", ())),
            attributes=", ".join(texts.get("attributes", ())),
            # the intensive captions are the sampled ones; with none, the beam caption
            captions=", ".join(captions[1:] or captions[:1]),
            caption=captions[0] if captions else "",
            ocr=" ".join(texts.get("ocr", ())),
            question=question,
        )

    def with_shots(
        self, query: str, shots: Sequence[tuple[Mapping[str, Sequence[str]], str, str]]
    ) -> str:
        """``query`` after K solved examples (module texts, question, answer)."""
        blocks = [f"{self.fill(t, q)} {a}" for t, q, a in shots]
        return "\n\n".join([*blocks, query])


def blind_prompter() -> Prompter:
    return Prompter("blind", BLIND_TEMPLATE)
