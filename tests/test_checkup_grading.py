"""Recognition grading: reading which option a reply chose, and ranking free answers."""

from __future__ import annotations

import pytest

from snellen.checkup.grading import (
    clean_free_answer,
    format_options,
    parse_choice,
    rank_percentile,
)
from snellen.checkup.prompts import PromptTemplates, concept_phrase
from snellen.errors import InputError

OPTIONS = ["a guitar", "an apple", "a red circle", "a violin"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("B", 1),
        ("b", 1),
        ("(C)", 2),
        ("D.", 3),
        ("**B**", 1),
        ("Answer: C", 2),
        ("The answer is (d).", 3),
        ("Option B", 1),
        ("B) an apple", 1),
        ("C. a red circle", 2),
        ("A", 0),
        ("A) a guitar", 0),
        ("a guitar", 0),
        ("It is an apple.", 1),
        ("I think the drawing shows a violin.", 3),
        ("red circle", 2),
        ("2", 1),
        ("Option 4", 3),
        ("The answer is 3", 2),
        ("A drawing of a guitar", 0),
    ],
)
def test_parse_choice_reads_common_answer_shapes(reply: str, expected: int) -> None:
    assert parse_choice(reply, OPTIONS) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        "E",  # not an option
        "a guitar or an apple",  # two options named
        "I do not know",
        "7",  # out of range
        "A drawing",  # the article, not a letter
        "The answer is (B) or (C)",
    ],
)
def test_parse_choice_refuses_to_guess(reply: str) -> None:
    assert parse_choice(reply, OPTIONS) is None


def test_parse_choice_prefers_the_longer_option_when_one_contains_another() -> None:
    options = ["a circle", "a red circle", "a square"]
    assert parse_choice("a red circle", options) == 1
    assert parse_choice("a circle", options) == 0


def test_format_options_letters_each_option() -> None:
    assert format_options(["x", "y"]) == "A) x\nB) y"


def test_rank_percentile() -> None:
    assert rank_percentile([0.9, 0.1, 0.2], 0) == (1, 100.0)
    assert rank_percentile([0.0, 0.1, 0.2], 0) == (3, 0.0)
    assert rank_percentile([0.1, 0.3, 0.0, 0.2, 0.4], 3) == (3, 50.0)
    assert rank_percentile([0.5, 0.5], 0) == (1, 50.0)  # a tie counts half


def test_clean_free_answer_drops_code_and_openings() -> None:
    assert clean_free_answer("The drawing depicts a red house.") == "a red house."
    assert clean_free_answer("```python\nprint(1)\n```\nIt shows a boat") == "a boat"


def test_concept_phrase_adds_articles_only_to_bare_nouns() -> None:
    assert concept_phrase("guitar") == "a guitar"
    assert concept_phrase("apple") == "an apple"
    assert concept_phrase("a row of six cyan squares") == "a row of six cyan squares"
    assert concept_phrase("two red circles") == "two red circles"
    assert concept_phrase("in the corner, a small cube") == "in the corner, a small cube"


def test_templates_validate_fields() -> None:
    t = PromptTemplates.from_dict({"draw": "draw {concept} in {language}, please"})
    assert t.render("draw", concept="a cat", language="SVG") == "draw a cat in SVG, please"
    with pytest.raises(InputError, match="unknown field"):
        PromptTemplates.from_dict({"draw": "draw {thing}"})
    with pytest.raises(InputError, match="must contain"):
        PromptTemplates.from_dict({"draw": "draw something in {language}"})
    with pytest.raises(InputError, match="unknown template"):
        PromptTemplates.from_dict({"paint": "{concept}"})
