"""Grammars of the drawing languages, for grammar-constrained drawing.

A constrained model (``snellen checkup --constrain grammar``) can only write a reply that the
grammar of the asked language accepts: one fenced block holding a program in a subset of the
language that snellen's renderers always run. The reply then measures what the model knows
about how a thing looks, apart from whether it can write the language.

Each grammar is GBNF text (what llama.cpp and xgrammar read; :mod:`snellen.llm.gbnf` reads
it too). The subsets are written so that every sentence renders:

* **processing**: ``setup()`` with ``size()`` and an optional ``draw()``; background,
  fill/stroke/noFill/noStroke/strokeWeight, ellipse, circle, rect, line, triangle, quad, arc,
  point, beginShape/vertex/endShape, translate/rotate/scale inside balanced
  ``pushMatrix()``/``popMatrix()``, ``for`` loops (loop variables ``i`` and ``j``, at most
  two deep), numeric expressions with ``width``, ``height``, ``PI``, ``sin``, ``cos``, ...
  Division only by a positive literal, so no integer division by zero.
* **svg**: an ``<svg>`` root with rect, circle, ellipse, line, polygon, polyline, path, text
  and nested ``<g>`` groups, with fill, stroke, stroke-width, opacity and transform.
* **tikz**: a ``tikzpicture`` of ``\\draw``/``\\fill``/``\\filldraw`` paths (lines, cycles,
  rectangles, circles, ellipses, arcs) with colour and width options.
* **matplotlib**: a figure and axes, patches (Circle, Rectangle, Ellipse, Polygon), plot and
  fill of point lists, limits, equal aspect, axis off.
* **turtle**: one turtle with forward/back/left/right/goto/circle/pen and fill calls and
  ``for`` loops (two deep).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from snellen.errors import InputError
from snellen.languages import LANGUAGES, part, with_part
from snellen.llm.gbnf import Gbnf, parse_gbnf

CONSTRAINTS = ("none", "grammar")

# -- shared pieces -----------------------------------------------------------------------
_NUMBERS = r"""
uint ::= "0" | [1-9] [0-9]{0,3}
unum ::= uint ("." [0-9]{1,3})?
num ::= "-"? unum
pos ::= [1-9] [0-9]{0,3} ("." [0-9]{1,3})?
dim ::= [1-9] [0-9]{1,2}
"""

_CSS_COLOURS = (
    "black", "white", "red", "green", "blue", "yellow", "orange", "purple", "pink", "brown",
    "gray", "grey", "cyan", "magenta", "lime", "navy", "teal", "olive", "maroon", "gold",
    "silver", "skyblue", "darkgreen", "lightblue", "lightgray", "violet", "indigo", "tan",
    "beige", "coral", "salmon", "khaki", "crimson", "turquoise", "none",
)  # fmt: skip
_TIKZ_COLOURS = (
    "black", "white", "red", "green", "blue", "yellow", "orange", "purple", "pink", "brown",
    "gray", "cyan", "magenta", "lime", "olive", "teal", "violet", "darkgray", "lightgray",
)  # fmt: skip
_MPL_COLOURS = tuple(c for c in _CSS_COLOURS if c not in ("none", "grey"))
# the colour names Tk knows (turtle checks them): white is one, but draws nothing on white
_TURTLE_COLOURS = tuple(
    c for c in _MPL_COLOURS if c not in ("lime", "teal", "olive", "silver", "indigo", "crimson")
)


def _choice(words: tuple[str, ...] | list[str]) -> str:
    return " | ".join(f'"{w}"' for w in words)


# -- Processing ----------------------------------------------------------------------------
_PROCESSING_MAX_DEPTH = 3  # statement nesting below setup()/draw()
_LOOP_VARS = ("i", "j")


@cache
def processing_grammar() -> str:
    lines = [
        r'root ::= "```processing\n" setup draw? "```"',
        r'setup ::= "void setup() {\n  size(" dim ", " dim ");\n" stmt-1 "}\n"',
        r'draw ::= "\nvoid draw() {\n" stmt-1 "}\n"',
        'colour ::= "#" hex hex hex hex hex hex',
        "hex ::= [0-9A-F]",
        'const ::= "width" | "height" | "PI" | "TWO_PI" | "HALF_PI" | "QUARTER_PI"',
        'fn1 ::= "sin" | "cos" | "radians" | "sqrt" | "abs"',
        'op ::= " + " | " - " | " * "',
    ]
    # Expressions, one family per set of loop variables in scope.
    scopes = [(), ("i",), ("i", "j")]
    for scope in scopes:
        s = _scope_name(scope)
        names = ["const", *[f'"{v}"' for v in scope]]
        lines += [
            f'expr-{s} ::= term-{s} (op term-{s} | " / " pos)*',
            f'term-{s} ::= "-"? atom-{s}',
            f'atom-{s} ::= unum | {" | ".join(names)} | fn1 "(" expr-{s} ")" | "(" expr-{s} ")"',
            f'args2-{s} ::= expr-{s} ", " expr-{s}',
            f'args4-{s} ::= args2-{s} ", " args2-{s}',
            f'args6-{s} ::= args4-{s} ", " args2-{s}',
            f'args8-{s} ::= args4-{s} ", " args4-{s}',
            f'col-{s} ::= colour | expr-{s} | args2-{s} ", " expr-{s} | args4-{s}',
            f"call-{s} ::= "
            + " | ".join(
                [
                    f'"background(" col-{s} ")"',
                    f'"fill(" col-{s} ")"',
                    f'"stroke(" col-{s} ")"',
                    '"noFill()"',
                    '"noStroke()"',
                    '"strokeWeight(" unum ")"',  # a negative width throws
                    f'"ellipse(" args4-{s} ")"',
                    f'"circle(" args2-{s} ", " expr-{s} ")"',
                    f'"rect(" args4-{s} ")"',
                    f'"line(" args4-{s} ")"',
                    f'"triangle(" args6-{s} ")"',
                    f'"quad(" args8-{s} ")"',
                    f'"arc(" args6-{s} ")"',
                    f'"point(" args2-{s} ")"',
                ]
            ),
            f'transform-{s} ::= "translate(" args2-{s} ")" | "rotate(" expr-{s} ")" '
            f'| "scale(" expr-{s} ")"',
        ]
    # Statements, one family per depth and scope.
    for depth in range(1, _PROCESSING_MAX_DEPTH + 1):
        for scope in scopes:
            if len(scope) > depth - 1:
                continue
            s = _scope_name(scope)
            ind = "  " * depth
            name = f"{depth}-{s}" if depth > 1 else "1"
            alts = [f'"{ind}" call-{s} ";\\n"', f"shape-{name}"]
            if depth < _PROCESSING_MAX_DEPTH:
                inner_scope = (*scope, _LOOP_VARS[len(scope)]) if len(scope) < 2 else None
                keep = f"{depth + 1}-{s}"
                alts.append(
                    f'"{ind}pushMatrix();\\n" ("{ind}  " transform-{s} ";\\n")* stmt-{keep} '
                    f'"{ind}popMatrix();\\n"'
                )
                if inner_scope is not None:
                    v = inner_scope[-1]
                    inner = f"{depth + 1}-{_scope_name(inner_scope)}"
                    alts.append(
                        f'"{ind}for (int {v} = 0; {v} < " [1-9] [0-9]? "; {v}++) {{\\n" '
                        f'stmt-{inner} "{ind}}}\\n"'
                    )
            lines.append(f"stmt-{name} ::= ({' | '.join(alts)})*")
            # a shape: vertices, or a loop of vertices when a loop variable is free
            vert = f'"{ind}  vertex(" args2-{s} ");\\n"'
            shape_alts = [vert]
            if len(scope) < 2:
                v = _LOOP_VARS[len(scope)]
                vs = _scope_name((*scope, v))
                shape_alts.append(
                    f'"{ind}  for (int {v} = 0; {v} < " [1-9] [0-9]? "; {v}++) {{\\n" '
                    f'("{ind}    vertex(" args2-{vs} ");\\n")+ "{ind}  }}\\n"'
                )
            lines.append(
                f'shape-{name} ::= "{ind}beginShape();\\n" ({" | ".join(shape_alts)})+ '
                f'"{ind}endShape(" ("CLOSE")? ");\\n"'
            )
    return "\n".join(lines) + "\n" + _NUMBERS


def _scope_name(scope: tuple[str, ...]) -> str:
    return "".join(scope) or "0"


# -- SVG -------------------------------------------------------------------------------------
_SVG_DEPTH = 3


@cache
def svg_grammar() -> str:
    lines = [
        r'root ::= "```svg\n" svg "\n```"',
        r'svg ::= "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" dim "\" height=\"" dim '
        r'"\" viewBox=\"0 0 " dim " " dim "\">\n" elems-1 "</svg>"',
        f"cname ::= {_choice(_CSS_COLOURS)}",
        "hex ::= [0-9a-f]",
        'paint ::= cname | "#" hex hex hex hex hex hex | "rgb(" uint "," uint "," uint ")"',
        r'style ::= (" fill=\"" paint "\"")? (" stroke=\"" paint "\"")? '
        r'(" stroke-width=\"" unum "\"")? (" opacity=\"0." [0-9] "\"")?',
        r'transform ::= " transform=\"" tpart (" " tpart)* "\""',
        'tpart ::= "translate(" num "," num ")" | "rotate(" num ")" | "scale(" unum ")"',
        r'a ::= "=\"" num "\""',
        r'pa ::= "=\"" unum "\""',
        r'points ::= " points=\"" num "," num (" " num "," num)+ "\""',
        r'd ::= " d=\"M" num " " num (" " seg)* (" Z")? "\""',
        'seg ::= "L" num " " num | "H" num | "V" num | "Q" num " " num " " num " " num '
        '| "C" num " " num " " num " " num " " num " " num '
        '| "A" unum " " unum " 0 " [01] " " [01] " " num " " num',
        "word ::= [A-Za-z0-9]+",
        r'shape ::= "<rect x" a " y" a " width" pa " height" pa (" rx" pa)? style transform? "/>" '
        r'| "<circle cx" a " cy" a " r" pa style transform? "/>" '
        r'| "<ellipse cx" a " cy" a " rx" pa " ry" pa style transform? "/>" '
        r'| "<line x1" a " y1" a " x2" a " y2" a style transform? "/>" '
        r'| "<polygon" points style transform? "/>" '
        r'| "<polyline" points style transform? "/>" '
        r'| "<path" d style transform? "/>" '
        r'| "<text x" a " y" a (" font-size" pa)? style ">" word (" " word)* "</text>"',
    ]
    for depth in range(1, _SVG_DEPTH + 1):
        ind = "  " * depth
        alts = [f'"{ind}" shape "\\n"']
        if depth < _SVG_DEPTH:
            alts.append(f'"{ind}<g" style transform? ">\\n" elems-{depth + 1} "{ind}</g>\\n"')
        lines.append(f"elems-{depth} ::= ({' | '.join(alts)})*")
    return "\n".join(lines) + "\n" + _NUMBERS


# -- TikZ ----------------------------------------------------------------------------------
@cache
def tikz_grammar() -> str:
    lines = [
        r'root ::= "```latex\n\\begin{tikzpicture}\n" cmd+ "\\end{tikzpicture}\n```"',
        r'cmd ::= "  \\" ("draw" | "fill" | "filldraw") opts? " " path ";\n"',
        r'opts ::= "[" opt (", " opt)* "]"',
        f"colour ::= {_choice(_TIKZ_COLOURS)}",
        r'opt ::= colour | "fill=" colour | "draw=" colour | "thick" | "very thick" | "thin" '
        r'| "line width=" unum "pt" | "rounded corners" | "dashed"',
        'point ::= "(" num "," num ")"',
        r'path ::= point (" -- " point)+ (" -- cycle")? '
        r'| point " rectangle " point '
        r'| point " circle (" pos ")" '
        r'| point " ellipse (" pos " and " pos ")" '
        r'| point " arc (" num ":" num ":" pos ")"',
    ]
    # coordinates within +-10 cm keep every picture a sane page size
    numbers = r"""
