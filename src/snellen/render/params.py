"""Numeric parameters of a drawing program, and new programs with sampled values.

The parametric prompt asks the model to put every number that shapes its drawing in a named
variable at the top of the program. This module finds those variables in each language
(Processing ``float w = 120;``, Python ``w = 120``, TikZ ``\\def\\w{1.2}``,
``\\newcommand{\\w}{1.2}``, ``\\pgfmathsetmacro{\\w}{1.2}``) and writes variants of the
program with the values scaled by a random factor. SVG has no variables, so SVG programs
have no parameters.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_NUM = r"(-?(?:\d+\.\d*|\.\d+|\d+))"
_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "processing": [
        re.compile(
            r"^(?:(?:final|static)\s+)*(?:float|int|double|long)\s+(\w+)\s*=\s*"
            + _NUM
            + r"[fFdDlL]?\s*;",
            re.MULTILINE,
        )
    ],
    "python": [re.compile(r"^([A-Za-z_]\w*)\s*=\s*" + _NUM + r"\s*(?:#.*)?$", re.MULTILINE)],
    "tikz": [
        re.compile(r"\\def\s*\\(\w+)\s*\{\s*" + _NUM + r"\s*(?:cm|pt|mm)?\s*\}"),
        re.compile(r"\\newcommand\s*\{?\\(\w+)\}?\s*\{\s*" + _NUM + r"\s*(?:cm|pt|mm)?\s*\}"),
        re.compile(r"\\pgfmathsetmacro\s*\{?\\(\w+)\}?\s*\{\s*" + _NUM + r"\s*\}"),
    ],
}


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    integer: bool
    start: int  # span of the number in the program text
    end: int


def _family(language: str) -> str | None:
    if language in ("matplotlib", "turtle"):
        return "python"
    return language if language in _PATTERNS else None


def _depth_at(code: str) -> list[int]:
    """Brace depth before each character (for Processing: only top-level variables count)."""
    depth, out = 0, []
    for c in code:
        out.append(depth)
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
    return out


def find_parameters(code: str, language: str) -> list[Parameter]:
    """The named numeric variables of a program, in order, each name once (the first)."""
    family = _family(language)
    if family is None or not code:
        return []
    depth = _depth_at(code) if family == "processing" else None
    found: dict[str, Parameter] = {}
    for pattern in _PATTERNS[family]:
        for m in pattern.finditer(code):
            name, text = m.group(1), m.group(2)
            if depth is not None and depth[m.start()] != 0:
                continue
            if name in found:
                continue
            integer = "." not in text and code[m.end(2) : m.end(2) + 1] not in ("f", "F")
            if family == "processing" and re.match(r"\s*(?:final\s+)?(?:float|double)", m.group(0)):
                integer = False
            found[name] = Parameter(name, float(text), integer, m.start(2), m.end(2))
    return sorted(found.values(), key=lambda p: p.start)


def sample_value(p: Parameter, rng: random.Random, spread: float = 0.5) -> float:
    """A new value for ``p``: scaled by a factor in [1 - spread, 1 + spread]; unit-interval
    values (colour fractions, alpha) stay in [0, 1]; positive integers stay >= 1."""
    v = p.value * rng.uniform(1.0 - spread, 1.0 + spread)
    if 0.0 <= p.value <= 1.0 and not p.integer:
        v = min(1.0, max(0.0, v))
    if p.integer:
        v = float(round(v))
        if p.value >= 1:
            v = max(1.0, v)
    return v


def _fmt(value: float, integer: bool) -> str:
    if integer:
        return str(int(value))
    return f"{value:.4g}" if "e" not in f"{value:.4g}" else f"{value:.6f}"


def with_values(code: str, params: list[Parameter], values: dict[str, float]) -> str:
    """The program with the named parameters set to ``values``."""
    out, last = [], 0
    for p in sorted(params, key=lambda q: q.start):
        if p.name not in values:
            continue
        out.append(code[last : p.start])
        out.append(_fmt(values[p.name], p.integer))
        last = p.end
    out.append(code[last:])
    return "".join(out)


def variants(
    code: str, language: str, n: int, seed: int, spread: float = 0.5
) -> list[tuple[str, dict[str, float]]]:
    """``n`` programs: the model's own values first, then ``n - 1`` sampled settings.
    Fewer come back when the program has no parameters (just the original)."""
    params = find_parameters(code, language)
    own = {p.name: p.value for p in params}
    out = [(code, own)]
    if not params:
        return out
    rng = random.Random(seed)  # noqa: S311 - seeded sampling for reproducible data, not security
    for _ in range(n - 1):
        values = {p.name: sample_value(p, rng, spread) for p in params}
        out.append((with_values(code, params, values), values))
    return out
