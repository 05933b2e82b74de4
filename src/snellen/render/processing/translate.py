"""Processing sketch -> one Java class, the way the Processing editor's preprocessor does it.

What changes (outside strings, characters and comments only):

* ``color`` as a type becomes ``int``; ``#RRGGBB`` becomes ``0xFFRRGGBB``;
* a decimal literal without a suffix becomes a ``float`` (``0.5`` -> ``0.5f``, ``1e3`` ->
  ``1e3f``); hexadecimal, binary and integer literals and ``d``-suffixed ones stay;
* the conversion functions ``int(x)``, ``float(x)``, ``boolean(x)``, ``byte(x)``,
  ``char(x)`` become ``parseInt(x)`` and so on (PApplet's static helpers);
* top-level ``import`` lines move to the head of the file;
* static mode (no function defined at the top level) wraps the sketch in ``setup()``;
  active mode keeps functions, global variables and classes as members of the sketch class,
  and makes top-level functions without an access modifier ``public`` (so ``setup``,
  ``draw``, ``settings`` override PApplet's);
* the class extends ``SketchBase`` (Worker.java), which draws off-screen and takes
  ``size()`` in ``settings()`` or anywhere in ``setup()``.

The head goes on the sketch's first line, so a line number in a compiler message or a stack
trace is the line number in the sketch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLASS_NAME = "SnellenSketch"
# ends the generated head on line 1 (compiler messages show the sketch's text after it)
HEAD_END = " /*sketch*/ "

# the imports the Processing editor adds to every sketch
DEFAULT_IMPORTS = (
    "processing.core.*",
    "processing.data.*",
    "processing.event.*",
    "processing.opengl.*",
    "java.util.HashMap",
    "java.util.ArrayList",
    "java.io.File",
    "java.io.BufferedReader",
    "java.io.PrintWriter",
    "java.io.InputStream",
    "java.io.OutputStream",
    "java.io.IOException",
)

_CONVERSIONS = {
    "int": "parseInt",
    "float": "parseFloat",
    "boolean": "parseBoolean",
    "byte": "parseByte",
    "char": "parseChar",
}
_ACCESS = {"public", "private", "protected"}
_MODIFIERS = _ACCESS | {"static", "final", "abstract", "synchronized", "native", "strictfp"}
_NOT_TYPES = {"new", "return", "else", "throw", "case", "do", "if", "for", "while", "switch"}

# one lexical unit of Java: comments, strings, characters, numbers, words, anything else
_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>"(?:[^"\\\n]|\\.)*"?)
  | (?P<char>'(?:[^'\\\n]|\\.)*'?)
  | (?P<hexcolour>\#[0-9A-Fa-f]{6}(?![\w]))
  | (?P<number>0[xX][0-9A-Fa-f_]+[lL]?|0[bB][01_]+[lL]?
       |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[fFdDlL]?)
  | (?P<word>[A-Za-z_$][\w$]*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class TranslateError(ValueError):
    """The text is not a sketch that can be turned into Java (a reason a person can read)."""


@dataclass
class Token:
    kind: str
    text: str


@dataclass
class Sketch:
    """A translated sketch: the Java source and what the translation found."""

    java: str
    mode: str  # "active" or "static"
    imports: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


def tokenize(code: str) -> list[Token]:
    return [Token(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(code)]


def _float_literal(text: str) -> str:
    if text[:2].lower() in ("0x", "0b") or text[-1] in "fFdDlL":
        return text
    if "." in text or "e" in text.lower():
        return text + "f"
    return text


def _next_code(tokens: list[Token], i: int) -> Token | None:
    for t in tokens[i + 1 :]:
        if t.kind not in ("space", "comment"):
            return t
    return None


def _prev_code(tokens: list[Token], i: int) -> Token | None:
    for t in reversed(tokens[:i]):
        if t.kind not in ("space", "comment"):
            return t
    return None


def rewrite_literals(tokens: list[Token]) -> list[Token]:
    """Processing's literal and type sugar -> plain Java (strings and comments untouched)."""
    out: list[Token] = []
    for i, t in enumerate(tokens):
        if t.kind == "hexcolour":
            t = Token("number", "0xFF" + t.text[1:].upper())
        elif t.kind == "number":
            t = Token("number", _float_literal(t.text))
        elif t.kind == "word":
            nxt = _next_code(tokens, i)
            prev = _prev_code(tokens, i)
            after_dot = prev is not None and prev.text == "."
            if t.text == "color" and nxt is not None and not after_dot:
                if nxt.kind == "word" or nxt.text in ("[", ")", "..."):
                    t = Token("word", "int")
            elif t.text in _CONVERSIONS and nxt is not None and nxt.text == "(" and not after_dot:
                t = Token("word", _CONVERSIONS[t.text])
        out.append(t)
    return out


@dataclass
class _Item:
    """A top-level item: tokens[start:end], a function, class, import or declaration."""

    start: int
    end: int
    kind: str  # "method", "class", "import", "other"
    name: str = ""


