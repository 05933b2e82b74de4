"""Prompt templates of the check-up tasks, and how a concept is phrased inside them.

The defaults follow the paper (``write code in the programming language [LANG] that draws a
[CONCEPT]``). Every template is a :meth:`str.format` string with named fields; a user can
replace any of them with a JSON file of ``{"name": "template"}`` (``--prompts FILE``).
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from snellen.errors import InputError
from snellen.languages import LANGUAGES

# Fields each template may (and the first ones must) use.
_FIELDS: dict[str, tuple[str, ...]] = {
    "draw": ("language", "concept"),
    "parametric": ("language", "concept", "variants"),
    "recognize_choice": ("language", "program", "options"),
    "recognize_free": ("language", "program"),
    "feedback": ("language", "concept", "program"),
    "improve": ("language", "concept", "program", "feedback"),
}


@dataclass(frozen=True)
class PromptTemplates:
    """The prompts of all tasks. Fields in braces are filled in per request."""

    draw: str = "write code in the programming language {language} that draws {concept}"
    parametric: str = (
        "write code in the programming language {language} that draws {concept}. "
        "Put every number that shapes the drawing (sizes, positions, proportions, counts, "
        "colours) in a named variable at the top of the program, one variable per line, and "
        "draw using only those variables, so that other values of the variables draw a "
        "different {concept}."
    )
    recognize_choice: str = (
        "The following {language} program draws something.\n\n```\n{program}\n```\n\n"
        "What does the drawing depict? Choose one option:\n{options}\n\n"
        "Answer with the letter of the option only."
    )
    recognize_free: str = (
        "The following {language} program draws something.\n\n```\n{program}\n```\n\n"
        "What does the drawing depict? Answer with a short description only."
    )
    feedback: str = (
        "The following {language} program is meant to draw {concept}.\n\n```\n{program}\n```\n\n"
        "Describe what the drawing shows, and say what should change so that it looks more "
        "like {concept}. Do not write code."
    )
    improve: str = (
        "The following {language} program is meant to draw {concept}.\n\n```\n{program}\n```\n\n"
        "Feedback on the drawing:\n{feedback}\n\n"
        "Using this feedback, write an improved program in the programming language "
        "{language} that draws {concept}. Reply with the whole program in one code block."
    )

    def render(self, name: str, **values: object) -> str:
        return getattr(self, name).format(**values)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplates:
        """Defaults, with the templates named in a JSON file replaced."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{p}: no such prompt file; pass a JSON file of templates") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f'{p}: expected a JSON object like {{"draw": "... {{concept}} ..."}}')
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: dict[str, object], source: str = "prompts") -> PromptTemplates:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(
                f"{source}: unknown template(s) {unknown}; known: {', '.join(sorted(names))}"
            )
        for name, text in data.items():
            if not isinstance(text, str):
                raise InputError(f"{source}: template {name!r} must be a string")
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            allowed = set(_FIELDS[name])
            if used - allowed:
                raise InputError(
                    f"{source}: template {name!r} uses unknown field(s) {sorted(used - allowed)}; "
                    f"it may use {{{'}, {'.join(_FIELDS[name])}}}"
                )
            needed = {"concept", "program"} & allowed
            if not needed <= used:
                raise InputError(
                    f"{source}: template {name!r} must contain {{{'}, {'.join(sorted(needed))}}}"
                )
        return cls(**data)  # type: ignore[arg-type]


_DETERMINER = re.compile(
    r"^(a|an|the|one|two|three|four|five|six|seven|eight|nine|ten|some|several|many|\d+|"
    r"in|on|at|inside|against|with|above|below|under|over|near|next|beside|between)\b",
    re.IGNORECASE,
)


def concept_phrase(description: str) -> str:
    """A description as the object of "draws ...": a bare noun gets its article
    ("guitar" -> "a guitar", "apple" -> "an apple"); phrases that already start with a
    determiner, a number or a preposition are left alone."""
    text = " ".join(description.split())
    if not text or _DETERMINER.match(text):
        return text
    article = "an" if text[0].lower() in "aeiou" else "a"
    return f"{article} {text}"


def language_name(language: str) -> str:
    """How a prompt names ``language`` (the language record's ``prompt_name``)."""
    if language in LANGUAGES:
        return LANGUAGES.get(language).prompt_name
    return language