unum ::= [0-9] ("." [0-9]{1,2})?
num ::= "-"? unum
pos ::= ("0." [1-9] | [1-9] ("." [0-9])?)
"""
    return "\n".join(lines) + "\n" + numbers


# -- matplotlib ----------------------------------------------------------------------------
@cache
def matplotlib_grammar() -> str:
    lines = [
        r'root ::= "```python\n" head stmt* tail "```"',
        r'head ::= "import matplotlib.pyplot as plt\nfrom matplotlib.patches import Circle, '
        r'Ellipse, Polygon, Rectangle\n\nfig, ax = plt.subplots(figsize=(" [2-8] ", " [2-8] "))\n"',
        r'tail ::= "ax.set_xlim(" num ", " num ")\nax.set_ylim(" num ", " num ")\n'
        r'ax.set_aspect(\"equal\")\nax.axis(\"off\")\nplt.show()\n"',
        f"cname ::= {_choice(_MPL_COLOURS)}",
        r'colour ::= "\"" (cname | "#" hex hex hex hex hex hex) "\""',
        "hex ::= [0-9a-f]",
        r'kw ::= (", color=" colour)? (", alpha=0." [1-9])? (", linewidth=" [1-5])?',
        r'pt ::= "(" num ", " num ")"',
        r'pts ::= "[" pt (", " pt)+ "]"',
        r'n2 ::= num ", " num',
        r'n3 ::= n2 ", " num',
        r'stmt ::= "ax.add_patch(" patch ")\n" '
        r'| "ax.plot([" n2 "], [" n2 "]" kw ")\n" '
        r'| "ax.plot([" n3 "], [" n3 "]" kw ")\n" '
        r'| "ax.plot(*zip(*" pts ")" kw ")\n"',
        r'patch ::= "Circle(" pt ", " pos kw ")" '
        r'| "Rectangle(" pt ", " pos ", " pos kw ")" '
        r'| "Ellipse(" pt ", " pos ", " pos kw ")" '
        r'| "Polygon(" pts ", closed=True" kw ")"',
    ]
    return "\n".join(lines) + "\n" + _NUMBERS


# -- turtle --------------------------------------------------------------------------------
@cache
def turtle_grammar() -> str:
    lines = [
        r'root ::= "```python\nimport turtle\n\nt = turtle.Turtle()\nt.speed(0)\n" '
        r'stmt-0* "turtle.done()\n```"',
        f"cname ::= {_choice(_TURTLE_COLOURS)}",
        r'call ::= "t.forward(" num ")" | "t.back(" num ")" | "t.left(" num ")" '
        r'| "t.right(" num ")" | "t.goto(" num ", " num ")" | "t.circle(" pos ")" '
        r'| "t.penup()" | "t.pendown()" | "t.pensize(" [1-9] ")" '
        r'| "t.color(\"" cname "\")" | "t.fillcolor(\"" cname "\")" '
        r'| "t.begin_fill()" | "t.end_fill()" | "t.setheading(" num ")"',
    ]
    for depth in range(3):
        ind = "    " * depth
        alts = [f'"{ind}" call "\\n"']
        if depth < 2:
            count = "[1-9] [0-9]?" if depth == 0 else "[1-9]"  # nested loops stay short
            alts.append(f'"{ind}for _ in range(" {count} "):\\n" stmt-{depth + 1}+')
        lines.append(f"stmt-{depth} ::= {' | '.join(alts)}")
    return "\n".join(lines) + "\n" + _NUMBERS


_TEXT: dict[str, str] = {}


def grammar_text(language: str) -> str:
    """The GBNF grammar of ``language`` (a language snellen renders; its record in
    :mod:`snellen.languages` names the function that writes it)."""
    name = LANGUAGES.canonical(language) if language in LANGUAGES else None
    if name is None or not LANGUAGES.get(name).grammar:
        raise InputError(
            f"no drawing grammar for {language!r}; grammars exist for "
            f"{', '.join(with_part('grammar'))}"
        )
    if name not in _TEXT:
        make: Callable[[], str] = part(name, "grammar")
        _TEXT[name] = make()
    return _TEXT[name]


def drawing_grammar(language: str) -> Gbnf:
    """The parsed grammar of ``language`` (to recognise, complete or sample replies)."""
    return parse_gbnf(grammar_text(language))


def check_constraint(constraint: str | None) -> str:
    """``none`` or ``grammar``; a clear error otherwise."""
    value = (constraint or "none").strip().lower()
    if value not in CONSTRAINTS:
        raise InputError(
            f"unknown constraint {constraint!r}; choose one of {', '.join(CONSTRAINTS)}"
        )
    return value


def finish_reply(grammar: str, text: str) -> str:
    """A constrained reply made whole: ``text`` when the grammar accepts it, else its longest
    viable prefix completed the shortest way (a reply the token limit cut off)."""
    g = parse_gbnf(grammar)
    return text if g.accepts(text) else g.complete(text)


# -- the engines' grammar objects ------------------------------------------------------------
_LLAMA: dict[str, object] = {}


def llama_grammar(text: str) -> object:
    """``text`` as llama-cpp-python's ``LlamaGrammar`` (built once per process)."""
    if text not in _LLAMA:
        from llama_cpp import LlamaGrammar

        _LLAMA[text] = LlamaGrammar.from_string(text, verbose=False)
    return _LLAMA[text]


class GrammarProcessors:
    """Builds a transformers logits processor per generation that keeps the reply inside a
    GBNF grammar (xgrammar's token-mask matcher); compiled grammars are kept per text."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: list[int]) -> None:
        import xgrammar as xgr

        info = xgr.TokenizerInfo.from_huggingface(
            tokenizer, vocab_size=vocab_size, stop_token_ids=stop_ids or None
        )
        self._compiler = xgr.GrammarCompiler(info)
        self._compiled: dict[str, object] = {}

    def processor(self, text: str) -> object:
        """A fresh logits processor for one ``generate()`` call (they hold the parse state)."""
        import xgrammar as xgr
        from xgrammar.contrib.hf import LogitsProcessor

        if text not in self._compiled:
            self._compiled[text] = self._compiler.compile_grammar(xgr.Grammar.from_ebnf(text))
        return LogitsProcessor(self._compiled[text])  # type: ignore[arg-type]