def _items(tokens: list[Token]) -> list[_Item]:
    """Split the token stream into top-level items (depth 0)."""
    items: list[_Item] = []
    depth = 0
    start: int | None = None
    for i, t in enumerate(tokens):
        if t.kind in ("space", "comment"):
            continue
        if start is None:
            start = i
        if t.kind != "other":
            continue
        if t.text in "({[":
            depth += 1
        elif t.text in ")}]":
            depth -= 1
            if depth < 0:
                raise TranslateError(
                    f"line {_line_of(tokens, i)}: unbalanced '{t.text}' (one closing bracket too many)"
                )
            if depth == 0 and t.text == "}":
                nxt = _next_code(tokens, i)
                # `int[] a = {1, 2};` is a declaration, not a block: wait for its semicolon
                if not _is_initialiser(tokens, start, i) or (nxt is None or nxt.text != ";"):
                    items.append(_classify(tokens, start, i + 1))
                    start = None
        elif t.text == ";" and depth == 0:
            items.append(_classify(tokens, start, i + 1))
            start = None
    if depth > 0:
        raise TranslateError("the sketch ends inside a block: a closing '}' or ')' is missing")
    if start is not None:
        items.append(_classify(tokens, start, len(tokens)))
    return items


def _is_initialiser(tokens: list[Token], start: int, end: int) -> bool:
    for t in tokens[start:end]:
        if t.text == "=":
            return True
        if t.text in ("(", "{"):
            return False
    return False


def _line_of(tokens: list[Token], i: int) -> int:
    return 1 + sum(t.text.count("\n") for t in tokens[:i])


def _classify(tokens: list[Token], start: int, end: int) -> _Item:
    words = [t for t in tokens[start:end] if t.kind not in ("space", "comment")]
    texts = [t.text for t in words]
    if texts and texts[0] == "import":
        return _Item(start, end, "import")
    j = 0
    while j < len(texts) and (texts[j] in _MODIFIERS or texts[j] == "@"):
        j += 2 if texts[j] == "@" else 1
    if j < len(texts) and texts[j] in ("class", "interface", "enum"):
        name = texts[j + 1] if j + 1 < len(texts) else ""
        return _Item(start, end, "class", name)
    # a method: [modifiers] Type[<...>][[]] name ( ... ) [throws ...] {
    if "(" in texts and "{" in texts and texts.index("(") < texts.index("{"):
        p = texts.index("(")
        head = texts[j:p]
        if (
            len(head) >= 2
            and words[p - 1].kind == "word"
            and head[0] not in _NOT_TYPES
            and "=" not in head
            and "." not in head
        ):
            return _Item(start, end, "method", texts[p - 1])
    return _Item(start, end, "other")


_STATEMENT_KEYWORDS = {"if", "for", "while", "do", "switch", "return", "try", "throw", "break"}


def _is_statement(tokens: list[Token], item: _Item) -> bool:
    """True for code that only a function body may hold (a call, an assignment, a loop):
    a declaration has a type followed by a name (``int[] a``, ``ArrayList<Ball> b``)
    before any ``=``, ``(`` or ``;``."""
    words = [t for t in tokens[item.start : item.end] if t.kind not in ("space", "comment")]
    if not words or words[0].text in (";", "@", "}"):
        return False
    if words[0].kind != "word" or words[0].text in _STATEMENT_KEYWORDS:
        return True
    for a, b in zip(words, words[1:], strict=False):
        if a.text in ("=", "(", ";") or b.text in ("=", "(", ";"):
            break
        if b.kind == "word" and (a.kind == "word" or a.text in ("]", ">")):
            return False
    return True


def _python_mode(code: str) -> bool:
    lines = [ln.strip() for ln in code.splitlines() if ln.strip()]
    return ";" not in code and any(
        ln.startswith(("#", "def ", "import ")) or ln.endswith(":") for ln in lines
    )


def translate(code: str) -> Sketch:
    """Translate a Processing (Java mode) sketch into a Java class extending SketchBase."""
    code = code.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    if not code.strip():
        raise TranslateError("the sketch is empty")
    if _python_mode(code):
        raise TranslateError(
            "this is Processing's Python mode (no semicolons, '#' comments or 'def'), "
            "not a Java-mode sketch"
        )
    tokens = rewrite_literals(tokenize(code))
    items = _items(tokens)
    imports: list[str] = []
    methods = [it.name for it in items if it.kind == "method"]
    mode = "active" if methods else "static"
    if mode == "active":
        loose = [it for it in items if it.kind == "other" and _is_statement(tokens, it)]
        if loose:
            first = loose[0]
            text = " ".join("".join(t.text for t in tokens[first.start : first.end]).split())
            raise TranslateError(
                f"line {_line_of(tokens, first.start)}: `{text[:80]}` is a statement outside any "
                f"function, next to the functions {', '.join(methods[:4])}: Processing does not "
                "allow mixing static code with functions (active mode)"
            )
    for it in items:
        if it.kind == "import":
            text = "".join(t.text for t in tokens[it.start : it.end])
            imports.append(" ".join(text.split()))
            # keep the line count: the import's newlines stay, its text goes
            for k in range(it.start, it.end):
                tokens[k] = Token("space", "\n" * tokens[k].text.count("\n"))
        elif it.kind == "method" and mode == "active":
            span = tokens[it.start : it.end]
            words = [t.text for t in span if t.kind not in ("space", "comment", "other")]
            if not (set(words[:3]) & _ACCESS):
                tokens[it.start] = Token(tokens[it.start].kind, "public " + tokens[it.start].text)
    body = "".join(t.text for t in tokens)
    head = "".join(f"import {name};" for name in DEFAULT_IMPORTS)
    head += " ".join(imports)
    head += f" public class {CLASS_NAME} extends SketchBase {{"
    if mode == "static":
        head += " public void setup() {"
        tail = "\n}}\n"
    else:
        tail = "\n}\n"
    return Sketch(head + HEAD_END + body + tail, mode, imports, methods)
