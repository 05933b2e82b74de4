"""Procedurally generated shape concepts with reference programs in five languages.

>>> from snellen.concepts.shapes import generate_shapes, hard_negatives
>>> concepts = generate_shapes(10, seed=0)
>>> sorted(concepts[0].programs)
['matplotlib', 'processing', 'svg', 'tikz', 'turtle']
"""

from snellen.concepts.shapes.describe import describe
from snellen.concepts.shapes.generate import (
    SPLITS,
    concept_from_spec,
    generate_shapes,
    in_split,
    iter_shapes,
    programs_for,
)
from snellen.concepts.shapes.geometry import build_scene
from snellen.concepts.shapes.negatives import hard_negatives, negative_specs
from snellen.concepts.shapes.spec import colour_pairs, is_heldout_pair
from snellen.concepts.shapes.vocab import ATTRIBUTE_KINDS

__all__ = [
    "ATTRIBUTE_KINDS",
    "SPLITS",
    "build_scene",
    "colour_pairs",
    "concept_from_spec",
    "describe",
    "generate_shapes",
    "hard_negatives",
    "in_split",
    "is_heldout_pair",
    "iter_shapes",
    "negative_specs",
    "programs_for",
]
