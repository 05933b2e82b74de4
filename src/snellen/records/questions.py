"""Questions about images: the items of a :class:`~snellen.datasets.VQA` set, which the
dataset layer reads and LENS answers and stores."""

from __future__ import annotations

from dataclasses import dataclass

from snellen.records import Record


@dataclass(frozen=True)
class LensItem(Record):
    """One question about one image. ``answers`` are the human answers (VQA: usually ten),
    the class name (classification) or ``"0"``/``"1"`` (binary); ``label`` is the canonical
    answer (the most common human answer, the class, the binary label)."""

    kind = "lens_item"
    id: str
    image: str
    question: str
    answers: tuple[str, ...]
    label: str
    split: str = "val"
    answer_type: str = ""
    text: str = ""
    question_type: str = ""

    def record_key(self) -> str:
        return f"{self.split}/{self.id}"
